// The importance stage splits its batch where a full-size network would not fit the wasm heap:
// the split must fit, and must not change any image's value.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { largestScoringBatch, networkCost, trainingMemory, WASM_HEAP_BYTES, WASM_HEAP_USABLE } from '../../src/ml/cost-model.js';
import { importanceOfBatch, type TappedForward } from '../../src/science/cui.js';

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
