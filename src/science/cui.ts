// The cumulative importance (CUI) of each cut point, as METHOD.md defines it: gradients of the
// pre-softmax logit of the target class with respect to the activations at the cut, averaged per
// channel (α_k), a channel-MEAN weighted map clipped at zero, then its spatial mean per image.
import type * as tfc from '@tensorflow/tfjs';

type Tf = typeof tfc;

/**
 * A network's forward pass in inference mode that can be differentiated at its cut points:
 * `taps[i]`, when given, is added to the output of cut point i before the rest of the network
 * consumes it (zeros leave the forward unchanged; the gradient with respect to a tap is the
 * gradient with respect to that activation). Returns the logits (pre-softmax) and the activation
 * of every cut point, in forward order.
 */
export type TappedForward = (x: tfc.Tensor, taps?: tfc.Tensor[]) => { logits: tfc.Tensor; activations: tfc.Tensor[] };

export type ImportanceTarget = 'label' | 'predicted';

/**
 * Per-image importance at one cut point from its activations A and gradients G (N×H×W×K, or N×K
 * for a flat layer, read as 1×1 maps): α_k = mean_ij G_k; M = max(0, (1/K) Σ_k α_k A_k);
 * value = mean_ij M. Returns one value per image.
 *
 * The reductions run here in float64, not on the backend: α_k is a small remainder of gradients
 * that cancel over the map, and the wasm backend sums float32 in sequence (224×224 terms), which
 * put the early cuts of VGG16 at 224 px 5e-4 away from PyTorch. In float64 every backend gives
 * PyTorch's value to a few 1e-7, the float32 rounding of the activations and gradients themselves.
 */
export function perImageImportance(activations: tfc.Tensor, gradients: tfc.Tensor): Float64Array {
  const shape = activations.shape;
  if (shape.length !== 4 && shape.length !== 2) {
    throw new Error(`importance needs N×H×W×K or N×K activations, got shape [${shape.join(',')}]`);
  }
  if (gradients.shape.join(',') !== shape.join(',')) {
    throw new Error(`gradients of shape [${gradients.shape.join(',')}] for activations of shape [${shape.join(',')}]`);
  }
  const n = shape[0]!, k = shape[shape.length - 1]!;
  const pixels = shape.length === 4 ? shape[1]! * shape[2]! : 1;
  const a = activations.dataSync() as Float32Array, g = gradients.dataSync() as Float32Array;
  const out = new Float64Array(n);
  const alpha = new Float64Array(k);
  for (let img = 0; img < n; img++) {
    const base = img * pixels * k;
    alpha.fill(0);
    for (let p = 0; p < pixels; p++) {
      const row = base + p * k;
      for (let c = 0; c < k; c++) alpha[c]! += g[row + c]!;
    }
    for (let c = 0; c < k; c++) alpha[c]! /= pixels;
    let total = 0;
    for (let p = 0; p < pixels; p++) {
      const row = base + p * k;
      let weighted = 0;
      for (let c = 0; c < k; c++) weighted += alpha[c]! * a[row + c]!;
      if (weighted > 0) total += weighted / k;
    }
    out[img] = total / pixels;
  }
  return out;
}

export interface BatchImportance {
  /** values[cut][image]: the per-image importance of every cut point. */
  values: Float32Array[];
  /** The class each image was scored against. */
  targets: Int32Array;
  /** The network's predicted class of each image. */
  predicted: Int32Array;
}

/**
 * Scores one batch: a forward pass for the activations and predictions, then one backward pass
 * from the target logits to every cut point at once (through zero taps). Images are independent
 * in inference mode, so the gradient of the summed target logits gives each image's own gradient.
 * Disposes everything it creates.
 */
export function importanceOfBatch(
  tf: Tf, forward: TappedForward, x: tfc.Tensor, labels: Int32Array, target: ImportanceTarget,
): BatchImportance {
  const n = x.shape[0]!;
  if (labels.length !== n) throw new Error(`batch of ${n} images has ${labels.length} labels`);
  const first = tf.tidy(() => {
    const { logits, activations } = forward(x);
    return { predictedT: tf.argMax(logits, 1), activations, classes: logits.shape[1]! };
  });
  const predicted = new Int32Array(first.predictedT.dataSync());
  first.predictedT.dispose();
  const targets = target === 'label' ? Int32Array.from(labels) : predicted;
  const values: Float32Array[] = [];
  try {
    tf.tidy(() => {
      const mask = tf.cast(tf.oneHot(tf.tensor1d(targets, "int32"), first.classes), "float32");
      const taps = first.activations.map((a) => tf.zerosLike(a));
      const score = (...t: tfc.Tensor[]): tfc.Scalar => tf.sum(tf.mul(forward(x, t).logits, mask)) as tfc.Scalar;
      const gradients = tf.grads(score)(taps);
      for (let i = 0; i < gradients.length; i++) {
        values.push(Float32Array.from(perImageImportance(first.activations[i]!, gradients[i]!)));
      }
    });
  } finally {
    // Also when the gradient pass runs out of memory: the caller retries with fewer images.
    for (const a of first.activations) a.dispose();
  }
  return { values, targets, predicted };
}

/** Running sums of per-image importance, overall and per class (by the class scored). */
export class ImportanceAccumulator {
  private readonly sum: Float64Array;
  private readonly classSum: Float64Array[];
  private readonly classCount: Float64Array;
  private count = 0;

  constructor(readonly cutCount: number, readonly classes: number) {
    this.sum = new Float64Array(cutCount);
    this.classSum = Array.from({ length: classes }, () => new Float64Array(cutCount));
    this.classCount = new Float64Array(classes);
  }

  /** Adds a batch; `groups` is the class each image belongs to for the per-class curves. */
  add(values: Float32Array[], groups: Int32Array): void {
    if (values.length !== this.cutCount) throw new Error(`expected ${this.cutCount} cut points, got ${values.length}`);
    for (let i = 0; i < groups.length; i++) {
      const cls = groups[i]!;
      this.classCount[cls]! += 1;
      for (let c = 0; c < this.cutCount; c++) {
        const v = values[c]![i]!;
        this.sum[c]! += v;
        this.classSum[cls]![c]! += v;
      }
    }
    this.count += groups.length;
  }

  /** CUI(l): the mean over all images added. */
  overall(): number[] {
    if (this.count === 0) throw new Error('no images were scored');
    return Array.from(this.sum, (s) => s / this.count);
  }

  /** Per-class CUI curves; null for a class with no scored image. */
  perClass(): (number[] | null)[] {
    return this.classSum.map((s, k) => (this.classCount[k]! > 0 ? Array.from(s, (v) => v / this.classCount[k]!) : null));
  }

  get images(): number { return this.count; }
}
