// The fast wasm kernels against the cpu backend's reference kernels, on random shapes.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { filterGradOptions } from '../../src/ml/kernels/conv2d-backprop-filter.js';
import { inputGradOptions } from '../../src/ml/kernels/conv2d-backprop-input.js';
import { fusedBatchNormGradConfig, stockFusedBatchNormGrad } from '../../src/ml/kernels/gradients.js';
import { rand, size, runOn, relativeError, compareWithCpu } from './kernel-check.js';
import { DIRECT_MAX_CHANNELS, directConvOptions } from '../../src/ml/kernels/conv2d.js';
import { winogradOptions } from '../../src/ml/kernels/winograd.js';

interface ConvCase { name: string; x: [number, number, number, number]; f: [number, number, number, number];
  strides: number | [number, number]; pad: 'same' | 'valid' | number | number[][] }

const CASES: ConvCase[] = [
  { name: '3x3 s1 same, odd sizes', x: [2, 7, 9, 5], f: [3, 3, 5, 4], strides: 1, pad: 'same' },
  { name: '3x3 s1 valid', x: [3, 8, 6, 4], f: [3, 3, 4, 6], strides: 1, pad: 'valid' },
  { name: '3x3 s2 same, odd sizes', x: [2, 9, 7, 3], f: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { name: '3x3 s2 same, even sizes', x: [2, 8, 10, 4], f: [3, 3, 4, 4], strides: 2, pad: 'same' },
  { name: '3x3 s2 valid, odd sizes', x: [2, 11, 9, 3], f: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: '7x7 s2 same (ResNet stem)', x: [2, 17, 15, 3], f: [7, 7, 3, 8], strides: 2, pad: 'same' },
  { name: '7x7 s1 valid', x: [2, 12, 13, 2], f: [7, 7, 2, 3], strides: 1, pad: 'valid' },
  { name: '1x1 s1 valid', x: [3, 5, 7, 6], f: [1, 1, 6, 9], strides: 1, pad: 'valid' },
  { name: '1x1 s1 same', x: [2, 4, 4, 8], f: [1, 1, 8, 5], strides: 1, pad: 'same' },
  { name: '1x1 s2 valid, odd sizes', x: [2, 9, 7, 6], f: [1, 1, 6, 4], strides: 2, pad: 'valid' },
  { name: '1x1 s2 same', x: [2, 8, 8, 4], f: [1, 1, 4, 6], strides: 2, pad: 'same' },
  { name: '5x5 s3 same, mixed', x: [2, 13, 11, 3], f: [5, 5, 3, 4], strides: [3, 2], pad: 'same' },
  { name: '3x3 s1 explicit pad', x: [2, 6, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  { name: '3x3 s2 explicit pad', x: [2, 9, 8, 3], f: [3, 3, 3, 4], strides: 2, pad: [[0, 0], [1, 1], [0, 2], [0, 0]] },
  { name: '4x4 s2 same (transposed-conv like)', x: [2, 8, 8, 5], f: [4, 4, 5, 3], strides: 2, pad: 'same' },
  { name: '3x3 s1 same, batch 8, wide', x: [8, 6, 6, 24], f: [3, 3, 24, 32], strides: 1, pad: 'same' },
  // ResNet's strided 3×3 after explicit padding: 'valid', even sizes, channels in fours.
  { name: '3x3 s2 valid, even sizes, 8 channels', x: [2, 6, 6, 8], f: [3, 3, 8, 8], strides: 2, pad: 'valid' },
  { name: '3x3 s2 valid, 4x4, 8 to 12 channels', x: [2, 4, 4, 8], f: [3, 3, 8, 12], strides: 2, pad: 'valid' },
  // VGG16 block1_conv2 at 1/8 width: 8 channels in, the direct kernel (below Winograd's channels).
  { name: '3x3 s1 same, 8 to 8 channels', x: [2, 10, 9, 8], f: [3, 3, 8, 8], strides: 1, pad: 'same' },
  { name: '1x1 s1, padding below and right only', x: [2, 5, 5, 8], f: [1, 1, 8, 4], strides: 1, pad: [[0, 0], [0, 1], [0, 2], [0, 0]] },
];

function outShape(c: ConvCase): number[] {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.strides, c.pad as never).shape);
}

describe('fast wasm kernels vs the cpu backend', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend('wasm');
    await tf.setBackend('cpu');
  });
  after(async () => {
    await tf.setBackend('wasm');
  });

  for (const [ci, c] of CASES.entries()) {
    it(`Conv2DBackpropFilter ${c.name}`, async () => {
      tf.setBackend('cpu');
      const dyShape = outShape(c);
      const inputs = { x: { shape: c.x, values: rand(size(c.x), 11 + ci) }, dy: { shape: dyShape, values: rand(size(dyShape), 97 + ci) } };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
      const ref = await runOn('cpu', 'Conv2DBackpropFilter', inputs, attrs);
      // As registered (the SIMD paths where they apply), then each GEMM path with them off.
      const got = await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
      assert.deepEqual(got.shape, ref.shape);
      assert.ok(relativeError(got.values, ref.values) < 1e-4, `default paths: relative error ${relativeError(got.values, ref.values)}`);
      try {
        directConvOptions.maxChannels = 0;
        winogradOptions.enabled = false;
        for (const [orientation, compactBelow, maxGather] of [['auto', 1.4, 1 << 25], ['transpose-x', 0, 1 << 25], ['transpose-dy', 0, 1 << 25], ['auto', 1, 1 << 25], ['auto', 1, 64], ['transpose-dy', 0, 64]] as const) {
          filterGradOptions.orientation = orientation;
          filterGradOptions.compactBelow = compactBelow;
          filterGradOptions.maxGatherFloats = maxGather;
          filterGradOptions.compactChannels = compactBelow === 0 ? 0 : 8;
          const got = await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
          assert.deepEqual(got.shape, ref.shape);
          const err = relativeError(got.values, ref.values);
          assert.ok(err < 1e-4, `${orientation} ${compactBelow} ${maxGather}: relative error ${err}`);
        }
      } finally {
        directConvOptions.maxChannels = DIRECT_MAX_CHANNELS;
        winogradOptions.enabled = true;
        filterGradOptions.orientation = 'auto';
        filterGradOptions.compactBelow = 1.4;
        filterGradOptions.compactChannels = 8;
        filterGradOptions.maxGatherFloats = 1 << 25;
      }
    });

    it(`Conv2DBackpropInput ${c.name}`, async () => {
      await tf.setBackend('cpu');
      const dyShape = outShape(c);
      const inputs = { dy: { shape: dyShape, values: rand(size(dyShape), 31 + ci) }, filter: { shape: c.f, values: rand(size(c.f), 53 + ci) } };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
      const ref = await runOn('cpu', 'Conv2DBackpropInput', inputs, attrs);
      try {
        for (const simd of [true, false]) {
          // The convolutions inside take Winograd or the direct kernel where they apply, or not.
          winogradOptions.enabled = simd;
          directConvOptions.maxChannels = simd ? DIRECT_MAX_CHANNELS : 0;
          for (const [col2im, colsFloats] of [[4, 1 << 22], [0, 1 << 22], [0, 50], [0, 0], [1000, 1 << 22]]) {
            // colsFloats 0: strided convolutions take the phase decomposition; 50: tiny image groups.
            inputGradOptions.col2imChannels = col2im!;
            inputGradOptions.colsFloats = colsFloats!;
            const got = await runOn('wasm', 'Conv2DBackpropInput', inputs, attrs);
            assert.deepEqual(got.shape, ref.shape);
            const err = relativeError(got.values, ref.values);
            assert.ok(err < 1e-4, `SIMD paths ${simd ? 'on' : 'off'}, col2im ≤ ${col2im} channels, ${colsFloats} window floats: relative error ${err}`);
          }
        }
      } finally {
        inputGradOptions.col2imChannels = 4;
        inputGradOptions.colsFloats = 1 << 22;
        winogradOptions.enabled = true;
        directConvOptions.maxChannels = DIRECT_MAX_CHANNELS;
      }
    });
  }

  const compare = compareWithCpu;
  const input = (shape: number[], seed: number) => ({ shape, values: rand(size(shape), seed) });

  it('BatchMatMul: every transpose combination, batched and broadcast', async () => {
    let seed = 200;
    // n = 5 takes XNNPACK's GEMM; n = 8 and 12 the SIMD kernel (with k = 16 its block transpose of
    // a transposed b, with k = 13 the general one).
    for (const [ta, tb, m, k, n] of [
      [false, false, 7, 13, 5], [true, false, 7, 13, 5], [false, true, 7, 13, 5], [true, true, 7, 13, 5],
      [false, false, 7, 13, 8], [true, false, 9, 13, 12], [false, true, 7, 16, 8], [true, true, 6, 16, 12], [false, true, 5, 13, 8],
    ] as const) {
      await compare('BatchMatMul', { a: input(ta ? [k, m] : [m, k], seed++), b: input(tb ? [n, k] : [k, n], seed++) }, { transposeA: ta, transposeB: tb });
      await compare('BatchMatMul', { a: input(ta ? [3, k, m] : [3, m, k], seed++), b: input(tb ? [3, n, k] : [3, k, n], seed++) }, { transposeA: ta, transposeB: tb });
      await compare('BatchMatMul', { a: input(ta ? [2, 2, k, m] : [2, 2, m, k], seed++), b: input(tb ? [1, n, k] : [1, k, n], seed++) }, { transposeA: ta, transposeB: tb });
    }
    // Dense-layer gradients: the large operand transposed.
    await compare('BatchMatMul', { a: input([64, 300], 300), b: input([64, 200], 301) }, { transposeA: true, transposeB: false });
    await compare('BatchMatMul', { a: input([64, 200], 302), b: input([300, 200], 303) }, { transposeA: false, transposeB: true });
  });

  it('BatchMatMul: each order of the SIMD product (small b and large c: b in place; few rows: b streamed; passes of 512 rows)', async () => {
    let seed = 320;
    for (const [m, k, n] of [
      [2100, 5, 1004],  // b of 20 KB and c of 8.4 MB: rows of c outer, b read in place, a last column block of 4
      [1, 600, 132],    // b of 317 KB and one row: the few-rows product, a last partial chunk
      [3, 601, 1100],   // rows in groups of 2 and 1, an odd k, two column chunks
      [7, 600, 132],    // groups of 4, 2 and 1
      [12, 1100, 68],   // twelve rows: packed blocks of b in passes of 512 rows, a last column block of 4
    ] as const) {
      await compare('BatchMatMul', { a: input([m, k], seed++), b: input([k, n], seed++) }, { transposeA: false, transposeB: false });
    }
    // A dense layer's forward with bias and ReLU at a batch of 5 (the few-rows product, then the epilogue).
    await compare('_FusedMatMul', { a: input([5, 700], seed++), b: input([700, 136], seed++), bias: input([136], seed++) },
      { transposeA: false, transposeB: false, activation: 'relu' });
  });

  it('Tile: vectors, matrices and 4-D, float32 and int32', async () => {
    await compare('Tile', { x: input([1, 1, 1, 5], 400) }, { reps: [3, 4, 2, 1] });
    await compare('Tile', { x: input([2, 3], 401) }, { reps: [3, 2] });
    await compare('Tile', { x: input([2, 1, 3, 2], 402) }, { reps: [1, 3, 2, 2] });
    await compare('Tile', { x: input([4], 403) }, { reps: [3] });
    await tf.setBackend('wasm');
    const t = tf.tile(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), [2, 3]);
    assert.deepEqual(await t.array(), [[1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4], [1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4]]);
    t.dispose();
  });

  it('MaxPoolGrad: 2x2 s2 even and odd sizes, 3x3 s2 overlapping, same padding, ties', async () => {
    let seed = 500;
    for (const [shape, filterSize, strides, pad, ties] of [
      [[2, 8, 6, 5], 2, 2, 'valid'], [[3, 7, 9, 4], 2, 2, 'valid'], [[2, 7, 7, 3], 2, 2, 'same'],
      [[2, 9, 9, 4], 3, 2, 'valid'], [[2, 9, 8, 3], 3, 3, 'same'], [[2, 5, 5, 2], 1, 2, 'valid'],
      [[2, 8, 10, 8], 2, 2, 'valid'], [[2, 9, 11, 8], 3, 2, 'valid'], [[2, 9, 8, 4], 3, 1, 'valid'], [[1, 7, 9, 4], [2, 3], [1, 2], 'valid'],
      // After a ReLU many window values are equal (zero): the first of them must get dy.
      [[2, 8, 6, 8], 2, 2, 'valid', true], [[2, 9, 9, 4], 3, 2, 'valid', true],
    ] as [number[], number | [number, number], number | [number, number], string, boolean?][]) {
      await tf.setBackend('cpu');
      const x = input(shape, seed++);
      if (ties) x.values.forEach((v, i) => { x.values[i] = Math.max(0, Math.round(v * 2) / 2); });
      const y = tf.tidy(() => tf.maxPool(tf.tensor4d(x.values, shape as [number, number, number, number]), filterSize as [number, number] | number, strides, pad as 'valid'));
      const output = { shape: y.shape, values: y.dataSync() as Float32Array };
      y.dispose();
      await compare('MaxPoolGrad', { dy: input(output.shape, seed++), input: x, output }, { filterSize, strides, pad }).catch((e: Error) => { throw new Error(`${shape} ${filterSize} ${strides} ${pad}${ties ? ' ties' : ''}: ${e.message}`); });
    }
  });

  it('PadV2 and Slice on NHWC images: spatial zero padding and windows, and the shipped kernels for the rest', async () => {
    let seed = 950;
    for (const [paddings, constantValue] of [
      [[[0, 0], [3, 3], [3, 3], [0, 0]], 0], [[[0, 0], [1, 0], [0, 2], [0, 0]], 0], [[[0, 0], [0, 0], [0, 0], [0, 0]], 0],
      [[[0, 0], [1, 1], [1, 1], [0, 0]], 1.5], [[[1, 0], [1, 1], [0, 0], [0, 2]], 0],
    ] as [number[][], number][]) {
      await compare('PadV2', { x: input([2, 5, 6, 3], seed++) }, { paddings, constantValue });
    }
    for (const [begin, size] of [
      [[0, 1, 1, 0], [2, 5, 6, 3]], [[1, 0, 2, 0], [2, 7, -1, 3]], [[0, 0, 0, 0], [3, 7, 8, 3]], [[2, 3, 0, 0], [1, 1, 1, 3]],
      [[0, 1, 1, 1], [3, 2, 2, 2]],
    ] as [number[], number[]][]) {
      await compare('Slice', { x: input([3, 7, 8, 3], seed++) }, { begin, size });
    }
    await compare('Slice', { x: input([4, 9], seed++) }, { begin: [1, 2], size: [2, 5] });
  });

  it('Sum and Mean: leading axes, middle axes (global average pooling), keepDims, and other axes', async () => {
    let seed = 600;
    for (const [shape, axis, keepDims] of [
      [[4, 5, 6, 7], [0, 1, 2], false], [[4, 5, 6, 7], [0, 1, 2], true], [[4, 5, 6, 7], [0], false],
      [[4, 5, 6], [0, 1, 2], false], [[64, 9, 7, 5], [0, 1, 2], false], [[37, 11, 3], [0, 1], true], [[4, 5, 6, 7], [1, 2], false], [[4, 5, 6, 7], [3], true], [[9, 3], -2, false],
      // The middle axes with channels in fours take the SIMD pass: over 256 pixels (more than one
      // block), a channel count with a tail after the groups of 16, keepDims, a single middle axis.
      [[3, 17, 16, 20], [1, 2], false], [[2, 7, 7, 64], [1, 2], true], [[5, 12, 8], [1], false], [[4, 5, 6, 8], [2, 1], false],
    ] as [number[], number | number[], boolean][]) {
      await compare('Sum', { x: input(shape, seed++) }, { axis, keepDims });
      await compare('Mean', { x: input(shape, seed++) }, { axis, keepDims });
    }
  });

  it('FusedBatchNorm: per-channel statistics with and without scale/offset, and broadcast statistics', async () => {
    let seed = 700;
    const pos = (shape: number[], sd: number) => ({ shape, values: rand(size(shape), sd).map((v) => Math.abs(v) + 0.1) });
    await compare('FusedBatchNorm', { x: input([4, 5, 6, 7], seed++), mean: input([7], seed++), variance: pos([7], seed++), offset: input([7], seed++), scale: input([7], seed++) }, { varianceEpsilon: 1e-5 });
    await compare('FusedBatchNorm', { x: input([3, 10], seed++), mean: input([10], seed++), variance: pos([10], seed++) }, { varianceEpsilon: 1e-3 });
    // Channels in fours: the SIMD pass.
    await compare('FusedBatchNorm', { x: input([4, 5, 6, 8], seed++), mean: input([8], seed++), variance: pos([8], seed++), offset: input([8], seed++), scale: input([8], seed++) }, { varianceEpsilon: 1e-5 });
    await compare('FusedBatchNorm', { x: input([5, 12], seed++), mean: input([12], seed++), variance: pos([12], seed++), scale: input([12], seed++) }, { varianceEpsilon: 1e-3 });
    await compare('FusedBatchNorm', { x: input([2, 3, 3, 4], seed++), mean: input([2, 3, 3, 4], seed++), variance: pos([2, 3, 3, 4], seed++), offset: input([2, 3, 3, 4], seed++), scale: input([2, 3, 3, 4], seed++) }, { varianceEpsilon: 1e-3 });
  });

  it('FusedBatchNorm gradient with per-channel statistics matches the stock gradient on cpu and wasm', async () => {
    const stock = stockFusedBatchNormGrad();
    assert.ok(stock !== undefined && stock !== fusedBatchNormGradConfig);
    let seed = 1000;
    const cases: { x: number[]; scale: boolean; eps: number }[] = [
      { x: [4, 5, 6, 7], scale: true, eps: 1e-5 }, { x: [4, 5, 6, 7], scale: false, eps: 1e-3 },
      { x: [3, 10], scale: true, eps: 1e-3 }, { x: [2, 3, 4, 2, 5], scale: true, eps: 1e-5 },
    ];
    for (const c of cases) {
      const ch = c.x[c.x.length - 1]!;
      const vals = { x: rand(size(c.x), seed++), dy: rand(size(c.x), seed++), mean: rand(ch, seed++),
        variance: rand(ch, seed++).map((v) => Math.abs(v) + 0.1), scale: rand(ch, seed++) };
      const results: Record<string, Record<string, Float32Array>> = {};
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        // The stock gradient handles rank-4 inputs only (it tiles r to [1, 1, 1, C]).
        const configs = c.x.length === 4 ? [['fast', fusedBatchNormGradConfig], ['stock', stock!]] as const : [['fast', fusedBatchNormGradConfig]] as const;
        for (const [which, cfg] of configs) {
          results[`${backend} ${which}`] = tf.tidy(() => {
            const x = tf.tensor(vals.x, c.x), dy = tf.tensor(vals.dy, c.x);
            const saved = [x, tf.tensor1d(vals.mean), tf.tensor1d(vals.variance), c.scale ? tf.tensor1d(vals.scale) : undefined];
            const g = cfg.gradFunc(dy, saved as tf.Tensor[], { varianceEpsilon: c.eps });
            const names = ['x', 'mean', 'variance', 'offset', ...(c.scale ? ['scale'] : [])];
            return Object.fromEntries(names.map((n) => {
              const t = g[n]!();
              assert.deepEqual(t.shape, n === 'x' ? c.x : [ch], `${backend} ${which} ${n}`);
              return [n, t.dataSync() as Float32Array];
            }));
          });
        }
      }
      const ref = results[c.x.length === 4 ? 'cpu stock' : 'cpu fast']!;
      for (const [label, got] of Object.entries(results)) {
        for (const n of Object.keys(ref)) {
          const err = relativeError(got[n]!, ref[n]!);
          assert.ok(err < 1e-4, `${c.x} scale ${c.scale}: ${label} d${n} relative error ${err}`);
        }
      }
    }
  });

  it('Cast shares the data when the dtype is unchanged and converts through the shipped kernel otherwise', async () => {
    await compare('Cast', { x: input([3, 4, 5], 850) }, { dtype: 'float32' });
    await compare('Cast', { x: { shape: [7, 3], values: rand(21, 851).map((v) => v * 10) } }, { dtype: 'int32' });
    await tf.setBackend('wasm');
    const before = tf.engine().backend.numDataIds();
    const x = tf.tensor2d(rand(12, 853), [3, 4]);
    const same = tf.cast(x, 'float32');
    const converted = tf.cast(x, 'int32');
    const ints = tf.cast(converted, 'int32');
    x.dispose();
    converted.dispose();
    assert.deepEqual(Buffer.from((same.dataSync() as Float32Array).buffer), Buffer.from(rand(12, 853).buffer));
    assert.deepEqual(Array.from(ints.dataSync()), Array.from(rand(12, 853)).map((v) => v | 0));
    same.dispose();
    ints.dispose();
    assert.equal(tf.engine().backend.numDataIds(), before);
  });

  it('Identity shares the data and the Mean gradient broadcasts dy / |reduced|', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor3d(rand(2 * 3 * 4, 800), [2, 3, 4]);
    const c = x.clone();
    assert.deepEqual(await c.array(), await x.array());
    x.dispose();
    assert.equal(c.dataSync().length, 24);
    c.dispose();
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const [g] = tf.tidy(() => {
        const v = tf.tensor4d(rand(3 * 4 * 5 * 6, 801), [3, 4, 5, 6]);
        const w = tf.tensor1d(rand(6, 802));
        return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, [0, 1, 2]), w)))(v).arraySync() as number[][][][]];
      });
      const wv = rand(6, 802);
      for (const plane of g!) for (const row of plane) for (const px of row) px.forEach((val, k) => assert.ok(Math.abs(val - wv[k]! / 60) < 1e-7, `${backend}: ${val}`));
    }
  });

  it('Conv2DBackpropInput keeps channels-first (NCHW) working through the shipped kernel', async () => {
    await compare('Conv2DBackpropInput', { dy: input([2, 4, 5, 5], 900), filter: input([3, 3, 3, 4], 901) },
      { strides: 1, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 5, 5] });
  });

  it('kernels are deterministic (same inputs, same output bits)', async () => {
    const c = CASES[2]!;
    const dyShape = outShape(c);
    const inputs = { x: { shape: c.x, values: rand(size(c.x), 5) }, dy: { shape: dyShape, values: rand(size(dyShape), 6) } };
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
    const a = await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
    const b = await runOn('wasm', 'Conv2DBackpropFilter', inputs, attrs);
    assert.deepEqual(Buffer.from(a.values.buffer), Buffer.from(b.values.buffer));
  });

  it('kernels leak no wasm tensors', async () => {
    await tf.setBackend('wasm');
    const c = CASES[5]!;
    const dyShape = outShape(c);
    const before = tf.engine().backend.numDataIds();
    const inputs = { dy: { shape: dyShape, values: rand(size(dyShape), 8) }, filter: { shape: c.f, values: rand(size(c.f), 9) } };
    await runOn('wasm', 'Conv2DBackpropInput', inputs, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
    await runOn('wasm', 'Conv2DBackpropFilter', { x: { shape: c.x, values: rand(size(c.x), 1) }, dy: inputs.dy },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f });
    assert.equal(tf.engine().backend.numDataIds(), before);
  });
});
