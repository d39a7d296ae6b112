// Batches from a prepared dataset: uint8 HWC images read on demand, turned into normalised
// float32 tensors here (the dataset never exists as a float copy in memory), with an optional
// horizontal flip per image decided by the caller's seeded generator.
import * as tf from '@tensorflow/tfjs';
import type { PreparedSplit } from '../data/prepared-types.js';
import type { Normalize } from './spec.js';

export interface ImageGeometry {
  height: number;
  width: number;
  channels: number;
}

/** x = (u8 / 255 − mean_c) / std_c, as one multiply-add per value. */
export function normalizeInto(u8: Uint8Array, out: Float32Array, channels: number, norm: Normalize): void {
  const a = norm.std.map((s) => 1 / (255 * s));
  const b = norm.mean.map((m, c) => -m / norm.std[c]);
  if (channels === 1) {
    const a0 = a[0], b0 = b[0];
    for (let i = 0; i < u8.length; i++) out[i] = u8[i] * a0 + b0;
    return;
  }
  for (let i = 0; i < u8.length; i += channels) {
    for (let c = 0; c < channels; c++) out[i + c] = u8[i + c] * a[c] + b[c];
  }
}

/** Mirror image `n` of a batch left↔right, in place (HWC). */
export function flipInPlace(u8: Uint8Array, n: number, g: ImageGeometry): void {
  const { height: H, width: W, channels: C } = g;
  const base = n * H * W * C;
  for (let y = 0; y < H; y++) {
    const row = base + y * W * C;
    for (let x = 0; x < W >> 1; x++) {
      const l = row + x * C;
      const r = row + (W - 1 - x) * C;
      for (let c = 0; c < C; c++) {
        const t = u8[l + c];
        u8[l + c] = u8[r + c];
        u8[r + c] = t;
      }
    }
  }
}

/**
 * The normalised float batch (N×H×W×C) of the images at `indices`; images whose `flip` entry is
 * true are mirrored first.
 */
export function imageBatch(split: PreparedSplit, indices: ArrayLike<number>, g: ImageGeometry, norm: Normalize, flip?: ArrayLike<boolean>): tf.Tensor4D {
  const u8 = split.readImages(indices);
  const n = indices.length;
  const expected = n * g.height * g.width * g.channels;
  if (u8.length !== expected) {
    throw new Error(`readImages returned ${u8.length} bytes for ${n} images of ${g.height}×${g.width}×${g.channels} (expected ${expected})`);
  }
  if (flip) for (let i = 0; i < n; i++) if (flip[i]) flipInPlace(u8, i, g);
  const out = new Float32Array(expected);
  normalizeInto(u8, out, g.channels, norm);
  return tf.tensor4d(out, [n, g.height, g.width, g.channels]);
}
