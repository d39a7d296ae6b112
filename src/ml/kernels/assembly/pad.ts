// Zero padding of NHWC images, for the kernels that read whole windows without bounds checks.
// (Part of the SIMD kernel module on the wasm backend's memory; see winograd.ts.)

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
