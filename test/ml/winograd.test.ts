// Winograd F(4×4, 3×3) convolutions on wasm against the cpu backend's direct kernels: forward
// (plain and fused with bias and ReLU), input gradient and filter gradient, on geometries that take
// the Winograd path (checked, so no case silently tests the direct one instead).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { convGeometry } from '../../src/ml/kernels/conv-geometry.js';
import { DIRECT_MAX_CHANNELS, directConvOptions, winogradForward } from '../../src/ml/kernels/conv2d.js';
import { winogradFilterGradient } from '../../src/ml/kernels/conv2d-backprop-filter.js';
import { winogradOptions } from '../../src/ml/kernels/winograd.js';
import { assertNoOwnMemory, simdModulePath } from '../../src/ml/kernels/simd-module.js';
import { rand, size, runOn, relativeError, compareWithCpu, type KernelInputs } from './kernel-check.js';

type Pad = 'same' | 'valid' | number[][];
interface Case { name: string; x: [number, number, number, number]; co: number; pad: Pad }

const CASES: Case[] = [
  { name: 'same, 16x16 (whole tiles)', x: [2, 16, 16, 16], co: 32, pad: 'same' },
  { name: 'same, odd sizes 7x9', x: [3, 7, 9, 8], co: 16, pad: 'same' },
  { name: 'valid, 11x7', x: [3, 11, 7, 16], co: 12, pad: 'valid' },
  { name: 'valid, 6x6 (one tile an image)', x: [16, 6, 6, 12], co: 12, pad: 'valid' },
  { name: 'explicit asymmetric padding', x: [2, 9, 10, 8], co: 20, pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  { name: 'Co not a multiple of 8, Ci 4', x: [4, 8, 8, 4], co: 20, pad: 'same' },
  { name: 'wide, 4x4 spatial', x: [16, 4, 4, 64], co: 96, pad: 'same' },
  { name: 'batch 9, 13x13', x: [9, 13, 13, 24], co: 8, pad: 'same' },
  { name: '2x2 outputs, one image', x: [1, 2, 2, 32], co: 16, pad: 'same' },
  // Blocks of tiles sized by the channels (tileBlock: 24 tiles at 48 → 48): 80 tiles, three blocks
  // and a partial last one.
  { name: 'blocks of 24 tiles, 80 tiles', x: [5, 13, 13, 48], co: 48, pad: 'same' },
  // 128 channels in and out together: the filter gradient packs its operands in panels; 60 output
  // channels leave a last panel of 4 (forward and gradient), 68 inputs 17 panels of 4, and 9 tiles
  // a partial pass of the products.
  { name: 'packed panels with a last one of 4 channels', x: [1, 12, 10, 68], co: 60, pad: 'same' },
];

const filterShape = (c: Case): [number, number, number, number] => [3, 3, c.x[3], c.co];
const outShape = (c: Case) => tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(filterShape(c)) as tf.Tensor4D, 1, c.pad as never).shape);
const input = (shape: number[], seed: number) => ({ shape, values: rand(size(shape), seed) });

describe('Winograd 3x3 convolutions on wasm vs the cpu backend', function () {
  // Each case runs wasm once per kernel build (kernel-check.ts), on a machine that may be shared.
  this.timeout(180000);
  before(async () => { await initBackend('wasm'); });
  afterEach(() => {
    winogradOptions.enabled = true; winogradOptions.groupFloats = 1 << 22; winogradOptions.paddedFloats = 1 << 23;
    directConvOptions.maxChannels = DIRECT_MAX_CHANNELS;
  });
  after(async () => { await tf.setBackend('wasm'); });

  const check = async (kernel: string, inputs: KernelInputs, attrs: Record<string, unknown>) => {
    // Small image groups too, so that batches span several groups (and, for the filter gradient,
    // several accumulated partial sums).
    for (const [groupFloats, paddedFloats] of [[1 << 22, 1 << 23], [1, 1]]) {
      winogradOptions.groupFloats = groupFloats!;
      winogradOptions.paddedFloats = paddedFloats!;
      await compareWithCpu(kernel, inputs, attrs, `${kernel}, groups of ${groupFloats} / ${paddedFloats} padded floats`);
    }
  };

  for (const [i, c] of CASES.entries()) {
    const g = convGeometry(c.x, filterShape(c), 1, c.pad as never, undefined, 1);

    it(`forward ${c.name}: Conv2D, and FusedConv2D with bias and ReLU`, async () => {
      assert.ok(winogradForward(g), 'this geometry should take the Winograd path');
      const x = input(c.x, 10 + i), filter = input(filterShape(c), 20 + i), bias = input([c.co], 30 + i);
      const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      await check('Conv2D', { x, filter }, attrs);
      await check('FusedConv2D', { x, filter, bias }, { ...attrs, activation: 'relu' });
      await check('FusedConv2D', { x, filter, bias }, { ...attrs, activation: 'linear' });
      await check('FusedConv2D', { x, filter }, { ...attrs, activation: 'relu' });
    });

    it(`filter gradient ${c.name}`, async () => {
      // Inputs with few channels go to the direct kernel by default; without it they take Winograd,
      // which must stay right for them (a single vector of 4 channels, two of 8).
      if (c.x[3] <= DIRECT_MAX_CHANNELS) directConvOptions.maxChannels = 0;
      assert.ok(winogradFilterGradient(g), 'this geometry should take the Winograd path');
      const dy = outShape(c);
      await check('Conv2DBackpropFilter', { x: input(c.x, 40 + i), dy: input(dy, 50 + i) },
        { strides: 1, pad: c.pad, dataFormat: 'NHWC', filterShape: filterShape(c) });
    });

    it(`input gradient ${c.name}`, async () => {
      const dy = outShape(c);
      // The input gradient is the forward convolution of dy with the flipped filter.
      const back = convGeometry(dy, [3, 3, c.co, c.x[3]], 1, [[0, 0], [2 - g.padTop, 0], [2 - g.padLeft, 0], [0, 0]] as never, undefined, 1);
      assert.ok(winogradForward({ ...back, outH: c.x[1], outW: c.x[2] }), 'this geometry should take the Winograd path');
      await check('Conv2DBackpropInput', { dy: input(dy, 60 + i), filter: input(filterShape(c), 70 + i) },
        { strides: 1, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
    });
  }

  it('1x1 outputs and few channels stay off Winograd (forward: the shipped or direct convolution; filter gradient of few input channels: direct); 2x2 outputs and a single image take it', () => {
    assert.ok(!winogradForward(convGeometry([4, 1, 1, 64], [3, 3, 64, 64], 1, 'same', undefined, 1)));
    assert.ok(!winogradForward(convGeometry([4, 16, 16, 8], [3, 3, 8, 8], 1, 'same', undefined, 1)));
    assert.ok(winogradForward(convGeometry([4, 2, 2, 64], [3, 3, 64, 64], 1, 'same', undefined, 1)));
    assert.ok(winogradForward(convGeometry([1, 8, 8, 64], [3, 3, 64, 64], 1, 'same', undefined, 1)));
    // The filter gradient of inputs with up to DIRECT_MAX_CHANNELS channels stays on the direct kernel.
    assert.ok(!winogradFilterGradient(convGeometry([4, 32, 32, 8], [3, 3, 8, 16], 1, 'same', undefined, 1)));
    assert.ok(winogradFilterGradient(convGeometry([4, 32, 32, 12], [3, 3, 12, 16], 1, 'same', undefined, 1)));
  });

  it('FusedConv2D with what the Winograd epilogue does not compute (elu, PReLU) still matches, through the shipped kernel', async () => {
    const c = CASES[0]!;
    const x = input(c.x, 1), filter = input(filterShape(c), 2), bias = input([c.co], 3);
    await check('FusedConv2D', { x, filter, bias }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'elu' });
    await check('FusedConv2D', { x, filter, bias, preluActivationWeights: input([c.co], 4) },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'prelu' });
  });

  it('Winograd and the direct convolution agree, and each is deterministic to the bit', async () => {
    const c = CASES[1]!;
    const inputs = { x: input(c.x, 5), filter: input(filterShape(c), 6) };
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const a = await runOn('wasm', 'Conv2D', inputs, attrs);
    const b = await runOn('wasm', 'Conv2D', inputs, attrs);
    assert.deepEqual(Buffer.from(a.values.buffer), Buffer.from(b.values.buffer));
    winogradOptions.enabled = false;
    const direct = await runOn('wasm', 'Conv2D', inputs, attrs);
    assert.ok(relativeError(a.values, direct.values) < 1e-4);
  });

  it('leaves no wasm tensors behind', async () => {
    await tf.setBackend('wasm');
    const c = CASES[2]!;
    const before = tf.engine().backend.numDataIds();
    const dy = outShape(c);
    await runOn('wasm', 'Conv2D', { x: input(c.x, 7), filter: input(filterShape(c), 8) }, { strides: 1, pad: c.pad, dataFormat: 'NHWC', dilations: 1 });
    await runOn('wasm', 'Conv2DBackpropFilter', { x: input(c.x, 7), dy: input(dy, 9) }, { strides: 1, pad: c.pad, dataFormat: 'NHWC', filterShape: filterShape(c) });
    await runOn('wasm', 'Conv2DBackpropInput', { dy: input(dy, 9), filter: input(filterShape(c), 8) }, { strides: 1, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
    assert.equal(tf.engine().backend.numDataIds(), before);
  });

  it('the transform module owns no memory (it shares the backend heap), and one that does is refused', () => {
    const built = readFileSync(simdModulePath);
    assert.doesNotThrow(() => assertNoOwnMemory(built));
    // magic, version, then a data section (id 11) holding zero segments
    const withData = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 1, 0]);
    assert.throws(() => assertNoOwnMemory(withData), /data segments/);
  });
});
