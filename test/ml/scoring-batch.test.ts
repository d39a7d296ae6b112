// The importance stage splits its batch where a full-size network would not fit the wasm heap:
// the split must fit, and must not change any image's value.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { largestScoringBatch, networkCost, trainingMemory, WASM_HEAP_BYTES, WASM_HEAP_USABLE } from '../../src/ml/cost-model.js';
import { importanceOfBatch, type TappedForward } from '../../src/science/cui.js';
import { initBackend } from '../../src/ml/backend.js';
import { OutOfMemoryError } from '../../src/ml/heap.js';
import { scoreInBatches } from '../../src/stages/importance/batches.js';

describe('importance: the scoring batch on the wasm heap', function () {
  this.timeout(120_000);
  before(async () => { await tf.setBackend('cpu'); });

  it('full-width VGG16 and ResNet-50 at 224 px score fewer than 16 images at once, and that many fit', () => {
    for (const arch of ['vgg16', 'resnet50'] as const) {
      const shape = { arch, height: 224, width: 224, inputChannels: 3, classes: 200, widthMultiplier: 1 };
      const n = largestScoringBatch(shape, 16);
      assert.ok(n >= 1 && n < 16, `${arch}: ${n}`);
      const step = (b: number) => trainingMemory(networkCost(shape), { optimizer: 'sgd', momentum: 0, trainableParams: 0, batch: 16, microBatch: b }).totalBytes;
      assert.ok(step(n) <= WASM_HEAP_BYTES * WASM_HEAP_USABLE, `${arch}: ${n} images do not fit`);
      assert.ok(step(n + 1) > WASM_HEAP_BYTES * WASM_HEAP_USABLE, `${arch}: ${n + 1} images would fit too`);
    }
    // A small network keeps the configured batch.
    assert.equal(largestScoringBatch({ arch: 'vgg16', height: 32, width: 32, inputChannels: 3, classes: 10, widthMultiplier: 0.125 }, 16), 16);
  });

  it('a split batch gives every image the same values as one batch', () => {
    const net = buildNetwork(resolveModelSpec({ arch: 'vgg16', inputSize: 32, inputChannels: 3, classes: 4, width: 0.125 }), 2);
    const forward: TappedForward = (x, taps) => net.forwardWithCuts(x as tf.Tensor4D, { training: false, perturb: taps as tf.Tensor4D[] | undefined });
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5);
    const labels = Int32Array.from([0, 1, 2, 3]);
    const whole = importanceOfBatch(tf, forward, x, labels, 'label');
    const halves = [0, 2].map((s) => {
      const part = tf.slice(x, [s, 0, 0, 0], [2, 32, 32, 3]);
      const r = importanceOfBatch(tf, forward, part, labels.subarray(s, s + 2), 'label');
      part.dispose();
      return r;
    });
    whole.values.forEach((perImage, cut) => {
      const split = [...halves[0]!.values[cut]!, ...halves[1]!.values[cut]!];
      perImage.forEach((v, i) => assert.ok(Math.abs(v - split[i]!) <= 1e-6 * Math.max(1, Math.abs(v)), `cut ${cut}, image ${i}: ${v} vs ${split[i]}`));
    });
    x.dispose();
    net.dispose();
  });
});

describe('importance: a batch that still runs out of the wasm heap is scored again in halves', function () {
  this.timeout(120_000);
  let previous = '';
  before(async () => { previous = tf.getBackend(); await initBackend('wasm'); });
  after(async () => { await tf.setBackend(previous); });

  // A real network whose forward also asks, beyond two images, for a tensor of 4 GiB or more: the
  // heap guard refuses that allocation for real (OutOfMemoryError), as it would a full-size
  // network's gradient pass that outgrows the heap.
  function network() {
    const net = buildNetwork(resolveModelSpec({ arch: 'vgg16', inputSize: 32, inputChannels: 3, classes: 4, width: 0.125 }), 2);
    const plain: TappedForward = (x, taps) => net.forwardWithCuts(x as tf.Tensor4D, { training: false, perturb: taps as tf.Tensor4D[] | undefined });
    // In the gradient pass (with taps), after the whole forward: as a full-size network runs out,
    // with the tape holding every activation saved for the backward pass.
    const hungry = (limit: number): TappedForward => (x, taps) => {
      const out = plain(x, taps);
      // A product with N·2³⁰ outputs (N × 4 GiB): refused by the heap guard before it is allocated.
      if (taps !== undefined && x.shape[0]! > limit) tf.matMul(tf.ones([x.shape[0]! * 2 ** 15, 1]), tf.ones([1, 2 ** 15]));
      return out;
    };
    return { net, plain, hungry };
  }

  it('8 images: 8 and 4 do not fit, 2 do; every value equals the one-image scoring; the run says so', async () => {
    const { net, plain, hungry } = network();
    const x = tf.randomNormal([8, 32, 32, 3], 0, 1, 'float32', 7);
    const labels = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
    const chosen = [...labels.keys()];
    const got: Float32Array[][] = [];
    const logs: string[] = [];
    const sizes: number[] = [];
    try {
      const end = await scoreInBatches(chosen, 8, {
        log: (m) => logs.push(m),
        score: async (indices) => {
          sizes.push(indices.length);
          const part = tf.gather(x, Array.from(indices));
          try {
            const r = importanceOfBatch(tf, hungry(2), part, Int32Array.from(indices, (i) => labels[i]!), 'label');
            indices.forEach((_, k) => got.push(r.values.map((perCut) => Float32Array.of(perCut[k]!))));
          } finally {
            part.dispose();
          }
        },
      });
      assert.equal(end, 2);
      assert.deepEqual(sizes, [8, 4, 2, 2, 2, 2]);
      assert.equal(logs.length, 2);
      assert.match(logs[0]!, /a batch of 8 images did not fit the wasm heap \(out of memory on the wasm heap: allocating 32\.0\d GiB.*batches of 4 from here/);
      assert.match(logs[1]!, /a batch of 4 images did not fit.*batches of 2 from here/);
      assert.equal(got.length, 8);
      for (let i = 0; i < 8; i++) {
        const one = tf.slice(x, [i, 0, 0, 0], [1, 32, 32, 3]);
        const alone = importanceOfBatch(tf, plain, one, labels.subarray(i, i + 1), 'label');
        one.dispose();
        alone.values.forEach((perCut, cut) => assert.ok(Math.abs(perCut[0]! - got[i]![cut]![0]!) <= 1e-6 * Math.max(1, Math.abs(perCut[0]!)), `image ${i} cut ${cut}`));
      }
    } finally {
      x.dispose();
      net.dispose();
    }
  });

  it('running out with one image is the error itself, and no tensor is left behind (the aborted passes\' tapes freed)', async () => {
    const { net, hungry } = network();
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 8);
    const before = tf.memory().numTensors;
    try {
      await assert.rejects(scoreInBatches([0, 1], 2, {
        log: () => undefined,
        score: async (indices) => {
          const part = tf.gather(x, Array.from(indices));
          try { importanceOfBatch(tf, hungry(0), part, Int32Array.from([0, 1]).subarray(0, indices.length), 'label'); } finally { part.dispose(); }
        },
      }), OutOfMemoryError);
      assert.equal(tf.memory().numTensors, before, 'tensors left after the failed passes');
    } finally {
      x.dispose();
      net.dispose();
    }
  });
});
