// One training step of the paper networks at full width and 224×224 on wasm (batch 2 in
// micro-batches of 1: the whole step, accumulation and in-place SGD included, within the heap),
// and the same step's arithmetic on wasm against the cpu backend at a reduced size.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { fullSizeTrainer } from '../../src/ml/full-size.js';
import { wasmHeapBytes, WASM_HEAP_LIMIT } from '../../src/ml/heap.js';
import { networkCost, trainingMemory } from '../../src/ml/cost-model.js';

/** A few values of a variable, read through a slice (not the whole 392 MiB fc1 kernel). */
function head(v: tf.Variable, n = 64): Float32Array {
  return tf.tidy(() => tf.slice(v.reshape([-1]), 0, Math.min(n, v.size)).dataSync() as Float32Array);
}

describe('full-size training step on wasm', function () {
  this.timeout(900000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  for (const arch of ['vgg16', 'resnet50'] as const) {
    it(`${arch}, full width at 224×224: batch 2 in micro-batches of 1, within the heap`, () => {
      const t = fullSizeTrainer({ arch, input: 224, batch: 2, microBatch: 1 }, 3);
      try {
        const vars = t.net.model.trainableWeights.map((w) => w.read() as tf.Variable);
        const watched = [vars[0]!, vars[vars.length - 2]!, ...(arch === 'vgg16' ? [vars.find((v) => v.name.includes('fc1') && v.rank === 2)!] : [])];
        const before = watched.map((v) => head(v));
        const tensors = tf.memory().numTensors;
        const heapBefore = wasmHeapBytes()!;
        const loss = t.step(Int32Array.from([0, 1]));
        assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
        watched.forEach((v, i) => assert.notDeepEqual(Array.from(head(v)), Array.from(before[i]!), `${v.name} changed`));
        // Only the momentum buffers stay (one per variable); every gradient was freed.
        assert.equal(tf.memory().numTensors, tensors + vars.length);
        const heap = wasmHeapBytes()!;
        const modelled = trainingMemory(networkCost({ arch, height: 224, width: 224, inputChannels: 3, classes: 1000, widthMultiplier: 1 }),
          { optimizer: 'sgd', batch: 2, microBatch: 1 }).totalBytes;
        assert.ok(heap < WASM_HEAP_LIMIT, `heap ${heap}`);
        // The plan-time model bounds what the step reached: if the heap (which never shrinks, and
        // may hold an earlier test's peak) grew, it grew to no more than the model's figure.
        assert.ok(heap <= Math.max(heapBefore, modelled * 1.15), `heap ${(heap / 2 ** 30).toFixed(2)} GiB vs modelled ${(modelled / 2 ** 30).toFixed(2)} GiB`);
      } finally {
        t.dispose();
      }
    });
  }

  for (const [arch, input] of [['vgg16', 32], ['resnet50', 64]] as const) {
    it(`${arch} at width 0.0625, ${input}×${input}: the step on wasm equals the cpu backend's`, async () => {
      // The update each weight received (after − before): what the step computed, beside the
      // initial values that would otherwise dominate the comparison.
      const updateOfStep = async (backend: string) => {
        await tf.setBackend(backend);
        const t = fullSizeTrainer({ arch, input, width: 0.0625, classes: 5, batch: 4, microBatch: 2 }, 1);
        try {
          const read = () => t.net.model.trainableWeights.map((w) => Float32Array.from((w.read() as tf.Tensor).dataSync() as Float32Array));
          const before = read();
          t.step(Int32Array.from([0, 1, 2, 3]));
          return read().map((after, i) => after.map((v, j) => v - before[i]![j]!));
        } finally {
          t.dispose();
        }
      };
      const ref = await updateOfStep('cpu');
      const got = await updateOfStep('wasm');
      let d = 0, r = 0;
      got.forEach((g, i) => {
        for (let j = 0; j < g.length; j++) { d += (g[j]! - ref[i]![j]!) ** 2; r += ref[i]![j]! ** 2; }
      });
      assert.ok(r > 0, 'the step moved the weights');
      // As in model-gradients.test.ts: judged on the whole update (a pre-activation within float32
      // noise of zero may take the other side of a ReLU on the other backend).
      assert.ok(Math.sqrt(d / r) < 0.05, `relative L2 difference of the updates: ${Math.sqrt(d / r)}`);
    });
  }
});
