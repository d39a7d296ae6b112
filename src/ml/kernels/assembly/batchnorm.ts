// Batch normalisation in training mode, channels last, four channels per vector: the batch
// statistics and the normalisation in one kernel, and its whole gradient in another, where tfjs
// runs about fifteen element-wise kernels (moments, normalisation and their gradients); and the
// per-image channel mean of global average pooling. Sums run per block of pixels into float32
// partial sums, then into the totals, which keeps the rounding error of long sums small. Part of
// the SIMD kernel module on the wasm backend's memory.
import { VEC } from './common';

/** Pixels summed per partial sum. */
const BLOCK = 256;

/** Pixels per block of the statistics: about 32 KiB of rows, which the block's second pass reads
 *  from the L1 cache. */
@inline function statBlock(c: i32): i32 {
  return max(16, min(BLOCK, 8192 / c));
}

/**
 * Per channel over p pixels of x [p, C]: the mean into mean [C] and the sum of squared deviations
 * from it into m2 [C], reading x from memory once. Each block of pixels gets its own mean and
 * squared deviations (two passes over the block, the second from cache), merged into the running
 * totals by the pairwise update of Chan, Golub and LeVeque: with δ the difference of the means,
 * mean += δ·n_b/n and m2 += m2_b + δ²·n_a·n_b/n. Four vectors of channels run side by side so
 * that four sums are in flight; each channel's sum still runs over the pixels in order.
 */
function channelMoments(x: usize, p: i32, c: i32, mean: usize, m2: usize): void {
  const row = <usize>c << 2;
  memory.fill(mean, 0, row);
  memory.fill(m2, 0, row);
  const blk = statBlock(c);
  let count: f32 = 0;
  for (let p0 = 0; p0 < p; p0 += blk) {
    const end = min(p, p0 + blk);
    const nb = <f32>(end - p0), total = count + nb;
    const inv = f32x4.splat(<f32>1 / nb), wNew = f32x4.splat(nb / total), wCross = f32x4.splat(count * nb / total);
    const base = x + <usize>p0 * row;
    let ch: usize = 0;
    for (; ch + 4 * VEC <= row; ch += 4 * VEC) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let q = base + ch;
      for (let i = p0; i < end; i++, q += row) {
        s0 = f32x4.add(s0, v128.load(q)); s1 = f32x4.add(s1, v128.load(q + VEC));
        s2 = f32x4.add(s2, v128.load(q + 2 * VEC)); s3 = f32x4.add(s3, v128.load(q + 3 * VEC));
      }
      const b0 = f32x4.mul(s0, inv), b1 = f32x4.mul(s1, inv), b2 = f32x4.mul(s2, inv), b3 = f32x4.mul(s3, inv);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      q = base + ch;
      for (let i = p0; i < end; i++, q += row) {
        const e0 = f32x4.sub(v128.load(q), b0), e1 = f32x4.sub(v128.load(q + VEC), b1);
        const e2 = f32x4.sub(v128.load(q + 2 * VEC), b2), e3 = f32x4.sub(v128.load(q + 3 * VEC), b3);
        d0 = f32x4.add(d0, f32x4.mul(e0, e0)); d1 = f32x4.add(d1, f32x4.mul(e1, e1));
        d2 = f32x4.add(d2, f32x4.mul(e2, e2)); d3 = f32x4.add(d3, f32x4.mul(e3, e3));
      }
      merge(mean + ch, m2 + ch, b0, d0, wNew, wCross);
      merge(mean + ch + VEC, m2 + ch + VEC, b1, d1, wNew, wCross);
      merge(mean + ch + 2 * VEC, m2 + ch + 2 * VEC, b2, d2, wNew, wCross);
      merge(mean + ch + 3 * VEC, m2 + ch + 3 * VEC, b3, d3, wNew, wCross);
    }
    for (; ch < row; ch += VEC) {
      let s0 = f32x4.splat(0);
      let q = base + ch;
      for (let i = p0; i < end; i++, q += row) s0 = f32x4.add(s0, v128.load(q));
      const b0 = f32x4.mul(s0, inv);
      let d0 = f32x4.splat(0);
      q = base + ch;
      for (let i = p0; i < end; i++, q += row) {
        const e0 = f32x4.sub(v128.load(q), b0);
        d0 = f32x4.add(d0, f32x4.mul(e0, e0));
      }
      merge(mean + ch, m2 + ch, b0, d0, wNew, wCross);
    }
    count = total;
  }
}

/** One block's mean and squared deviations merged into the running ones (channelMoments). */
@inline function merge(mean: usize, m2: usize, blockMean: v128, blockM2: v128, wNew: v128, wCross: v128): void {
  const m = v128.load(mean);
  const delta = f32x4.sub(blockMean, m);
  v128.store(mean, f32x4.add(m, f32x4.mul(delta, wNew)));
  v128.store(m2, f32x4.add(f32x4.add(v128.load(m2), blockM2), f32x4.mul(f32x4.mul(delta, delta), wCross)));
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
  channelMoments(x, p, c, mean, variance);
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
 * The mean over the p pixels of each of n images, per channel (global average pooling): x [n, p, C],
 * out [n, C]. Sums run per block of BLOCK pixels, four vectors of channels side by side.
 */
export function spatialMean(x: usize, n: i32, p: i32, c: i32, out: usize): void {
  const row = <usize>c << 2;
  const scale = f32x4.splat(<f32>1 / <f32>p);
  for (let img = 0; img < n; img++) {
    const xi = x + <usize>img * <usize>p * row, o = out + <usize>img * row;
    memory.fill(o, 0, row);
    for (let p0 = 0; p0 < p; p0 += BLOCK) {
      const end = min(p, p0 + BLOCK);
      let ch: usize = 0;
      for (; ch + 4 * VEC <= row; ch += 4 * VEC) {
        let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
        let q = xi + <usize>p0 * row + ch;
        for (let i = p0; i < end; i++, q += row) {
          s0 = f32x4.add(s0, v128.load(q)); s1 = f32x4.add(s1, v128.load(q + VEC));
          s2 = f32x4.add(s2, v128.load(q + 2 * VEC)); s3 = f32x4.add(s3, v128.load(q + 3 * VEC));
        }
        v128.store(o + ch, f32x4.add(v128.load(o + ch), s0));
        v128.store(o + ch + VEC, f32x4.add(v128.load(o + ch + VEC), s1));
        v128.store(o + ch + 2 * VEC, f32x4.add(v128.load(o + ch + 2 * VEC), s2));
        v128.store(o + ch + 3 * VEC, f32x4.add(v128.load(o + ch + 3 * VEC), s3));
      }
      for (; ch < row; ch += VEC) {
        let s0 = f32x4.splat(0);
        let q = xi + <usize>p0 * row + ch;
        for (let i = p0; i < end; i++, q += row) s0 = f32x4.add(s0, v128.load(q));
        v128.store(o + ch, f32x4.add(v128.load(o + ch), s0));
      }
    }
    for (let ch: usize = 0; ch < row; ch += VEC) v128.store(o + ch, f32x4.mul(v128.load(o + ch), scale));
  }
}

/** One block's Σ dy and Σ dy·x̂ for four channels, added into dbeta and dgamma (batchNormTrainGrad). */
@inline function gradSums1(dy: usize, x: usize, p0: i32, end: i32, row: usize, ch: usize, mean: usize, invStd: usize,
  dgamma: usize, dbeta: usize): void {
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

/** gradSums1 for eight channels side by side: four sums in flight, the same order per channel. */
@inline function gradSums2(dy: usize, x: usize, p0: i32, end: i32, row: usize, ch: usize, mean: usize, invStd: usize,
  dgamma: usize, dbeta: usize): void {
  const mu0 = v128.load(mean + ch), is0 = v128.load(invStd + ch);
  const mu1 = v128.load(mean + ch + VEC), is1 = v128.load(invStd + ch + VEC);
  let sg0 = f32x4.splat(0), sb0 = f32x4.splat(0), sg1 = f32x4.splat(0), sb1 = f32x4.splat(0);
  let q = x + <usize>p0 * row + ch, g = dy + <usize>p0 * row + ch;
  for (let i = p0; i < end; i++, q += row, g += row) {
    const d0 = v128.load(g), d1 = v128.load(g + VEC);
    sb0 = f32x4.add(sb0, d0);
    sb1 = f32x4.add(sb1, d1);
    sg0 = f32x4.add(sg0, f32x4.mul(d0, f32x4.mul(f32x4.sub(v128.load(q), mu0), is0)));
    sg1 = f32x4.add(sg1, f32x4.mul(d1, f32x4.mul(f32x4.sub(v128.load(q + VEC), mu1), is1)));
  }
  v128.store(dgamma + ch, f32x4.add(v128.load(dgamma + ch), sg0));
  v128.store(dbeta + ch, f32x4.add(v128.load(dbeta + ch), sb0));
  v128.store(dgamma + ch + VEC, f32x4.add(v128.load(dgamma + ch + VEC), sg1));
  v128.store(dbeta + ch + VEC, f32x4.add(v128.load(dbeta + ch + VEC), sb1));
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
    let ch: usize = 0;
    for (; ch + 2 * VEC <= row; ch += 2 * VEC) gradSums2(dy, x, p0, end, row, ch, mean, invStd, dgamma, dbeta);
    if (ch < row) gradSums1(dy, x, p0, end, row, ch, mean, invStd, dgamma, dbeta);
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
