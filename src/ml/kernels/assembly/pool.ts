// Max-pool gradient for 2×2 windows with stride 2 (VGG's and the reference models' pools), NHWC,
// four channels per vector. Part of the SIMD kernel module on the wasm backend's memory.
import { VEC } from './common';

/**
 * dx [n, h, w, C] from dy [n, oh, ow, C]: each window's dy goes to the first of its four positions
 * (row-major) holding the window's maximum, as the cpu backend does (strict comparisons), and the
 * other three get zero. Windows tile the top-left 2·oh × 2·ow of the input; rows and columns past
 * that (odd sizes) get zero. C is a multiple of 4.
 */
export function maxPoolGrad2x2(x: usize, dy: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32): void {
  const pix = <usize>c << 2, row = <usize>w * pix;
  for (let img = 0; img < n; img++) {
    const xImg = x + <usize>img * <usize>h * row, dxImg = dx + <usize>img * <usize>h * row;
    let g = dy + <usize>img * <usize>oh * <usize>ow * pix;
    for (let oy = 0; oy < oh; oy++) {
      const r0 = <usize>(2 * oy) * row;
      for (let ox = 0; ox < ow; ox++) {
        const p00 = r0 + <usize>(2 * ox) * pix, p01 = p00 + pix, p10 = p00 + row, p11 = p10 + pix;
        for (let ch: usize = 0; ch < pix; ch += VEC, g += VEC) {
          const v00 = v128.load(xImg + p00 + ch), v01 = v128.load(xImg + p01 + ch);
          const v10 = v128.load(xImg + p10 + ch), v11 = v128.load(xImg + p11 + ch);
          // Running maximum in row-major order; a later position wins only when strictly greater.
          const s01 = f32x4.gt(v01, v00);
          let m = v128.bitselect(v01, v00, s01);
          const s10 = f32x4.gt(v10, m);
          m = v128.bitselect(v10, m, s10);
          const s11 = f32x4.gt(v11, m);
          const gv = v128.load(g);
          const w11 = s11, w10 = v128.andnot(s10, s11), w01 = v128.andnot(v128.andnot(s01, s10), s11);
          const w00 = v128.not(v128.or(v128.or(s01, s10), s11));
          v128.store(dxImg + p00 + ch, v128.and(gv, w00));
          v128.store(dxImg + p01 + ch, v128.and(gv, w01));
          v128.store(dxImg + p10 + ch, v128.and(gv, w10));
          v128.store(dxImg + p11 + ch, v128.and(gv, w11));
        }
      }
      // An odd last column.
      for (let xx = 2 * ow; xx < w; xx++) {
        memory.fill(dxImg + r0 + <usize>xx * pix, 0, pix);
        memory.fill(dxImg + r0 + row + <usize>xx * pix, 0, pix);
      }
    }
    // An odd last row.
    for (let yy = 2 * oh; yy < h; yy++) memory.fill(dxImg + <usize>yy * row, 0, row);
  }
}

/**
 * dx [n, h, w, C] from dy [n, oh, ow, C] for any fh × fw window with stride (sh, sw) and no
 * padding (windows inside the input): each window's dy is added at the first position (row-major)
 * holding the window's maximum; overlapping windows accumulate. C is a multiple of 4.
 */
export function maxPoolGrad(x: usize, dy: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  fh: i32, fw: i32, sh: i32, sw: i32): void {
  const pix = <usize>c << 2, row = <usize>w * pix;
  memory.fill(dx, 0, <usize>n * <usize>h * row);
  for (let img = 0; img < n; img++) {
    const xImg = x + <usize>img * <usize>h * row, dxImg = dx + <usize>img * <usize>h * row;
    let g = dy + <usize>img * <usize>oh * <usize>ow * pix;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const win = <usize>(oy * sh) * row + <usize>(ox * sw) * pix;
        for (let ch: usize = 0; ch < pix; ch += VEC, g += VEC) {
          // The running maximum and the index of its first position, per lane.
          let best = v128.load(xImg + win + ch);
          let at = i32x4.splat(0);
          let p = 0;
          for (let ky = 0; ky < fh; ky++) {
            for (let kx = 0; kx < fw; kx++, p++) {
              if (p == 0) continue;
              const v = v128.load(xImg + win + <usize>ky * row + <usize>kx * pix + ch);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              at = v128.bitselect(i32x4.splat(p), at, gt);
            }
          }
          const gv = v128.load(g);
          p = 0;
          for (let ky = 0; ky < fh; ky++) {
            for (let kx = 0; kx < fw; kx++, p++) {
              const q = dxImg + win + <usize>ky * row + <usize>kx * pix + ch;
              v128.store(q, f32x4.add(v128.load(q), v128.and(gv, i32x4.eq(at, i32x4.splat(p)))));
            }
          }
        }
      }
    }
  }
}
