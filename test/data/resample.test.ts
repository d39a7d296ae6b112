// The JavaScript resampler used for small images agrees with libvips on real pictures, averages
// exactly on integer factors, and crops the centre for fit 'cover'.
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { drawPattern } from '../../src/data/draw.js';
import { resample } from '../../src/data/resample.js';

function meanAbs(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / a.length;
}

describe('resampling small images', () => {
  it('a 2× downscale is the exact 2×2 average', () => {
    const src = Uint8Array.from([0, 10, 20, 30, 100, 110, 120, 130, 1, 2, 3, 4, 5, 6, 7, 8]); // 4×4×1
    assert.deepEqual([...resample(src, 4, 4, 1, 2, 2, 'fill')], [55, 75, 4, 6]);
    assert.equal(resample(src, 4, 4, 1, 4, 4, 'fill'), src);
  });

  it('downscaling agrees with libvips (sharp) within a few grey levels at any ratio', async () => {
    for (const [w, h, tw, th] of [[64, 64, 32, 32], [64, 48, 24, 24], [50, 70, 32, 32], [200, 120, 32, 32]] as const) {
      for (const noise of [0, 0.05]) {
        const src = drawPattern(0, w, h, 3, 11, noise);
        const ours = resample(src, w, h, 3, tw, th, 'fill');
        const vips = await sharp(Buffer.from(src), { raw: { width: w, height: h, channels: 3 } }).resize(tw, th, { fit: 'fill' }).raw().toBuffer();
        const d = meanAbs(ours, new Uint8Array(vips));
        assert.ok(d < 4, `${w}×${h} → ${tw}×${th}, noise ${noise}: mean difference ${d.toFixed(2)}`);
      }
    }
  });

  it('upscaling is bilinear with pixel centres aligned (as PIL, OpenCV and torchvision)', () => {
    const ramp = new Uint8Array(28 * 28);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) ramp[y * 28 + x] = 9 * x;
    const out = resample(ramp, 28, 28, 1, 32, 32, 'fill');
    for (let j = 0; j < 32; j++) {
      const x = Math.min(27, Math.max(0, (j + 0.5) * (28 / 32) - 0.5));
      assert.ok(Math.abs(out[5 * 32 + j]! - 9 * x) <= 0.5 + 1e-9, `column ${j}: ${out[5 * 32 + j]} vs ${9 * x}`);
    }
  });

  it("fit 'cover' keeps the centre", () => {
    // 6×2 image: left and right thirds 0, the middle 255; cover to 2×2 keeps the middle.
    const src = Uint8Array.from([0, 0, 255, 255, 0, 0, 0, 0, 255, 255, 0, 0]);
    assert.deepEqual([...resample(src, 6, 2, 1, 2, 2, 'cover')], [255, 255, 255, 255]);
    assert.deepEqual([...resample(src, 6, 2, 1, 3, 1, 'fill')], [0, 255, 0]);
  });
});

describe('decoding files small and large', () => {
  it('a large image (shrink-on-load in libvips) and a small one (JS resampling) give the same picture', async () => {
    const { decodeFile, smallImagePixels } = await import('../../src/data/decode.js');
    const { scratch } = await import('./helpers.js');
    const { join } = await import('node:path');
    const d = scratch();
    const t = { width: 32, height: 32, channels: 3 as const, fit: 'fill' as const };
    const big = drawPattern(0, 640, 480, 3, 4, 0);
    assert.ok(640 * 480 > smallImagePixels(t));
    await sharp(Buffer.from(big), { raw: { width: 640, height: 480, channels: 3 } }).png().toFile(join(d, 'big.png'));
    await sharp(Buffer.from(big), { raw: { width: 640, height: 480, channels: 3 } }).resize(96, 72, { fit: 'fill' }).png().toFile(join(d, 'small.png'));
    const a = await decodeFile(join(d, 'big.png'), t);
    const b = await decodeFile(join(d, 'small.png'), t);
    assert.ok(meanAbs(a, b) < 4, `mean difference ${meanAbs(a, b)}`);
  });
});
