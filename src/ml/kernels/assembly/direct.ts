// Direct convolution for inputs with few channels (an image's 1–4), where XNNPACK's convolution
// runs at half its usual rate: the reduction per output is only fh·fw·Ci long; and the direct
// filter gradient of any convolution, a reduction over pixels into a small result that XNNPACK
// could only run after repacking a pixel-long operand. AssemblyScript
// compiled into a module on the wasm backend's own memory (byte offsets into its heap; the module
// owns no memory and allocates nothing).

import { VEC } from './common';
import { mac1x4, mac1x8, mac2x8, mac4x4, mac4x8 } from './mac';

/**
 * y [n, oh, ow, Co] = Σ_{kh,kw,ci} xp[n, oy·s + kh, ox·s + kw, ci] · w[kh, kw, ci, co], plus bias[co]
 * when bias ≠ 0, then max(·, 0) when relu ≠ 0. xp [n, ph, pw, Ci] is the input already padded (every
 * window inside). Four output pixels × eight output channels accumulate in registers per pass over
 * the window; Co is a multiple of 4.
 */
export function directConv(xp: usize, n: i32, ph: i32, pw: i32, ci: i32, w: usize, fh: i32, fw: i32, co: i32,
  stride: i32, oh: i32, ow: i32, y: usize, bias: usize, relu: i32): void {
  const xPix = <usize>ci << 2, xRow = <usize>pw * xPix, step = <usize>stride * xPix;
  const wTap = <usize>co << 2;                       // bytes between (kh, kw, ci) rows of w
  const yPix = <usize>co << 2;
  const taps = fw * ci;                               // contiguous x values per window row
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const rowBase = xp + (<usize>img * <usize>ph + <usize>(oy * stride)) * xRow;
      const yRow = y + ((<usize>img * <usize>oh + <usize>oy) * <usize>ow) * yPix;
      let ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        const xBase = rowBase + <usize>ox * step;
        let o = 0;
        for (; o + 8 <= co; o += 8) conv4(xBase, xRow, step, fh, taps, w + (<usize>o << 2), wTap, yRow + <usize>ox * yPix + (<usize>o << 2), yPix, bias != 0 ? bias + (<usize>o << 2) : 0, relu, true);
        if (o < co) conv4(xBase, xRow, step, fh, taps, w + (<usize>o << 2), wTap, yRow + <usize>ox * yPix + (<usize>o << 2), yPix, bias != 0 ? bias + (<usize>o << 2) : 0, relu, false);
      }
      for (; ox < ow; ox++) {
        const xBase = rowBase + <usize>ox * step;
        for (let o = 0; o < co; o += 4) conv1x4(xBase, xRow, fh, taps, w + (<usize>o << 2), wTap, yRow + <usize>ox * yPix + (<usize>o << 2), bias != 0 ? bias + (<usize>o << 2) : 0, relu);
      }
    }
  }
}

/**
 * Four pixels (`step` bytes apart in x) × eight (or four) channels, accumulated over the fh window
 * rows (each row's fw·Ci values are contiguous in x, as its fw·Ci rows are in w), then the bias
 * and ReLU.
 */
@inline function conv4(x: usize, xRow: usize, step: usize, fh: i32, taps: i32, w: usize, wTap: usize, y: usize, yPix: usize,
  bias: usize, relu: i32, wide: bool): void {
  const rowTaps = <usize>taps * wTap;
  if (wide) mac4x8(x, 4, step, w, wTap, taps, fh, xRow, rowTaps, y, yPix, 0);
  else mac4x4(x, 4, step, w, wTap, taps, fh, xRow, rowTaps, y, yPix, 0);
  for (let r: usize = 0; r < 4; r++) {
    finish(y + r * yPix, bias, relu);
    if (wide) finish(y + r * yPix + VEC, bias != 0 ? bias + VEC : 0, relu);
  }
}

/** One pixel × four channels (the row's last pixels). */
@inline function conv1x4(x: usize, xRow: usize, fh: i32, taps: i32, w: usize, wTap: usize, y: usize, bias: usize, relu: i32): void {
  mac1x4(x, 4, w, wTap, taps, fh, xRow, <usize>taps * wTap, y, 0);
  finish(y, bias, relu);
}

/** y ← max(y + bias, 0) as asked, for one vector of outputs. */
@inline function finish(y: usize, bias: usize, relu: i32): void {
  let v = v128.load(y);
  if (bias != 0) v = f32x4.add(v, v128.load(bias));
  if (relu != 0) v = f32x4.max(v, f32x4.splat(0));
  v128.store(y, v);
}

/** Output pixels per block of the filter gradient: the block's dy rows stay in the L1 cache. */
const PIXEL_BLOCK = 64;

/**
 * dw [fh, fw, Ci, Co] = Σ_{n,oy,ox} xp[n, oy·s + kh, ox·s + kw, ci] · dy[n, oy, ox, co] over the
 * padded input xp [n, ph, pw, Ci]: the filter gradient of directConv. The window row kh holds fw·Ci
 * contiguous values; four of them × eight channels accumulate in registers over a block of pixels
 * of one output row, then are added into dw (zeroed first). Co is a multiple of 4.
 */
export function directConvFilterGrad(xp: usize, n: i32, ph: i32, pw: i32, ci: i32, dy: usize, fh: i32, fw: i32, co: i32,
  stride: i32, oh: i32, ow: i32, dw: usize): void {
  const xPix = <usize>ci << 2, xRow = <usize>pw * xPix, step = <usize>stride * xPix;
  const dPix = <usize>co << 2, wTap = <usize>co << 2;
  const taps = fw * ci;
  memory.fill(dw, 0, <usize>(fh * taps) * wTap);
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const xRowBase = xp + (<usize>img * <usize>ph + <usize>(oy * stride)) * xRow;
      const dyRow = dy + ((<usize>img * <usize>oh + <usize>oy) * <usize>ow) * dPix;
      for (let ox0 = 0; ox0 < ow; ox0 += PIXEL_BLOCK) {
        const cnt = min(PIXEL_BLOCK, ow - ox0);
        const xBlock = xRowBase + <usize>ox0 * step, dBlock = dyRow + <usize>ox0 * dPix;
        const full = taps & ~3;
        for (let kh = 0; kh < fh; kh++) {
          const xk = xBlock + <usize>kh * xRow, wk = dw + <usize>(kh * taps) * wTap;
          for (let t = 0; t < full; t += 4) {
            let o = 0;
            for (; o + 8 <= co; o += 8) mac4x8(xk + (<usize>t << 2), step, 4, dBlock + (<usize>o << 2), dPix, cnt, 1, 0, 0, wk + <usize>t * wTap + (<usize>o << 2), wTap, 1);
            for (; o < co; o += 4) mac4x4(xk + (<usize>t << 2), step, 4, dBlock + (<usize>o << 2), dPix, cnt, 1, 0, 0, wk + <usize>t * wTap + (<usize>o << 2), wTap, 1);
          }
        }
        // The taps past the last group of four (three of a 3×3 window over three channels): the same
        // tap of successive window rows lies xRow apart in x and taps·wTap apart in dw, so window
        // rows take the place of taps in the register blocks, several sums in flight instead of one.
        for (let t = full; t < taps; t++) {
          const xt = xBlock + (<usize>t << 2), wt = dw + <usize>t * wTap, rowTaps = <usize>taps * wTap;
          let kh = 0;
          for (; kh + 4 <= fh; kh += 4) {
            const xk = xt + <usize>kh * xRow, wk = wt + <usize>kh * rowTaps;
            let o = 0;
            for (; o + 8 <= co; o += 8) mac4x8(xk, step, xRow, dBlock + (<usize>o << 2), dPix, cnt, 1, 0, 0, wk + (<usize>o << 2), rowTaps, 1);
            for (; o < co; o += 4) mac4x4(xk, step, xRow, dBlock + (<usize>o << 2), dPix, cnt, 1, 0, 0, wk + (<usize>o << 2), rowTaps, 1);
          }
          for (; kh + 2 <= fh; kh += 2) {
            const xk = xt + <usize>kh * xRow, wk = wt + <usize>kh * rowTaps;
            let o = 0;
            for (; o + 8 <= co; o += 8) mac2x8(xk, step, xRow, dBlock + (<usize>o << 2), dPix, cnt, wk + (<usize>o << 2), rowTaps, 1);
            for (; o < co; o += 4) {
              mac1x4(xk, step, dBlock + (<usize>o << 2), dPix, cnt, 1, 0, 0, wk + (<usize>o << 2), 1);
              mac1x4(xk + xRow, step, dBlock + (<usize>o << 2), dPix, cnt, 1, 0, 0, wk + rowTaps + (<usize>o << 2), 1);
            }
          }
          if (kh < fh) {
            const xk = xt + <usize>kh * xRow, wk = wt + <usize>kh * rowTaps;
            let o = 0;
            for (; o + 8 <= co; o += 8) mac1x8(xk, step, dBlock + (<usize>o << 2), dPix, cnt, wk + (<usize>o << 2), 1);
            for (; o < co; o += 4) mac1x4(xk, step, dBlock + (<usize>o << 2), dPix, cnt, 1, 0, 0, wk + (<usize>o << 2), 1);
          }
        }
      }
    }
  }
}
