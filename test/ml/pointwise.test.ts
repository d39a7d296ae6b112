// 1×1 convolutions and dense products on the SIMD GEMM, against the cpu backend: forward (plain and
// fused with bias and ReLU), input gradient (itself a 1×1 convolution), filter gradient, and
// _FusedMatMul.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { convGeometry } from '../../src/ml/kernels/conv-geometry.js';
import { pointwise } from '../../src/ml/kernels/conv2d.js';
import { rand, size, compareWithCpu, type KernelInputs } from './kernel-check.js';

interface Case { name: string; x: [number, number, number, number]; co: number; strides: number | [number, number]; pad: 'same' | 'valid' }

const CASES: Case[] = [
  { name: 's1 valid, Ci 6 (not a multiple of 4)', x: [3, 5, 7, 6], co: 8, strides: 1, pad: 'valid' },
  { name: 's1 same, Co 12 (a 4-column tail)', x: [2, 4, 4, 16], co: 12, strides: 1, pad: 'same' },
  { name: 's2 valid, odd sizes (ResNet downsample)', x: [2, 9, 7, 8], co: 16, strides: 2, pad: 'valid' },
  { name: 's2 same, even sizes', x: [2, 8, 8, 4], co: 8, strides: 2, pad: 'same' },
  { name: 'unequal strides', x: [2, 9, 10, 4], co: 4, strides: [2, 3], pad: 'valid' },
  { name: 'rows not a multiple of 4', x: [1, 3, 3, 32], co: 64, strides: 1, pad: 'valid' },
];

const check = (kernel: string, inputs: KernelInputs, attrs: Record<string, unknown>) => compareWithCpu(kernel, inputs, attrs, `${kernel} ${JSON.stringify(attrs)}`);

describe('1x1 convolutions and dense products on the SIMD GEMM vs the cpu backend', function () {
  this.timeout(60000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const f: [number, number, number, number] = [1, 1, c.x[3], c.co];
      const g = convGeometry(c.x, f, c.strides, c.pad, undefined, 1);
      assert.ok(pointwise(g), 'this geometry should take the GEMM path');
      const x = { shape: c.x, values: rand(size(c.x), 700 + i) };
      const filter = { shape: f, values: rand(size(f), 710 + i) };
      const bias = { shape: [c.co], values: rand(c.co, 720 + i) };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      await check('Conv2D', { x, filter }, attrs);
      await check('FusedConv2D', { x, filter, bias }, { ...attrs, activation: 'relu' });
      const dyShape = [c.x[0], g.outH, g.outW, c.co];
      const dy = { shape: dyShape, values: rand(size(dyShape), 730 + i) };
      await check('Conv2DBackpropInput', { dy, filter }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
      await check('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: f });
    });
  }

  it('_FusedMatMul (a dense layer in inference): bias, ReLU, transposes', async () => {
    // Rank 3, as tf.fused.matMul hands them to the kernel.
    const a = { shape: [1, 5, 12], values: rand(60, 801) }, b = { shape: [1, 12, 8], values: rand(96, 802) };
    const bias = { shape: [8], values: rand(8, 803) };
    await check('_FusedMatMul', { a, b, bias }, { transposeA: false, transposeB: false, activation: 'relu' });
    await check('_FusedMatMul', { a, b, bias }, { transposeA: false, transposeB: false, activation: 'linear' });
    await check('_FusedMatMul', { a, b }, { transposeA: false, transposeB: false, activation: 'relu' });
    const bt = { shape: [1, 8, 12], values: rand(96, 804) };
    await check('_FusedMatMul', { a, b: bt, bias }, { transposeA: false, transposeB: true, activation: 'relu' });
    await check('_FusedMatMul', { a, b, bias }, { transposeA: false, transposeB: false, activation: 'elu' });
  });
});
