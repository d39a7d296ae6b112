// Batch normalisation in training mode, channels last, four channels per vector: the batch
// statistics and the normalisation in one kernel, and its whole gradient in another, where tfjs
// runs about fifteen element-wise kernels (moments, normalisation and their gradients). Sums run
// per block of pixels into float32 partial sums, then into the totals, which keeps the rounding
// error of long sums small. Part of the SIMD kernel module on the wasm backend's memory.
import { VEC } from './common';

/** Pixels summed per partial sum. */
const BLOCK = 256;

/**
 * Per channel over p pixels of x [p, C]: sums of f(x) into out [C], where f is x itself
 * (square = 0) or (x − mean)² (square = 1).
 */
function channelSums(x: usize, p: i32, c: i32, mean: usize, square: i32, out: usize): void {
  const row = <usize>c << 2;
  memory.fill(out, 0, row);
  for (let p0 = 0; p0 < p; p0 += BLOCK) {
    const end = min(p, p0 + BLOCK);
    for (let ch: usize = 0; ch < row; ch += VEC) {
      const mu = square != 0 ? v128.load(mean + ch) : f32x4.splat(0);
      let acc = f32x4.splat(0);
      let q = x + <usize>p0 * row + ch;
      for (let i = p0; i < end; i++, q += row) {
        const v = v128.load(q);
        if (square != 0) {
          const d = f32x4.sub(v, mu);
          acc = f32x4.add(acc, f32x4.mul(d, d));
        } else {
          acc = f32x4.add(acc, v);
        }
      }
      v128.store(out + ch, f32x4.add(v128.load(out + ch), acc));
    }
  }
}

/**
 * y = (x − mean)·invStd·gamma + beta with the batch's mean and (biased) variance per channel:
 * x, y [p, C]; mean, variance, invStd [C] are written too (invStd = 1/√(variance + ε)).
 * C is a multiple of 4.
 */
export function batchNormTrain(x: usize, p: i32, c: i32, gamma: usize, beta: usize, epsilon: f32,
  y: usize, mean: usize, variance: usize, invStd: usize): void {
  const row = <usize>c << 2;
  const scale = f32x4.splat(<f32>1 / <f32>p);
  channelSums(x, p, c, 0, 0, mean);
  for (let ch: usize = 0; ch < row; ch += VEC) v128.store(mean + ch, f32x4.mul(v128.load(mean + ch), scale));
  channelSums(x, p, c, mean, 1, variance);
  const eps = f32x4.splat(epsilon), one = f32x4.splat(1);
  for (let ch: usize = 0; ch < row; ch += VEC) {
    const v = f32x4.mul(v128.load(variance + ch), scale);
    v128.store(variance + ch, v);
    v128.store(invStd + ch, f32x4.div(one, f32x4.sqrt(f32x4.add(v, eps))));
  }
  // Pixel by pixel, each row whole: a channel-outer loop would stride through the tensor once per
  // four channels and miss the cache on every load. The per-channel factors come from L1 each time.
  for (let i = 0; i < p; i++) {
    const q = x + <usize>i * row, o = y + <usize>i * row;
    for (let ch: usize = 0; ch < row; ch += VEC) {
      const k = f32x4.mul(v128.load(invStd + ch), v128.load(gamma + ch));
      v128.store(o + ch, f32x4.add(f32x4.mul(f32x4.sub(v128.load(q + ch), v128.load(mean + ch)), k), v128.load(beta + ch)));
    }
  }
}

/**
 * The gradient of batchNormTrain (the batch statistics depend on x too): with x̂ = (x − mean)·invStd,
 * dbeta = Σ dy, dgamma = Σ dy·x̂, dx = gamma·invStd·(dy − dbeta/p − x̂·dgamma/p). All [p, C] or [C].
 */
export function batchNormTrainGrad(dy: usize, x: usize, p: i32, c: i32, gamma: usize, mean: usize, invStd: usize,
  dx: usize, dgamma: usize, dbeta: usize): void {
  const row = <usize>c << 2;
  memory.fill(dgamma, 0, row);
  memory.fill(dbeta, 0, row);
  for (let p0 = 0; p0 < p; p0 += BLOCK) {
    const end = min(p, p0 + BLOCK);
    for (let ch: usize = 0; ch < row; ch += VEC) {
      const mu = v128.load(mean + ch), is = v128.load(invStd + ch);
      let sg = f32x4.splat(0), sb = f32x4.splat(0);
      let q = x + <usize>p0 * row + ch, g = dy + <usize>p0 * row + ch;
      for (let i = p0; i < end; i++, q += row, g += row) {
        const d = v128.load(g);
        sb = f32x4.add(sb, d);
        sg = f32x4.add(sg, f32x4.mul(d, f32x4.mul(f32x4.sub(v128.load(q), mu), is)));
      }
      v128.store(dgamma + ch, f32x4.add(v128.load(dgamma + ch), sg));
      v128.store(dbeta + ch, f32x4.add(v128.load(dbeta + ch), sb));
    }
  }
  const scale = f32x4.splat(<f32>1 / <f32>p);
  // Row by row, as in batchNormTrain; the per-channel factors are recomputed from L1 (the same
  // operations in the same order, so the same bits as computing them once).
  for (let i = 0; i < p; i++) {
    const q = x + <usize>i * row, g = dy + <usize>i * row, o = dx + <usize>i * row;
    for (let ch: usize = 0; ch < row; ch += VEC) {
      const is = v128.load(invStd + ch);
      const k = f32x4.mul(v128.load(gamma + ch), is);
      const mb = f32x4.mul(v128.load(dbeta + ch), scale), mg = f32x4.mul(v128.load(dgamma + ch), scale);
      const xh = f32x4.mul(f32x4.sub(v128.load(q + ch), v128.load(mean + ch)), is);
      v128.store(o + ch, f32x4.mul(k, f32x4.sub(f32x4.sub(v128.load(g + ch), mb), f32x4.mul(xh, mg))));
    }
  }
}

/** y = x·a + b per channel over p pixels (batch norm in inference, a and b folded from its
 *  statistics): x, y [p, C]; a, b [C]. C is a multiple of 4. */
export function scaleShift(x: usize, p: i32, c: i32, a: usize, b: usize, y: usize): void {
  const row = <usize>c << 2;
  for (let i = 0; i < p; i++) {
    const q = x + <usize>i * row, o = y + <usize>i * row;
    for (let ch: usize = 0; ch < row; ch += VEC) v128.store(o + ch, f32x4.add(f32x4.mul(v128.load(q + ch), v128.load(a + ch)), v128.load(b + ch)));
  }
}
