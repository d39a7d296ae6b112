// The CUI of a tiny linear network whose gradients are known in closed form.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { ImportanceAccumulator, importanceOfBatch, perImageImportance, type TappedForward } from '../../src/science/cui.js';

// Network: x (N×4×4×2) → 1×1 conv W (2→3) = "conv" → 2×2 average pool = "pool" →
// global mean → dense V (3→2) = logits. Every layer is linear, so with y_c the logit of class c:
//   at "pool" (2×2 map): ∂y_c/∂A_k(i,j) = V[k][c] / 4
//   at "conv" (4×4 map): ∂y_c/∂A_k(i,j) = V[k][c] / 16   (the pool tiles the map exactly)
const W = [[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]];     // [in][out]
const V = [[1.0, -2.0], [0.5, 1.0], [-1.5, 0.25]];    // [k][class]
const B = [0.1, -0.2];

function forward(x: tf.Tensor, taps?: tf.Tensor[]): { logits: tf.Tensor; activations: tf.Tensor[] } {
  const tap = (t: tf.Tensor, i: number) => (taps ? tf.add(t, taps[i]!) : t);
  const conv = tap(tf.conv2d(x as tf.Tensor4D, tf.tensor4d(W.flat(), [1, 1, 2, 3]), 1, 'valid'), 0);
  const pool = tap(tf.avgPool(conv as tf.Tensor4D, 2, 2, 'valid'), 1);
  const logits = tf.add(tf.matMul(tf.mean(pool, [1, 2]) as tf.Tensor2D, tf.tensor2d(V)), tf.tensor1d(B));
  return { logits, activations: [conv, pool] };
}

/** The closed-form per-image importance at a cut whose activations are A (H×W×K) and gradient V[k][c]/(H·W). */
function closedForm(a: number[][][], c: number): number {
  const h = a.length, w = a[0]!.length, k = 3;
  const alpha = [0, 1, 2].map((ch) => V[ch]![c]! / (h * w));
  let total = 0;
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    let m = 0;
    for (let ch = 0; ch < k; ch++) m += alpha[ch]! * a[i]![j]![ch]!;
    total += Math.max(0, m / k);
  }
  return total / (h * w);
}

describe('science: CUI', () => {
  before(async () => { await tf.setBackend('cpu'); });

  it('matches the closed form of a linear network at every cut, for label and predicted targets', () => {
    const n = 5;
    const data = Array.from({ length: n * 4 * 4 * 2 }, (_, i) => Math.sin(i * 1.7) * 2 + Math.cos(i * 0.3));
    const x = tf.tensor4d(data, [n, 4, 4, 2]);
    const labels = Int32Array.from([0, 1, 1, 0, 1]);
    const before = tf.memory().numTensors;
    for (const target of ['label', 'predicted'] as const) {
      const result = importanceOfBatch(tf, forward as TappedForward, x, labels, target);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
      const { logitValues, acts } = tf.tidy(() => {
        const { logits, activations } = forward(x);
        return { logitValues: logits.arraySync() as number[][], acts: activations.map((t) => t.arraySync() as number[][][][]) };
      });
      for (let img = 0; img < n; img++) {
        const predicted = logitValues[img]![0]! >= logitValues[img]![1]! ? 0 : 1;
        assert.equal(result.predicted[img], predicted);
        const c = target === 'label' ? labels[img]! : predicted;
        assert.equal(result.targets[img], c);
        for (let cut = 0; cut < 2; cut++) {
          assert.ok(Math.abs(result.values[cut]![img]! - closedForm(acts[cut]![img]!, c)) < 1e-5,
            `${target} cut ${cut} image ${img}: ${result.values[cut]![img]} vs ${closedForm(acts[cut]![img]!, c)}`);
        }
      }
    }
    x.dispose();
  });

  it('reads a flat N×K layer as 1×1 maps and clips negative maps to zero', () => {
    const a = tf.tensor2d([[1, 2], [3, -4]]);
    const g = tf.tensor2d([[1, 1], [1, 1]]);
    const v = Array.from(perImageImportance(a, g));
    assert.deepEqual(v, [1.5, 0]);
    tf.dispose([a, g]);
  });

  it('keeps a gradient mean that cancels over a 224×224 map (float64 reductions, on the wasm backend too)', async () => {
    // α = mean of gradients +1024 over the first half of the map and −1024 over the second, plus
    // 2⁻¹⁰ everywhere (all exact in float32): exactly 2⁻¹⁰. A float32 running sum over the 50,176
    // terms loses it (the wasm backend's tf.mean gave 8.0e-5 for 2·2⁻¹⁰ = 1.95e-3); float64 keeps it.
    const side = 224, n = side * side;
    const grad = new Float32Array(n).map((_, i) => (i < n / 2 ? 1024 : -1024) + 2 ** -10);
    const backend = tf.getBackend();
    await initBackend('wasm');
    try {
      const a = tf.fill([1, side, side, 1], 2), g = tf.tensor4d(grad, [1, side, side, 1]);
      const [v] = perImageImportance(a, g);
      assert.equal(v, 2 * 2 ** -10);
      tf.dispose([a, g]);
    } finally {
      await tf.setBackend(backend);
    }
  });

  it('averages overall and per class', () => {
    const acc = new ImportanceAccumulator(2, 3);
    acc.add([Float32Array.from([1, 2, 3]), Float32Array.from([4, 5, 6])], Int32Array.from([0, 0, 1]));
    assert.deepEqual(acc.overall(), [2, 5]);
    assert.deepEqual(acc.perClass(), [[1.5, 4.5], [3, 6], null]);
    assert.equal(acc.images, 3);
  });
});

describe('science: CUI on a real network', () => {
  it('agrees with the model area\'s gradient helper on a VGG16 (1/16 width) at all 18 cut points', async function () {
    this.timeout(60000);
    const { buildNetwork, resolveModelSpec } = await import('../../src/ml/models/index.js');
    const { cutGradients } = await import('../../src/ml/models/gradients.js');
    await tf.setBackend('cpu');
    const net = buildNetwork(resolveModelSpec({ arch: 'vgg16', width: 0.0625, inputSize: 32, inputChannels: 3, classes: 4 }), 3);
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const labels = Int32Array.from([0, 2, 3]);
    try {
      const forward: TappedForward = (input, taps) => net.forwardWithCuts(input as tf.Tensor4D, { training: false, perturb: taps });
      const ours = importanceOfBatch(tf, forward, x, labels, 'label');
      const theirs = cutGradients(net, x, labels);
      assert.equal(ours.values.length, 18);
      for (let cut = 0; cut < 18; cut++) {
        const e = perImageImportance(theirs.activations[cut]!, theirs.gradients[cut]!);
        for (let i = 0; i < 3; i++) assert.ok(Math.abs(ours.values[cut]![i]! - e[i]!) <= 1e-6 * Math.max(1, Math.abs(e[i]!)), `cut ${cut} image ${i}`);
      }
      tf.dispose([...theirs.activations, ...theirs.gradients, theirs.logits]);
    } finally {
      x.dispose();
      net.dispose();
    }
  });
});
