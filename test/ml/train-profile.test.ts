import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { splitModel } from '../../src/ml/split.js';
import { profileSplit, summarise } from '../../src/ml/profile.js';

describe('ml/profile', function () {
  this.timeout(60_000);
  // The cpu backend for these shape and bookkeeping tests; the previous one is restored after.
  let previous = '';
  before(async () => { previous = tf.getBackend(); await tf.setBackend('cpu'); });
  after(async () => { if (previous) await tf.setBackend(previous); });

  it('median and spread', () => {
    assert.deepEqual(summarise([3, 1, 2]), { p50: 2, min: 1, max: 3, runs: 3 });
    assert.deepEqual(summarise([4, 1, 2, 3]), { p50: 2.5, min: 1, max: 4, runs: 4 });
  });

  it('times device, server and local computing at batch 1 without leaking tensors', async () => {
    const net = buildNetwork(resolveModelSpec({ arch: 'vgg16', inputSize: 32, inputChannels: 3, classes: 3, width: 1 / 16 }), 0);
    const s = splitModel(net, 'block2_pool', { ratio: 4, expansion: 2 });
    const before = tf.memory().numTensors;
    const p = await profileSplit(s, { warmup: 1, runs: 3 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(p.backend, 'cpu');
    for (const t of [p.device, p.server, p.local]) {
      assert.equal(t.runs, 3);
      assert.ok(t.min > 0 && t.min <= t.p50 && t.p50 <= t.max);
    }
    s.dispose();
    net.dispose();
  });
});
