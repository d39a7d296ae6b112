// A BatchNormalization layer whose training-mode step is two fused kernels on the wasm backend
// (kernels/batch-norm-train.ts): the batch statistics and the normalisation, then the whole
// gradient, where tfjs-layers runs about fifteen element-wise kernels through tf.moments. The
// moving variance averages the unbiased batch variance, as PyTorch's running_var does (the stock
// layer averages the biased one). Same class name, config and weights as
// tf.layers.batchNormalization, so saved models are unchanged; inference mode and other axes are
// the stock layer's; other backends and channel counts that are not a multiple of 4 compute the
// same step with tfjs ops.
import * as tf from '@tensorflow/tfjs';
import { BN_TRAIN } from '../kernels/batch-norm-train.js';

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type LayerConstructor = new (args: BatchNormArgs) => tf.layers.Layer;

/** tfjs-layers' BatchNormalization class (not exported by name). */
const BatchNormLayer = (tf.layers.batchNormalization({}) as unknown as { constructor: LayerConstructor }).constructor;

interface Variable { read(): tf.Tensor; write(t: tf.Tensor): void }
/** The fields of BatchNormalization this layer reads (protected in tfjs-layers' typings). */
interface BatchNormFields {
  axis: number; epsilon: number; momentum: number;
  gamma: Variable | null; beta: Variable | null; movingMean: Variable; movingVariance: Variable;
}

class FusedTrainingBatchNormalization extends BatchNormLayer {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs);
    const f = this as unknown as BatchNormFields;
    const training = kwargs?.['training'] === true;
    const lastAxis = f.axis === -1 || f.axis === x.rank - 1;
    if (!training || !lastAxis || f.gamma === null || f.beta === null) return super.call(inputs, kwargs);
    const c = x.shape[x.rank - 1]!;
    const fused = x.dtype === 'float32' && c % 4 === 0 && tf.getKernel(BN_TRAIN, tf.getBackend()) !== undefined;
    return tf.tidy(() => {
      let y: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor;
      if (fused) {
        [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma: f.gamma!.read(), beta: f.beta!.read() },
          { epsilon: f.epsilon } as never) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
      } else {
        // The stock layer's training step: batch moments, then the normalisation.
        ({ mean, variance } = tf.moments(x, [...Array(x.rank - 1).keys()]));
        y = tf.batchNorm(x, mean, variance, f.beta!.read(), f.gamma!.read(), f.epsilon);
      }
      // The batch is normalised with the biased variance; the moving variance, as PyTorch's
      // running_var, averages the unbiased one (n/(n − 1) times it, n values per channel).
      const n = x.size / c;
      const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
      // The stock layer's moving averages: v ← v − (v − value)·(1 − momentum).
      for (const [variable, value] of [[f.movingMean, mean], [f.movingVariance, unbiased]] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - f.momentum)));
        });
      }
      return y;
    });
  }
}

/** tf.layers.batchNormalization, with the fused training step where the backend has it. */
export function batchNormalization(args: BatchNormArgs): tf.layers.Layer {
  return new FusedTrainingBatchNormalization(args);
}
