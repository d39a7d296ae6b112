// The gradient through a ReLU that follows a convolution with a bias, in one pass: the incoming
// gradient masked where the ReLU's output was zero, and its per-channel sum (the bias gradient).
// tfjs computes them as Step, Multiply and Sum, three activation-sized passes. Channels last, four
// channels per vector. Part of the SIMD kernel module on the wasm backend's memory.
import { VEC } from './common';

/** Pixels summed per partial sum (as in batchnorm.ts: short sums keep the rounding error small). */
const BLOCK = 256;

/**
 * dx = dy where y > 0, else 0; db = Σ dx over the p pixels. dy, y, dx [p, C]; db [C]; partial: C
 * floats of scratch. C is a multiple of 4.
 */
export function reluBiasGrad(dy: usize, y: usize, p: i32, c: i32, dx: usize, db: usize, partial: usize): void {
  const row = <usize>c << 2;
  const zero = f32x4.splat(0);
  memory.fill(db, 0, row);
  for (let p0 = 0; p0 < p; p0 += BLOCK) {
    const end = min(p, p0 + BLOCK);
    memory.fill(partial, 0, row);
    for (let i = p0; i < end; i++) {
      const off = <usize>i * row;
      for (let ch: usize = 0; ch < row; ch += VEC) {
        // All-ones lanes where y > 0: the AND keeps dy's bits there and zeroes the rest.
        const g = v128.and(v128.load(dy + off + ch), f32x4.gt(v128.load(y + off + ch), zero));
        v128.store(dx + off + ch, g);
        v128.store(partial + ch, f32x4.add(v128.load(partial + ch), g));
      }
    }
    for (let ch: usize = 0; ch < row; ch += VEC) v128.store(db + ch, f32x4.add(v128.load(db + ch), v128.load(partial + ch)));
  }
}
