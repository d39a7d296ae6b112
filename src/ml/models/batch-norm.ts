// A BatchNormalization layer whose training-mode step is two fused kernels on the wasm backend
// (kernels/batch-norm-train.ts): the batch statistics and the normalisation, then the whole
// gradient, where tfjs-layers runs about fifteen element-wise kernels through tf.moments. The
// moving averages are updated exactly as the stock layer does. Same class name, config and
// weights as tf.layers.batchNormalization, so saved models are unchanged; inference mode, other
// backends, other axes and channel counts that are not a multiple of 4 are the stock layer's.
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
    const c = x.shape[x.rank - 1]!;
    const fused = training && x.dtype === 'float32' && (f.axis === -1 || f.axis === x.rank - 1) && c % 4 === 0 &&
      f.gamma !== null && f.beta !== null && tf.getKernel(BN_TRAIN, tf.getBackend()) !== undefined;
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x, gamma: f.gamma!.read(), beta: f.beta!.read() },
        { epsilon: f.epsilon } as never) as unknown as tf.Tensor[];
      // The stock layer's moving averages: v ← v − (v − value)·(1 − momentum).
      for (const [variable, value] of [[f.movingMean, mean!], [f.movingVariance, variance!]] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - f.momentum)));
        });
      }
      return y!;
    });
  }
}

/** tf.layers.batchNormalization, with the fused training step where the backend has it. */
export function batchNormalization(args: BatchNormArgs): tf.layers.Layer {
  return new FusedTrainingBatchNormalization(args);
}
