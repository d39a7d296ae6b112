// Convolutions over maps of at most 2×2 pixels as one block-weight product, against the cpu
// backend: forward (plain and fused with bias and ReLU), input gradient (the flipped filter's
// forward convolution, for stride 1) and filter gradient; and the geometries that stay off it.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { convGeometry } from '../../src/ml/kernels/conv-geometry.js';
import { smallMap } from '../../src/ml/kernels/small-map-conv.js';
import { rand, size, compareWithCpu, type KernelInputs } from './kernel-check.js';

interface Case {
  name: string; x: [number, number, number, number]; f: [number, number]; co: number;
  strides: number | [number, number]; pad: 'same' | 'valid';
}

const CASES: Case[] = [
  { name: "2×2 map, 3×3 'same' (VGG16's last block at 32 px)", x: [5, 2, 2, 16], f: [3, 3], co: 24, strides: 1, pad: 'same' },
  { name: "1×1 map, 3×3 'same' (only the centre tap is real)", x: [3, 1, 1, 8], f: [3, 3], co: 12, strides: 1, pad: 'same' },
  { name: "2×1 map, 3×3 'same'", x: [2, 2, 1, 4], f: [3, 3], co: 8, strides: 1, pad: 'same' },
  { name: '2×2 map, 2×2 valid filter to one pixel', x: [4, 2, 2, 8], f: [2, 2], co: 4, strides: 1, pad: 'valid' },
  { name: "2×2 map, 3×3 stride 2 'same' to one pixel", x: [3, 2, 2, 8], f: [3, 3], co: 16, strides: 2, pad: 'same' },
];

const check = (kernel: string, inputs: KernelInputs, attrs: Record<string, unknown>) => compareWithCpu(kernel, inputs, attrs, `${kernel} ${JSON.stringify(attrs)}`);

describe('convolutions over maps of at most 2×2 pixels as one product vs the cpu backend', function () {
  this.timeout(60000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const f: [number, number, number, number] = [c.f[0], c.f[1], c.x[3], c.co];
      const g = convGeometry(c.x, f, c.strides, c.pad, undefined, 1);
      assert.ok(smallMap(g), 'this geometry should take the single product');
      const x = { shape: c.x, values: rand(size(c.x), 900 + i) };
      const filter = { shape: f, values: rand(size(f), 910 + i) };
      const bias = { shape: [c.co], values: rand(c.co, 920 + i) };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      await check('Conv2D', { x, filter }, attrs);
      await check('FusedConv2D', { x, filter, bias }, { ...attrs, activation: 'relu' });
      await check('FusedConv2D', { x, filter, bias }, { ...attrs, activation: 'linear' });
      const dyShape = [c.x[0], g.outH, g.outW, c.co];
      const dy = { shape: dyShape, values: rand(size(dyShape), 930 + i) };
      await check('Conv2DBackpropInput', { dy, filter }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
      await check('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: f });
    });
  }

  it('stays off larger maps, 1×1 filters and channel counts not in fours', () => {
    const takes = (x: number[], f: number[], strides: number, pad: 'same' | 'valid') => smallMap(convGeometry(x, f, strides, pad, undefined, 1));
    assert.equal(takes([2, 4, 4, 16], [3, 3, 16, 16], 1, 'same'), false, '4×4 map: Winograd covers it with one tile');
    assert.equal(takes([2, 2, 2, 16], [1, 1, 16, 16], 1, 'same'), false, '1×1 filter: the pointwise product');
    assert.equal(takes([2, 2, 2, 6], [3, 3, 6, 16], 1, 'same'), false, 'Ci 6: the input gradient would have 6 columns');
    assert.equal(takes([2, 2, 2, 16], [3, 3, 16, 6], 1, 'same'), false, 'Co 6');
    // 2×2 input, 3×3 'same' with stride 2 → one output pixel reading all four: every block real.
    assert.equal(takes([2, 2, 2, 8], [3, 3, 8, 8], 2, 'same'), true);
  });
});
