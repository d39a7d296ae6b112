// The direct SIMD convolution for inputs with few channels and its filter gradient, against the
// cpu backend.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { convGeometry } from '../../src/ml/kernels/conv-geometry.js';
import { directSmallChannels, winogradForward } from '../../src/ml/kernels/conv2d.js';
import { rand, size, compareWithCpu } from './kernel-check.js';

interface Case { name: string; x: [number, number, number, number]; f: [number, number, number, number]; strides: number; pad: 'same' | 'valid' | number[][] }

const CASES: Case[] = [
  { name: 'RGB 3x3 s1 same (ref-cnn, VGG first layer)', x: [3, 10, 9, 3], f: [3, 3, 3, 16], strides: 1, pad: 'same' },
  { name: 'RGB 3x3 s1 same, rows longer than a pixel block', x: [2, 5, 150, 3], f: [3, 3, 3, 8], strides: 1, pad: 'same' },
  { name: 'grey 3x3 s1 valid, Co 12 (a 4-channel tail)', x: [2, 9, 11, 1], f: [3, 3, 1, 12], strides: 1, pad: 'valid' },
  { name: 'RGB 7x7 s2 same (ResNet stem), odd size', x: [2, 17, 15, 3], f: [7, 7, 3, 8], strides: 2, pad: 'same' },
  { name: '4 channels 5x5 s2 valid', x: [2, 13, 12, 4], f: [5, 5, 4, 20], strides: 2, pad: 'valid' },
  { name: 'RGB 1x1 s1', x: [2, 5, 7, 3], f: [1, 1, 3, 4], strides: 1, pad: 'valid' },
  { name: 'explicit padding, 2 channels', x: [2, 6, 7, 2], f: [3, 3, 2, 8], strides: 1, pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
];

describe('direct SIMD convolution for few input channels on wasm vs the cpu backend', function () {
  this.timeout(60000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const g = convGeometry(c.x, c.f, c.strides, c.pad as never, undefined, 1);
      assert.ok(directSmallChannels(g) && !winogradForward(g), 'this geometry should take the direct kernel');
      const x = { shape: c.x, values: rand(size(c.x), 100 + i) };
      const filter = { shape: c.f, values: rand(size(c.f), 200 + i) };
      const bias = { shape: [c.f[3]], values: rand(c.f[3], 300 + i) };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      for (const [kernel, inputs, extra] of [
        ['Conv2D', { x, filter }, {}],
        ['FusedConv2D', { x, filter, bias }, { activation: 'relu' }],
        ['FusedConv2D', { x, filter, bias }, { activation: 'linear' }],
      ] as const) {
        await compareWithCpu(kernel, inputs, { ...attrs, ...extra }, `${kernel} ${JSON.stringify(extra)}`);
      }
      // Its filter gradient, by the same kernel family.
      const dyShape = [c.x[0], g.outH, g.outW, c.f[3]];
      const gradInputs = { x, dy: { shape: dyShape, values: rand(size(dyShape), 400 + i) } };
      const gradAttrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
      await compareWithCpu('Conv2DBackpropFilter', gradInputs, gradAttrs);
    });
  }
});
