// The fused Adam kernel against the op sequence it replaces: the same numbers to the bit, on the
// cpu and the wasm backend.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { ADAM_UPDATE } from '../../src/ml/train/adam-update.js';
import { rand } from './kernel-check.js';

/** The op sequence of optimizers.ts. */
function opSequence(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, s: tf.Tensor, a: { beta1: number; beta2: number; c1: number; c2: number; epsilon: number; lr: number }) {
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
    const s2 = tf.add(tf.mul(s, a.beta2), tf.mul(tf.square(g), 1 - a.beta2));
    const update = tf.div(tf.div(m2, a.c1), tf.add(tf.sqrt(tf.div(s2, a.c2)), a.epsilon));
    return [tf.sub(w, tf.mul(update, a.lr)), m2, s2].map((t) => Buffer.from((t.dataSync() as Float32Array).buffer));
  });
}

describe('fused Adam update', function () {
  this.timeout(30000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  for (const backend of ['cpu', 'wasm']) {
    it(`on ${backend}: identical to the op sequence, to the bit`, async () => {
      await tf.setBackend(backend);
      assert.ok(tf.getKernel(ADAM_UPDATE, backend), `no ${ADAM_UPDATE} kernel on ${backend}`);
      for (const [n, t, lr] of [[1, 1, 1e-3], [7, 3, 0.01], [64, 10, 1e-4], [1029, 250, 3e-4]] as const) {
        const w = tf.tensor(rand(n, 1 + n)), g = tf.tensor(rand(n, 2 + n));
        const m = tf.tensor(rand(n, 3 + n).map((x) => x * 0.1)), s = tf.tensor(rand(n, 4 + n).map((x) => x * x * 0.01));
        const attrs = { beta1: 0.9, beta2: 0.999, c1: 1 - 0.9 ** t, c2: 1 - 0.999 ** t, epsilon: 1e-8, lr };
        const want = opSequence(w, g, m, s, attrs);
        const got = tf.engine().runKernel(ADAM_UPDATE, { w, g, m, s }, attrs as never) as unknown as tf.Tensor[];
        assert.equal(got.length, 3);
        got.forEach((x, i) => assert.deepEqual(Buffer.from((x.dataSync() as Float32Array).buffer), want[i], `n=${n} output ${i}`));
        tf.dispose([w, g, m, s, ...got]);
      }
    });
  }
});
