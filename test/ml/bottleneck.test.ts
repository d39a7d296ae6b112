// The bottleneck against the I-SPLIT reference (AutoEncoderUnderComplete, built independently in
// PyTorch by test/ml/torch_check.py): code and output shapes, trainable parameters and the
// fallback flags at all 36 cuts; and alignment: an impulse in the cut's tensor comes back at the
// same place, here and through the reference, at every cut of VGG16 and ResNet-50 at 224, 64,
// 32 px and odd sizes.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildBottleneck } from '../../src/ml/bottleneck.js';
import { bottleneckGeometry, codeSize, decoderOutputPadding, roundHalfEven } from '../../src/ml/bottleneck-geometry.js';
import { composeModel, type Shape3 } from '../../src/ml/models/network.js';
import { cutPointsOf, cutShapesOf } from '../../src/ml/models/cut-points.js';
import { runTorch, skipWithoutTorch } from './torch-python.js';
import { initBackend } from '../../src/ml/backend.js';
import type { Arch } from '../../src/ml/spec.js';

// The reference's defaults; the alignment cases at 1/16 width (4 channels at the first cuts,
// where ratio 8 leaves none) use ratio 2: the channel count does not move anything.
const SPEC = { ratio: 8, expansion: 2 };
const NARROW = { ratio: 2, expansion: 2 };

interface TorchResult {
  filters: number;
  flags: boolean[] | null;
  codeShape: number[];
  outputShape: number[];
  params: number;
  impulses: { peak: [number, number]; max: number; sum: number; centroid: [number, number] | null }[];
  boxes: { peak: [number, number]; max: number; sum: number; centroid: [number, number] | null }[];
}

/** Multiples of 4 inside [0, n): the first, the middle one and the last. */
function gridPositions(n: number): number[] {
  const all = Array.from({ length: Math.floor((n - 1) / 4) + 1 }, (_, k) => 4 * k);
  return [...new Set([all[0]!, all[Math.floor(all.length / 2)]!, all[all.length - 1]!])];
}

/** Interior positions, even and odd, far enough from the border that nothing is clipped. */
function interiorPositions(n: number): number[] {
  if (n < 20) return [];
  return [...new Set([9, 10, Math.floor(n / 2) + 1, n - 10])];
}

interface Case { arch: Arch; size: number; width: number; cut: string; shape: Shape3 }

function cases(arch: Arch, size: number, width: number): Case[] {
  const shapes = cutShapesOf(arch, size, size, width);
  return cutPointsOf(arch).map((cut, i) => ({ arch, size, width, cut, shape: shapes[i]! }));
}

/** Weights that pass channel 0 through: each convolution's 3×3 kernel from channel 0 to 0 is `taps`, the rest 0, biases 0. */
function setPassThrough(layers: tf.layers.Layer[], taps: 'centre' | 'tent'): void {
  for (const l of layers) {
    const kind = l.getClassName();
    if (kind !== 'Conv2D' && kind !== 'Conv2DTranspose') continue;
    const [kernel, bias] = l.getWeights();
    const [kh, kw, a, b] = kernel!.shape;
    const v = new Float32Array(kernel!.size);
    const tent = [0.5, 1, 0.5];
    for (let y = 0; y < kh!; y++) for (let x = 0; x < kw!; x++) {
      if (taps === 'tent') v[((y * kw! + x) * a! + 0) * b! + 0] = tent[y]! * tent[x]!;
      else if (y === 1 && x === 1) v[((y * kw! + x) * a! + 0) * b! + 0] = 1;
    }
    l.setWeights([tf.tensor(v, kernel!.shape), tf.zerosLike(bias!)]);
  }
}

/** Channel 0 of the bottleneck's output (inference mode) for one impulse per position. */
function respond(c: Case, positions: [number, number][], taps: 'centre' | 'tent') {
  if (positions.length === 0) return [];
  const bn = buildBottleneck(c.shape, NARROW, c.cut);
  const model = composeModel([bn.encoder, bn.decoder], c.shape, 'bottleneck');
  setPassThrough(model.layers, taps);
  const [H, W, C] = c.shape;
  const x = new Float32Array(positions.length * H * W * C);
  positions.forEach(([i, j], n) => { x[((n * H + i) * W + j) * C] = 1; });
  const out = tf.tidy(() => {
    const y = model.predict(tf.tensor4d(x, [positions.length, H, W, C])) as tf.Tensor4D;
    assert.deepEqual(y.shape.slice(1), c.shape, `${c.arch} ${c.size} ${c.cut}: output shape`);
    return tf.slice(y, [0, 0, 0, 0], [-1, -1, -1, 1]).dataSync();
  });
  model.dispose();
  return positions.map((_, n) => {
    const m = out.subarray(n * H * W, (n + 1) * H * W);
    let best = 0, sum = 0, ci = 0, cj = 0;
    for (let k = 0; k < m.length; k++) {
      if (m[k]! > m[best]!) best = k;
      sum += m[k]!;
      ci += m[k]! * Math.floor(k / W);
      cj += m[k]! * (k % W);
    }
    return { peak: [Math.floor(best / W), best % W] as [number, number], max: m[best]!, sum, centroid: sum > 0 ? [ci / sum, cj / sum] : null };
  });
}

const IMPULSE_GAIN = (1 + 1e-5) ** -1.5; // three inference-mode batch norms with variance 1

describe('ml/bottleneck: the I-SPLIT reference bottleneck', function () {
  this.timeout(600_000);
  let previous = '';
  before(async () => { previous = tf.getBackend(); await initBackend('wasm'); });
  after(async () => { if (previous) await tf.setBackend(previous); });

  it('f uses Python rounding (half to even); fixes per residue of H mod 4', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, 20 / 8].map(roundHalfEven), [0, 2, 2, 4, 2, 3, 2]);
    assert.equal(bottleneckGeometry([4, 4, 20], SPEC).filters, 2); // round(2.5) = 2, as in Python
    assert.equal(bottleneckGeometry([4, 4, 28], SPEC).filters, 4); // round(3.5) = 4
    // H ≡ 0: no fix; ≡ 2: the first layer; ≡ 3: the second; ≡ 1: both (output_padding 0).
    assert.deepEqual([8, 10, 11, 9, 1, 2, 3].map(decoderOutputPadding), [[1, 1], [0, 1], [1, 0], [0, 0], [0, 0], [0, 1], [1, 0]]);
    assert.deepEqual([1, 2, 3, 4, 5, 7, 56, 112].map(codeSize), [1, 1, 1, 1, 2, 2, 14, 28]);
  });

  const sizes: [Arch, number, number][] = [
    ['vgg16', 224, 1 / 16], ['vgg16', 64, 1 / 16], ['vgg16', 32, 1 / 16], ['vgg16', 37, 1 / 16], ['vgg16', 45, 1 / 16],
    ['resnet50', 224, 1 / 16], ['resnet50', 64, 1 / 16], ['resnet50', 32, 1 / 16], ['resnet50', 29, 1 / 16], ['resnet50', 33, 1 / 16],
  ];
  const all = sizes.flatMap(([a, s, w]) => cases(a, s, w));
  const impulsesOf = (c: Case) => gridPositions(c.shape[0]).flatMap((i) => gridPositions(c.shape[1]).map((j) => [i, j] as [number, number]));
  const boxesOf = (c: Case) => interiorPositions(c.shape[0]).map((i, k) => [i, interiorPositions(c.shape[1])[k]!] as [number, number]);

  for (const [arch, size] of sizes) {
    it(`an impulse comes back where it was, at every cut: ${arch} ${size}×${size}`, () => {
      for (const c of all.filter((x) => x.arch === arch && x.size === size)) {
        const imp = impulsesOf(c);
        respond(c, imp, 'centre').forEach((r, n) => {
          assert.deepEqual(r.peak, imp[n], `${arch} ${size} ${c.cut} ${c.shape}: impulse at ${imp[n]} came back at ${r.peak}`);
          assert.ok(Math.abs(r.max - IMPULSE_GAIN) < 1e-5 && Math.abs(r.sum - IMPULSE_GAIN) < 1e-5, `${c.cut}: one value, ${r.max} of ${r.sum}`);
        });
        // Tent kernels ([½, 1, ½] per axis, every input row weighs the same) spread the impulse
        // over both code neighbours of an odd position: the response stays centred on it (a
        // shifted decoder moves the centroid).
        const box = boxesOf(c);
        respond(c, box, 'tent').forEach((r, n) => {
          assert.ok(r.centroid && Math.abs(r.centroid[0] - box[n]![0]) < 1e-6 && Math.abs(r.centroid[1] - box[n]![1]) < 1e-6,
            `${arch} ${size} ${c.cut}: tent response to ${box[n]} centred at ${r.centroid}`);
        });
      }
    });
  }

  it('non-square maps whose axes need different fixes: each axis takes its own, still aligned', () => {
    for (const shape of [[9, 10, 8], [10, 11, 8], [7, 12, 16], [1, 6, 8]] as Shape3[]) {
      const c: Case = { arch: 'vgg16', size: 0, width: 0, cut: 'test', shape };
      const imp = gridPositions(shape[0]).flatMap((i) => gridPositions(shape[1]).map((j) => [i, j] as [number, number]));
      respond(c, imp, 'centre').forEach((r, n) => assert.deepEqual(r.peak, imp[n], `${shape}: ${imp[n]} → ${r.peak}`));
    }
  });

  it('the same as PyTorch: shapes, fixes and impulse responses at every cut and size above', function () {
    skipWithoutTorch(this);
    const torch = JSON.parse(runTorch(['bottleneck'], JSON.stringify(all.map((c) => ({
      H: c.shape[0], W: c.shape[1], C: c.shape[2], ...NARROW, impulses: impulsesOf(c), boxes: boxesOf(c),
    }))))) as TorchResult[];
    all.forEach((c, k) => {
      const t = torch[k]!;
      const g = bottleneckGeometry(c.shape, NARROW, c.cut);
      const at = `${c.arch} ${c.size} ${c.cut} ${c.shape}`;
      assert.ok(t.flags, `${at}: the reference found a decoder`);
      assert.deepEqual(t.outputShape, c.shape, at);
      assert.deepEqual(g.codeShape, t.codeShape, `${at}: code shape`);
      assert.equal(g.filters, t.filters, at);
      // The reference's fix_first / fix_second flags are output_padding 0 of the first / second layer.
      assert.deepEqual(g.outputPadding.rows, [t.flags![0] ? 0 : 1, t.flags![1] ? 0 : 1], `${at}: output padding`);
      assert.deepEqual([t.flags![2], t.flags![3]], [false, false], at);
      const mine = respond(c, impulsesOf(c), 'centre');
      t.impulses.forEach((r, n) => {
        assert.deepEqual(mine[n]!.peak, r.peak, `${at}: impulse ${impulsesOf(c)[n]}`);
        assert.ok(Math.abs(mine[n]!.max - r.max) < 1e-5, at);
      });
      const boxes = respond(c, boxesOf(c), 'tent');
      t.boxes.forEach((r, n) => {
        assert.ok(Math.abs(boxes[n]!.sum - r.sum) < 1e-4 * r.sum, `${at}: box sum ${boxes[n]!.sum} vs ${r.sum}`);
        assert.ok(Math.abs(boxes[n]!.centroid![0] - r.centroid![0]) < 1e-6 && Math.abs(boxes[n]!.centroid![1] - r.centroid![1]) < 1e-6, at);
      });
    });
  });

  it('trainable parameters and shapes equal the reference at all 36 cuts (full width, 224×224)', function () {
    skipWithoutTorch(this);
    const full = [...cases('vgg16', 224, 1), ...cases('resnet50', 224, 1)];
    const torch = JSON.parse(runTorch(['bottleneck'], JSON.stringify(full.map((c) => ({ H: c.shape[0], W: c.shape[1], C: c.shape[2], ...SPEC }))))) as TorchResult[];
    assert.equal(torch.length, 36);
    full.forEach((c, k) => {
      const bn = buildBottleneck(c.shape, SPEC, c.cut);
      const enc = composeModel([bn.encoder], c.shape, 'encoder');
      const dec = composeModel([bn.decoder], bn.codeShape, 'decoder');
      const params = [...enc.trainableWeights, ...dec.trainableWeights].reduce((a, w) => a + (w.shape as number[]).reduce((p, q) => p * q, 1), 0);
      const at = `${c.arch} ${c.cut} ${c.shape}`;
      assert.equal(params, torch[k]!.params, `${at}: trainable parameters`);
      assert.deepEqual(enc.outputs[0]!.shape.slice(1), torch[k]!.codeShape, `${at}: code`);
      assert.deepEqual(dec.outputs[0]!.shape.slice(1), torch[k]!.outputShape, `${at}: output`);
      enc.dispose();
      dec.dispose();
    });
  });
});
