// Data movement for the other kernels: zero padding of NHWC images (so that windows are read
// without bounds checks) and the flipped, transposed filter of the input gradient. Part of the
// SIMD kernel module on the wasm backend's memory (see ../simd-module.ts).

/**
 * out [n, ph, pw, C] = x [n, h, w, C] placed at (padTop, padLeft) with zeros around it (rows and
 * columns of x beyond ph, pw are dropped), so every transform tile lies inside the image.
 */
export function padImages(x: usize, n: i32, h: i32, w: i32, c: i32, padTop: i32, padLeft: i32, ph: i32, pw: i32, out: usize): void {
  const pix = <usize>c << 2, outRow = <usize>pw * pix;
  const x0 = max(0, -padLeft), x1 = min(w, pw - padLeft);   // source columns that land inside
  for (let img = 0; img < n; img++) {
    const src = x + <usize>img * <usize>h * <usize>w * pix, dst = out + <usize>img * <usize>ph * outRow;
    for (let r = 0; r < ph; r++) {
      const sy = r - padTop, row = dst + <usize>r * outRow;
      if (sy < 0 || sy >= h || x1 <= x0) {
        memory.fill(row, 0, outRow);
        continue;
      }
      const left = <usize>(padLeft + x0) * pix, width = <usize>(x1 - x0) * pix;
      memory.fill(row, 0, left);
      memory.copy(row + left, src + (<usize>sy * <usize>w + <usize>x0) * pix, width);
      memory.fill(row + left + width, 0, outRow - left - width);
    }
  }
}

/**
 * out [fh, fw, Co, Ci] = w [fh, fw, Ci, Co] flipped in space with its channels swapped:
 * out[a, b, o, i] = w[fh − 1 − a, fw − 1 − b, i, o], the filter of the stride-1 input gradient.
 * Each tap's Ci × Co matrix is transposed in 4 × 4 blocks. Ci and Co are multiples of 4.
 */
export function flipFilter(w: usize, taps: i32, ci: i32, co: i32, out: usize): void {
  const srcRow = <usize>co << 2, dstRow = <usize>ci << 2, plane = <usize>(ci * co) << 2;
  for (let t = 0; t < taps; t++) {
    const src = w + <usize>(taps - 1 - t) * plane, dst = out + <usize>t * plane;
    for (let i: usize = 0; i < <usize>ci; i += 4) {
      const s = src + i * srcRow;
      for (let o: usize = 0; o < <usize>co; o += 4) {
        const a = v128.load(s + (o << 2)), b = v128.load(s + srcRow + (o << 2));
        const c = v128.load(s + 2 * srcRow + (o << 2)), e = v128.load(s + 3 * srcRow + (o << 2));
        const t0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
        const t2 = v128.shuffle<i32>(c, e, 0, 4, 1, 5), t3 = v128.shuffle<i32>(c, e, 2, 6, 3, 7);
        const d = dst + o * dstRow + (i << 2);
        v128.store(d, v128.shuffle<i32>(t0, t2, 0, 1, 4, 5));
        v128.store(d + dstRow, v128.shuffle<i32>(t0, t2, 2, 3, 6, 7));
        v128.store(d + 2 * dstRow, v128.shuffle<i32>(t1, t3, 0, 1, 4, 5));
        v128.store(d + 3 * dstRow, v128.shuffle<i32>(t1, t3, 2, 3, 6, 7));
      }
    }
  }
}

/**
 * out [n, oh, ow, C] = x[n, oy·sh, ox·sw, :]: the pixels a strided 1×1 convolution reads, made
 * contiguous for the matrix product.
 */
export function gatherStrided(x: usize, n: i32, h: i32, w: i32, c: i32, sh: i32, sw: i32, oh: i32, ow: i32, out: usize): void {
  const pix = <usize>c << 2, row = <usize>w * pix;
  let dst = out;
  for (let img = 0; img < n; img++) {
    const xImg = x + <usize>img * <usize>h * row;
    for (let oy = 0; oy < oh; oy++) {
      let src = xImg + <usize>(oy * sh) * row;
      for (let ox = 0; ox < ow; ox++, src += <usize>sw * pix, dst += pix) memory.copy(dst, src, pix);
    }
  }
}

/**
 * out [n, oh, ow, C] = x[n, top + y, left + x, :]: a window of each image, copied row by row (the
 * gradient of padImages, and any slice of NHWC images that keeps every channel).
 */
export function cropImages(x: usize, n: i32, h: i32, w: i32, c: i32, top: i32, left: i32, oh: i32, ow: i32, out: usize): void {
  const pix = <usize>c << 2, row = <usize>w * pix, outRow = <usize>ow * pix;
  let dst = out;
  for (let img = 0; img < n; img++) {
    let src = x + (<usize>img * <usize>h + <usize>top) * row + <usize>left * pix;
    for (let r = 0; r < oh; r++, src += row, dst += outRow) memory.copy(dst, src, outRow);
  }
}

/**
 * The scatter of the input gradient through the window matrix: dx [n, h, w, C] (zeroed first) +=
 * cols[(img, oy, ox), (kh, kw), :] at (oy·sh + kh − padTop, ox·sw + kw − padLeft), skipping taps
 * outside the image. cols rows hold fh·fw·C values. C is a multiple of 4.
 */
export function col2im(cols: usize, n: i32, oh: i32, ow: i32, fh: i32, fw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
  dx: usize, h: i32, w: i32, c: i32): void {
  const pix = <usize>c << 2, row = <usize>w * pix;
  memory.fill(dx, 0, <usize>n * <usize>h * row);
  let src = cols;
  for (let img = 0; img < n; img++) {
    const dImg = dx + <usize>img * <usize>h * row;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let kh = 0; kh < fh; kh++) {
          const iy = oy * sh + kh - padTop;
          if (iy < 0 || iy >= h) { src += <usize>fw * pix; continue; }
          for (let kw = 0; kw < fw; kw++, src += pix) {
            const ix = ox * sw + kw - padLeft;
            if (ix < 0 || ix >= w) continue;
            const d = dImg + <usize>iy * row + <usize>ix * pix;
            for (let ch: usize = 0; ch < pix; ch += 16) v128.store(d + ch, f32x4.add(v128.load(d + ch), v128.load(src + ch)));
          }
        }
      }
    }
  }
}
