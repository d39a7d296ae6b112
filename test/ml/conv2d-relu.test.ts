// The Conv2D layer whose bias + ReLU stays fused while gradients are recorded (wasm) against
// tfjs-layers' own layer computed on the cpu backend: output and the gradients of input, kernel
// and bias; the input's gradient computed only when asked for; fallbacks and serialisation.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { conv2dRelu } from '../../src/ml/models/conv2d-relu.js';
import { CONV_BIAS_RELU } from '../../src/ml/kernels/conv-relu-train.js';
import { rand, relativeError } from './kernel-check.js';

type ConvCase = { shape: [number, number, number, number]; filters: number; kernelSize: number; strides: number; padding: 'same' | 'valid' };

interface StepResult { y: Float32Array; dx: Float32Array; dKernel: Float32Array; dBias: Float32Array }

/** One training-mode pass of `layer` on x, with a loss Σ y·w so that every gradient is non-trivial. */
function trainStep(layer: tf.layers.Layer, c: ConvCase, xv: Float32Array, weights: Float32Array[]): StepResult {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.shape);
    layer.build(c.shape as never);
    layer.setWeights(weights.map((v, i) => tf.tensor(v, layer.getWeights()[i]!.shape)));
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const w = tf.tensor(rand(y.size, 21), y.shape);
    const [kernel, bias] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
    const loss = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, w)) as tf.Scalar;
    const dx = tf.grad(loss)(x);
    const v = tf.variableGrads(() => loss(x), [kernel!, bias!]);
    return {
      y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array,
      dKernel: v.grads[kernel!.name]!.dataSync() as Float32Array, dBias: v.grads[bias!.name]!.dataSync() as Float32Array,
    };
  });
}

const CASES: ConvCase[] = [
  { shape: [4, 9, 9, 3], filters: 8, kernelSize: 3, strides: 1, padding: 'same' }, // a first layer: three channels in
  { shape: [3, 12, 12, 16], filters: 32, kernelSize: 3, strides: 1, padding: 'same' }, // Winograd geometry
  { shape: [2, 11, 11, 8], filters: 12, kernelSize: 3, strides: 2, padding: 'valid' }, // strided, odd size
  { shape: [2, 6, 6, 20], filters: 4, kernelSize: 1, strides: 1, padding: 'same' }, // pointwise
];

describe('Conv2D with bias and ReLU fused in training', function () {
  this.timeout(30000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  for (const c of CASES) {
    it(`matches the stock layer on cpu: output and the gradients of input, kernel and bias (${c.shape} → ${c.filters}, ${c.kernelSize}×${c.kernelSize}/${c.strides} ${c.padding})`, async () => {
      const args = { filters: c.filters, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, activation: 'relu' as const };
      const ci = c.shape[3];
      const xv = rand(c.shape.reduce((a, b) => a * b, 1), 11);
      // Biases of both signs around zero so that the ReLU masks a good share of every channel.
      const weights = [rand(c.kernelSize * c.kernelSize * ci * c.filters, 12).map((v) => v / Math.sqrt(ci)), rand(c.filters, 13).map((v) => v * 0.5)];

      await tf.setBackend('cpu');
      const ref = trainStep(tf.layers.conv2d(args), c, xv, weights);

      await tf.setBackend('wasm');
      assert.ok(tf.getKernel(CONV_BIAS_RELU, 'wasm'), 'the fused kernel is registered on wasm');
      const layer = conv2dRelu(args);
      const before = tf.memory().numTensors;
      const got = trainStep(layer, c, xv, weights);
      const zeros = got.y.filter((v) => v === 0).length;
      assert.ok(zeros > got.y.length * 0.1 && zeros < got.y.length * 0.9, `the ReLU masks part of the output (${zeros} of ${got.y.length} zero)`);
      for (const k of Object.keys(ref) as (keyof StepResult)[]) {
        const err = relativeError(got[k], ref[k]);
        assert.ok(err < 1e-4, `${k}: relative error ${err}`);
      }
      // Only the layer's two variables are new: no gradient or saved tensor is left behind.
      assert.equal(tf.memory().numTensors, before + 2);
    });
  }

  it('runs the fused kernel in training, and computes the input gradient only when asked for', async () => {
    await tf.setBackend('wasm');
    const layer = conv2dRelu({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' });
    const x = tf.tensor4d(rand(2 * 8 * 8 * 4, 31), [2, 8, 8, 4]);
    layer.build(x.shape as never);
    const calls = new Map<string, number>();
    const profile = await tf.profile(() => {
      const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    for (const k of profile.kernels) calls.set(k.name, (calls.get(k.name) ?? 0) + 1);
    assert.equal(calls.get(CONV_BIAS_RELU), 1, [...calls.keys()].join(', '));
    assert.equal(calls.get('SeiReluBiasGrad'), 1);
    assert.equal(calls.get('Conv2DBackpropFilter'), 1);
    assert.equal(calls.get('Conv2DBackpropInput'), undefined, 'x is data: its gradient is never computed');
    for (const unfused of ['Relu', 'Step', 'Add']) assert.equal(calls.get(unfused), undefined, `${unfused} does not run`);
    tf.dispose(x);
  });

  it('other activations, no bias and channel counts not a multiple of 4 are the stock layer; it serialises as the stock layer', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(rand(2 * 6 * 6 * 3, 41), [2, 6, 6, 3]);
    for (const args of [{ filters: 6, kernelSize: 3, activation: 'relu' as const }, { filters: 8, kernelSize: 3, activation: 'relu' as const, useBias: false }]) {
      const layer = conv2dRelu(args);
      const stock = tf.layers.conv2d(args);
      layer.build(x.shape as never);
      stock.build(x.shape as never);
      stock.setWeights(layer.getWeights());
      const profile = await tf.profile(() => (layer.apply(x, { training: true }) as tf.Tensor).dispose());
      assert.ok(!profile.kernels.some((k) => k.name === CONV_BIAS_RELU), `${JSON.stringify(args)}: stock path`);
      const [a, b] = [layer, stock].map((l) => l.apply(x) as tf.Tensor);
      assert.deepEqual(a!.dataSync(), b!.dataSync());
      tf.dispose([a!, b!]);
      assert.equal(layer.getClassName(), 'Conv2D');
      assert.deepEqual({ ...layer.getConfig(), name: '' }, { ...stock.getConfig(), name: '' });
    }
    tf.dispose(x);
  });
});
