// The BatchNormalization layer with the fused training step (wasm) against tfjs-layers' own layer
// computed on the cpu backend: outputs, moving statistics and gradients; inference, fallbacks,
// serialisation and tensor bookkeeping.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { batchNormalization } from '../../src/ml/models/batch-norm.js';
import { BN_TRAIN } from '../../src/ml/kernels/batch-norm-train.js';
import { rand, relativeError } from './kernel-check.js';

const ARGS = { axis: -1, epsilon: 1e-5, momentum: 0.9, gammaInitializer: 'randomNormal', betaInitializer: 'randomNormal' } as const;

interface StepResult { y: Float32Array; mean: Float32Array; variance: Float32Array; dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array }

/** One training-mode step of `layer` on x, with a loss Σ y·w so that every gradient is non-trivial. */
function trainStep(layer: tf.layers.Layer, xv: Float32Array, shape: number[], wv: Float32Array, weights?: tf.Tensor[]): StepResult {
  return tf.tidy(() => {
    const x = tf.tensor(xv, shape);
    layer.build(shape as never);
    if (weights) layer.setWeights(weights);
    const w = tf.tensor(wv, shape);
    const [gamma, beta] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      void g; void b;
      return tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, w)) as tf.Scalar;
    };
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const grads = tf.grads(f)([x, gamma!, beta!]);
    const vGrads = tf.variableGrads(() => f(x, gamma!, beta!), [gamma!, beta!]);
    const weightsNow = layer.getWeights();
    return {
      y: y.dataSync() as Float32Array,
      mean: weightsNow[2]!.dataSync() as Float32Array, variance: weightsNow[3]!.dataSync() as Float32Array,
      dx: grads[0]!.dataSync() as Float32Array,
      dGamma: vGrads.grads[gamma!.name]!.dataSync() as Float32Array, dBeta: vGrads.grads[beta!.name]!.dataSync() as Float32Array,
    };
  });
}

describe('BatchNormalization with the fused training step', function () {
  this.timeout(30000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  // Channel counts in groups of 16, with a tail, and below; statistics over one block of pixels and several.
  for (const shape of [[8, 5, 7, 16], [3, 4, 4, 4], [300, 12], [6, 9, 9, 36]]) {
    it(`matches the stock layer on cpu: outputs, moving statistics, gradients (${shape})`, async () => {
      const n = shape.reduce((a, b) => a * b, 1), c = shape[shape.length - 1]!;
      const xv = rand(n, 11).map((v, i) => v * 3 + (i % c)), wv = rand(n, 12);
      const init = [rand(c, 13).map((v) => 1 + v), rand(c, 14), rand(c, 15), rand(c, 16).map((v) => 1.5 + v)];

      await tf.setBackend('cpu');
      const stock = tf.layers.batchNormalization(ARGS);
      const stockInit = init.map((v) => tf.tensor(v));
      const ref = trainStep(stock, xv, shape, wv, stockInit);
      tf.dispose(stockInit);

      await tf.setBackend('wasm');
      assert.ok(tf.getKernel(BN_TRAIN, 'wasm'), 'the fused kernel is registered on wasm');
      const fused = batchNormalization(ARGS);
      const fusedInit = init.map((v) => tf.tensor(v));
      const before = tf.memory().numTensors;
      const got = trainStep(fused, xv, shape, wv, fusedInit);
      // The stock layer averages the biased batch variance into the moving one; this layer the
      // unbiased one, as PyTorch (n values per channel). trainStep makes three training-mode
      // calls: v = 0.9³·v0 + (1 − 0.9³)·var, var scaled by n/(n − 1) here.
      const perChannel = n / c, kept = 0.9 ** 3;
      ref.variance = ref.variance.map((v, i) => kept * init[3]![i]! + (v - kept * init[3]![i]!) * perChannel / (perChannel - 1));
      for (const k of Object.keys(ref) as (keyof StepResult)[]) {
        const err = relativeError(got[k], ref[k]);
        assert.ok(err < 1e-4, `${k}: relative error ${err}`);
      }
      // Only the layer's four variables are new: no statistics or gradients are left behind.
      assert.equal(tf.memory().numTensors, before + 4);
      tf.dispose(fusedInit);
    });
  }

  it('inference mode, odd channel counts and other axes are the stock computation', async () => {
    await tf.setBackend('wasm');
    for (const [shape, axis] of [[[2, 3, 3, 8], -1], [[2, 3, 3, 6], -1], [[2, 4, 3, 3], 1]] as [number[], number][]) {
      const a = batchNormalization({ ...ARGS, axis }), b = tf.layers.batchNormalization({ ...ARGS, axis });
      const x = tf.tensor(rand(shape.reduce((p, q) => p * q, 1), 21), shape);
      a.build(shape as never);
      b.build(shape as never);
      b.setWeights(a.getWeights());
      for (const training of [false, true]) {
        const ya = a.apply(x, { training }) as tf.Tensor, yb = b.apply(x, { training }) as tf.Tensor;
        assert.ok(relativeError(ya.dataSync() as Float32Array, yb.dataSync() as Float32Array) < 1e-4, `${shape} axis ${axis} training ${training}`);
        tf.dispose([ya, yb]);
      }
      tf.dispose(x);
    }
  });

  it('the moving variance averages the unbiased batch variance (PyTorch running_var), also off the fused path', async () => {
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      for (const shape of [[4, 3, 3, 8], [5, 2, 2, 3]]) {
        const n = shape.reduce((a, b) => a * b, 1), c = shape[3]!;
        const xv = rand(n, 31).map((v, i) => v * 2 + (i % c));
        const layer = batchNormalization(ARGS);
        layer.build(shape as never);
        const x = tf.tensor(xv, shape);
        tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
        const [, , mean, variance] = layer.getWeights().map((w) => w.dataSync());
        for (let ch = 0; ch < c; ch++) {
          const vals = Array.from({ length: n / c }, (_, i) => xv[i * c + ch]!);
          const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
          const unbiased = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / (vals.length - 1);
          // Moving statistics start at mean 0, variance 1; momentum 0.9 (PyTorch's 0.1).
          assert.ok(Math.abs(mean![ch]! - 0.1 * mu) < 1e-5 * Math.max(1, Math.abs(mu)), `${backend} ${shape} mean ${ch}`);
          assert.ok(Math.abs(variance![ch]! - (0.9 + 0.1 * unbiased)) < 1e-5 * (0.9 + 0.1 * unbiased), `${backend} ${shape} variance ${ch}`);
        }
        tf.dispose(x);
      }
    }
    await tf.setBackend('wasm');
  });

  it('serialises as the stock layer (class name and config)', () => {
    const a = batchNormalization({ name: 'bn', ...ARGS }), b = tf.layers.batchNormalization({ name: 'bn', ...ARGS });
    assert.equal(a.getClassName(), 'BatchNormalization');
    assert.deepEqual(a.getConfig(), b.getConfig());
  });
});
