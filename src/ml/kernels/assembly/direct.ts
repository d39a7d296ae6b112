// Direct convolution for inputs with few channels (an image's 1–4), where XNNPACK's convolution
// runs at half its usual rate: the reduction per output is only fh·fw·Ci long; and the direct
// filter gradient of any convolution, a reduction over pixels into a small result that XNNPACK
// could only run after repacking a pixel-long operand. AssemblyScript
// compiled into a module on the wasm backend's own memory (byte offsets into its heap; the module
// owns no memory and allocates nothing).

import { VEC } from './common';

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
        for (; o + 8 <= co; o += 8) conv4x8(xBase, xRow, step, fh, taps, w + (<usize>o << 2), wTap, yRow + <usize>ox * yPix + (<usize>o << 2), yPix, bias != 0 ? bias + (<usize>o << 2) : 0, relu);
        if (o < co) conv4x4(xBase, xRow, step, fh, taps, w + (<usize>o << 2), wTap, yRow + <usize>ox * yPix + (<usize>o << 2), yPix, bias != 0 ? bias + (<usize>o << 2) : 0, relu);
      }
      for (; ox < ow; ox++) {
        const xBase = rowBase + <usize>ox * step;
        for (let o = 0; o < co; o += 4) conv1x4(xBase, xRow, fh, taps, w + (<usize>o << 2), wTap, yRow + <usize>ox * yPix + (<usize>o << 2), bias != 0 ? bias + (<usize>o << 2) : 0, relu);
      }
    }
  }
}

@inline function finish(v: v128, bias: usize, off: usize, relu: i32): v128 {
  let r = bias != 0 ? f32x4.add(v, v128.load(bias + off)) : v;
  return relu != 0 ? f32x4.max(r, f32x4.splat(0)) : r;
}

/** Four pixels (`step` bytes apart in x) × eight channels. */
@inline function conv4x8(x: usize, xRow: usize, step: usize, fh: i32, taps: i32, w: usize, wTap: usize, y: usize, yPix: usize, bias: usize, relu: i32): void {
  let a0 = f32x4.splat(0), b0 = f32x4.splat(0), a1 = f32x4.splat(0), b1 = f32x4.splat(0);
  let a2 = f32x4.splat(0), b2 = f32x4.splat(0), a3 = f32x4.splat(0), b3 = f32x4.splat(0);
  let wp = w;
  for (let kh = 0; kh < fh; kh++) {
    let xp = x + <usize>kh * xRow;
    for (let t = 0; t < taps; t++) {
      const w0 = v128.load(wp), w1 = v128.load(wp + VEC);
      const x0 = v128.load32_splat(xp), x1 = v128.load32_splat(xp + step);
      a0 = f32x4.add(a0, f32x4.mul(x0, w0)); b0 = f32x4.add(b0, f32x4.mul(x0, w1));
      a1 = f32x4.add(a1, f32x4.mul(x1, w0)); b1 = f32x4.add(b1, f32x4.mul(x1, w1));
      const x2 = v128.load32_splat(xp + 2 * step), x3 = v128.load32_splat(xp + 3 * step);
      a2 = f32x4.add(a2, f32x4.mul(x2, w0)); b2 = f32x4.add(b2, f32x4.mul(x2, w1));
      a3 = f32x4.add(a3, f32x4.mul(x3, w0)); b3 = f32x4.add(b3, f32x4.mul(x3, w1));
      xp += 4;
      wp += wTap;
    }
  }
  v128.store(y, finish(a0, bias, 0, relu)); v128.store(y + VEC, finish(b0, bias, VEC, relu));
  v128.store(y + yPix, finish(a1, bias, 0, relu)); v128.store(y + yPix + VEC, finish(b1, bias, VEC, relu));
  v128.store(y + 2 * yPix, finish(a2, bias, 0, relu)); v128.store(y + 2 * yPix + VEC, finish(b2, bias, VEC, relu));
  v128.store(y + 3 * yPix, finish(a3, bias, 0, relu)); v128.store(y + 3 * yPix + VEC, finish(b3, bias, VEC, relu));
}

/** Four pixels × the last four channels when Co is not a multiple of 8. */
@inline function conv4x4(x: usize, xRow: usize, step: usize, fh: i32, taps: i32, w: usize, wTap: usize, y: usize, yPix: usize, bias: usize, relu: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let wp = w;
  for (let kh = 0; kh < fh; kh++) {
    let xp = x + <usize>kh * xRow;
    for (let t = 0; t < taps; t++) {
      const w0 = v128.load(wp);
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), w0));
      a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(xp + step), w0));
      a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(xp + 2 * step), w0));
      a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(xp + 3 * step), w0));
      xp += 4;
      wp += wTap;
    }
  }
  v128.store(y, finish(a0, bias, 0, relu));
  v128.store(y + yPix, finish(a1, bias, 0, relu));
  v128.store(y + 2 * yPix, finish(a2, bias, 0, relu));
  v128.store(y + 3 * yPix, finish(a3, bias, 0, relu));
}

/** One pixel × four channels (the row's last pixels). */
@inline function conv1x4(x: usize, xRow: usize, fh: i32, taps: i32, w: usize, wTap: usize, y: usize, bias: usize, relu: i32): void {
  let a = f32x4.splat(0);
  let wp = w;
  for (let kh = 0; kh < fh; kh++) {
    let xp = x + <usize>kh * xRow;
    for (let t = 0; t < taps; t++) {
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(xp), v128.load(wp)));
      xp += 4;
      wp += wTap;
    }
  }
  v128.store(y, finish(a, bias, 0, relu));
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
        for (let kh = 0; kh < fh; kh++) {
          const xk = xBlock + <usize>kh * xRow, wk = dw + <usize>(kh * taps) * wTap;
          let t = 0;
          for (; t + 4 <= taps; t += 4) {
            let o = 0;
            for (; o + 8 <= co; o += 8) grad4x8(xk + (<usize>t << 2), step, dBlock + (<usize>o << 2), dPix, cnt, wk + <usize>t * wTap + (<usize>o << 2), wTap);
            for (; o < co; o += 4) grad4x4(xk + (<usize>t << 2), step, dBlock + (<usize>o << 2), dPix, cnt, wk + <usize>t * wTap + (<usize>o << 2), wTap);
          }
          for (; t < taps; t++) {
            for (let o = 0; o < co; o += 4) grad1x4(xk + (<usize>t << 2), step, dBlock + (<usize>o << 2), dPix, cnt, wk + <usize>t * wTap + (<usize>o << 2));
          }
        }
      }
    }
  }
}

/** dw[r][0..7] += Σ_p x[p][r] · dy[p][0..7] for the four consecutive taps r of x (pixels `xs` apart). */
@inline function grad4x8(x: usize, xs: usize, d: usize, ds: usize, cnt: i32, dw: usize, wTap: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < cnt; p++) {
    const d0 = v128.load(d), d1 = v128.load(d + VEC);
    const a0 = v128.load32_splat(x), a1 = v128.load32_splat(x + 4);
    c00 = f32x4.add(c00, f32x4.mul(a0, d0)); c01 = f32x4.add(c01, f32x4.mul(a0, d1));
    c10 = f32x4.add(c10, f32x4.mul(a1, d0)); c11 = f32x4.add(c11, f32x4.mul(a1, d1));
    const a2 = v128.load32_splat(x + 8), a3 = v128.load32_splat(x + 12);
    c20 = f32x4.add(c20, f32x4.mul(a2, d0)); c21 = f32x4.add(c21, f32x4.mul(a2, d1));
    c30 = f32x4.add(c30, f32x4.mul(a3, d0)); c31 = f32x4.add(c31, f32x4.mul(a3, d1));
    x += xs;
    d += ds;
  }
  addTo(dw, c00); addTo(dw + VEC, c01); dw += wTap;
  addTo(dw, c10); addTo(dw + VEC, c11); dw += wTap;
  addTo(dw, c20); addTo(dw + VEC, c21); dw += wTap;
  addTo(dw, c30); addTo(dw + VEC, c31);
}

/** grad4x8 for the last four channels when Co is not a multiple of 8. */
@inline function grad4x4(x: usize, xs: usize, d: usize, ds: usize, cnt: i32, dw: usize, wTap: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let p = 0; p < cnt; p++) {
    const d0 = v128.load(d);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(x), d0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(x + 4), d0));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(x + 8), d0));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(x + 12), d0));
    x += xs;
    d += ds;
  }
  addTo(dw, c0); dw += wTap;
  addTo(dw, c1); dw += wTap;
  addTo(dw, c2); dw += wTap;
  addTo(dw, c3);
}

/** One tap × four channels (the window row's last taps). */
@inline function grad1x4(x: usize, xs: usize, d: usize, ds: usize, cnt: i32, dw: usize): void {
  let c = f32x4.splat(0);
  for (let p = 0; p < cnt; p++) {
    c = f32x4.add(c, f32x4.mul(v128.load32_splat(x), v128.load(d)));
    x += xs;
    d += ds;
  }
  addTo(dw, c);
}

@inline function addTo(p: usize, v: v128): void {
  v128.store(p, f32x4.add(v128.load(p), v));
}
