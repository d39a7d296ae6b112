// Activations at cut points together with the gradient of one logit per image with respect to
// them, in one forward and one backward pass: what the I-SPLIT importance curve needs. The trick:
// a zero tensor is added at each cut and the gradient is taken with respect to those zeros, which
// equals the gradient with respect to the activation there. Inference mode (BN moving statistics).
import * as tf from '@tensorflow/tfjs';
import type { Network, ReadPoint } from './network.js';

export interface CutGradients {
  /** Per requested cut, N×H×W×C activations. */
  activations: tf.Tensor4D[];
  /** Per requested cut, ∂(logit of each image's target class)/∂activation, N×H×W×C. */
  gradients: tf.Tensor4D[];
  /** N×classes pre-softmax logits. */
  logits: tf.Tensor2D;
  /** The class whose logit was differentiated, per image. */
  targets: Int32Array;
}

/**
 * For a batch `x` (normalised, N×H×W×C), the activations at `cuts` (default all, forward order) and
 * the gradients of y_c, c = `targets[i]` for image i, or the predicted class when `targets` is
 * 'predicted'. Images are independent in inference mode, so summing the chosen logits over the
 * batch gives each image's own gradient. The caller disposes the returned tensors.
 */
export function cutGradients(
  net: Network, x: tf.Tensor4D, targets: Int32Array | 'predicted', cuts: string[] = net.cutPoints, readPoint: ReadPoint = 'post-activation',
): CutGradients {
  const n = x.shape[0];
  let chosen: Int32Array;
  if (targets === 'predicted') {
    const am = tf.tidy(() => tf.argMax(net.forwardWithCuts(x, { cuts: [] }).logits, 1));
    chosen = Int32Array.from(am.dataSync());
    am.dispose();
  } else {
    if (targets.length !== n) throw new Error(`cutGradients: ${targets.length} targets for ${n} images`);
    chosen = targets;
  }
  const zeros = cuts.map((c) => tf.zeros([n, ...net.cutShape(c)]));
  let activations: tf.Tensor4D[] = [];
  let logits: tf.Tensor2D | undefined;
  const classes = net.spec.classes;
  const mask = tf.tidy(() => tf.oneHot(tf.tensor1d(chosen, 'int32'), classes));
  try {
    const { value, grads } = tf.valueAndGrads((...eps: tf.Tensor[]) => {
      const r = net.forwardWithCuts(x, { cuts, perturb: eps, readPoint });
      activations = r.activations.map((a) => tf.keep(a));
      logits = tf.keep(r.logits);
      return tf.sum(tf.mul(r.logits, mask));
    })(zeros);
    value.dispose();
    return { activations, gradients: grads as tf.Tensor4D[], logits: logits!, targets: Int32Array.from(chosen) };
  } finally {
    tf.dispose([...zeros, mask]);
  }
}
