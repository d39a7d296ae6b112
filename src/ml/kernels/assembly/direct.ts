// Direct convolution for inputs with few channels (an image's 1–4), where XNNPACK's convolution
// runs at half its usual rate: the reduction per output is only fh·fw·Ci long. AssemblyScript
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
