// A whole training step on wasm (with the fast kernels) gives the gradients of the cpu backend.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { relativeError } from './kernel-check.js';

function rand(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

const SHAPES: Record<string, number[]> = {
  c1: [3, 3, 3, 8], b1: [8], g1: [8], be1: [8],
  c2: [3, 3, 8, 12], b2: [12],
  c3: [1, 1, 12, 16],
  c7: [7, 7, 3, 4],
  up: [3, 3, 12, 16],       // conv2dTranspose filter: [h, w, outChannels, inChannels]
  d1: [4 * 4 * 12 + 4 * 4 * 4, 10], db: [10],
};

/** Loss of a small network using every kernel the models need, with stride 1 and 2 paths. */
function loss(v: Record<string, tf.Tensor>, x: tf.Tensor4D, y: tf.Tensor2D): tf.Scalar {
  let h: tf.Tensor4D = tf.relu(tf.add(tf.conv2d(x, v.c1 as tf.Tensor4D, 1, 'same'), v.b1!)) as tf.Tensor4D;  // 16x16x8
  const m = tf.moments(h, [0, 1, 2]);
  h = tf.batchNorm(h, m.mean, m.variance, v.be1 as tf.Tensor1D, v.g1 as tf.Tensor1D, 1e-5) as tf.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');                                                          // 8x8x8
  h = tf.relu(tf.add(tf.conv2d(h, v.c2 as tf.Tensor4D, 2, 'same'), v.b2!)) as tf.Tensor4D;   // 4x4x12
  const up = tf.conv2dTranspose(tf.conv2d(h, v.c3 as tf.Tensor4D, 1, 'valid'), v.up as tf.Tensor4D, [2, 8, 8, 12], 2, 'same'); // 8x8x12
  const pooled = tf.maxPool(tf.relu(up), 2, 2, 'valid');                                     // 4x4x12
  const side = tf.conv2d(x, v.c7 as tf.Tensor4D, 4, 'same');                                 // 4x4x4 (7x7 stride 4)
  const flat = tf.concat([tf.reshape(pooled, [2, -1]), tf.reshape(side, [2, -1])], 1);
  const logits = tf.add(tf.matMul(flat, v.d1 as tf.Tensor2D), v.db!);
  return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
}

async function gradsOn(backend: string): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const vars: Record<string, tf.Tensor> = {};
    let seed = 1;
    for (const [k, shape] of Object.entries(SHAPES)) {
      const n = shape.reduce((a, b) => a * b, 1);
      vars[k] = k === 'g1' ? tf.ones(shape) : tf.tensor(rand(n, seed++, 0.3), shape);
    }
    const x = tf.tensor4d(rand(2 * 16 * 16 * 3, 99), [2, 16, 16, 3]);
    const y = tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10).toFloat() as tf.Tensor2D;
    const names = Object.keys(vars);
    const g = tf.grads((...ts: tf.Tensor[]) => loss(Object.fromEntries(names.map((k, i) => [k, ts[i]!])), x, y))(names.map((k) => vars[k]!));
    return Object.fromEntries(names.map((k, i) => [k, g[i]!.dataSync() as Float32Array]));
  });
}

describe('a training step on wasm matches cpu', function () {
  this.timeout(60000);
  before(async () => { await initBackend('wasm'); });

  it('gradients of every parameter agree within 1e-4 relative error', async () => {
    const ref = await gradsOn('cpu');
    const got = await gradsOn('wasm');
    for (const k of Object.keys(ref)) {
      const err = relativeError(got[k]!, ref[k]!);
      assert.ok(err < 1e-4, `gradient of ${k}: relative error ${err}`);
    }
  });

  it('the same step twice gives bit-identical gradients', async () => {
    const a = await gradsOn('wasm');
    const b = await gradsOn('wasm');
    for (const k of Object.keys(a)) assert.deepEqual(Buffer.from(a[k]!.buffer), Buffer.from(b[k]!.buffer), k);
  });
});
