// The multiply-accumulate blocks shared by the module's products: four rows × eight (or four)
// columns held in registers while a reduction runs. Each reduction step reads two (one) vectors
// of b and broadcasts one value of a per row:
//   out[r][0..7] (+)= Σ_{s < segs} Σ_{i < len} a[s·aSeg + i·aStep + r·rStep] · b[s·bSeg + i·bStep + 0..7].
// A reduction may run over several segments (a convolution's window rows) without leaving the
// registers: a round trip through memory per segment measured 25 % slower.
// Each step is a multiply-add (common.ts `madd`): fused in the relaxed-SIMD build.
import { VEC, madd } from './common';

/** Four rows × eight columns; added to out (rows `os` bytes apart) when accumulate ≠ 0. */
@inline export function mac4x8(a0: usize, aStep: usize, rStep: usize, b0: usize, bStep: usize, len: i32,
  segs: i32, aSeg: usize, bSeg: usize, out: usize, os: usize, accumulate: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let s = 0; s < segs; s++) {
    let a = a0 + <usize>s * aSeg, b = b0 + <usize>s * bSeg;
    // Bounded by b's end (every caller's bStep is positive), not by a counter: V8 then keeps the
    // bound in a register instead of reloading it from the stack every step (1.04–1.1× here).
    const bEnd = b + <usize>len * bStep;
    while (b < bEnd) {
      const u = v128.load(b), v = v128.load(b + VEC);
      const x0 = v128.load32_splat(a), x1 = v128.load32_splat(a + rStep);
      c00 = madd(x0, u, c00); c01 = madd(x0, v, c01);
      c10 = madd(x1, u, c10); c11 = madd(x1, v, c11);
      const x2 = v128.load32_splat(a + 2 * rStep), x3 = v128.load32_splat(a + 3 * rStep);
      c20 = madd(x2, u, c20); c21 = madd(x2, v, c21);
      c30 = madd(x3, u, c30); c31 = madd(x3, v, c31);
      a += aStep;
      b += bStep;
    }
  }
  put(out, c00, accumulate); put(out + VEC, c01, accumulate); out += os;
  put(out, c10, accumulate); put(out + VEC, c11, accumulate); out += os;
  put(out, c20, accumulate); put(out + VEC, c21, accumulate); out += os;
  put(out, c30, accumulate); put(out + VEC, c31, accumulate);
}

/** mac4x8 for a last block of four columns. */
@inline export function mac4x4(a0: usize, aStep: usize, rStep: usize, b0: usize, bStep: usize, len: i32,
  segs: i32, aSeg: usize, bSeg: usize, out: usize, os: usize, accumulate: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let s = 0; s < segs; s++) {
    let a = a0 + <usize>s * aSeg, b = b0 + <usize>s * bSeg;
    for (let i = 0; i < len; i++) {
      const u = v128.load(b);
      c0 = madd(v128.load32_splat(a), u, c0);
      c1 = madd(v128.load32_splat(a + rStep), u, c1);
      c2 = madd(v128.load32_splat(a + 2 * rStep), u, c2);
      c3 = madd(v128.load32_splat(a + 3 * rStep), u, c3);
      a += aStep;
      b += bStep;
    }
  }
  put(out, c0, accumulate); out += os;
  put(out, c1, accumulate); out += os;
  put(out, c2, accumulate); out += os;
  put(out, c3, accumulate);
}

/** Two rows × eight columns (four sums in flight). */
@inline export function mac2x8(a0: usize, aStep: usize, rStep: usize, b0: usize, bStep: usize, len: i32,
  out: usize, os: usize, accumulate: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let a = a0, b = b0;
  for (let i = 0; i < len; i++) {
    const u = v128.load(b), v = v128.load(b + VEC);
    const x0 = v128.load32_splat(a), x1 = v128.load32_splat(a + rStep);
    c00 = madd(x0, u, c00); c01 = madd(x0, v, c01);
    c10 = madd(x1, u, c10); c11 = madd(x1, v, c11);
    a += aStep;
    b += bStep;
  }
  put(out, c00, accumulate); put(out + VEC, c01, accumulate); out += os;
  put(out, c10, accumulate); put(out + VEC, c11, accumulate);
}

/** One row × eight columns. */
@inline export function mac1x8(a0: usize, aStep: usize, b0: usize, bStep: usize, len: i32, out: usize, accumulate: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let a = a0, b = b0;
  for (let i = 0; i < len; i++) {
    const x = v128.load32_splat(a);
    c0 = madd(x, v128.load(b), c0);
    c1 = madd(x, v128.load(b + VEC), c1);
    a += aStep;
    b += bStep;
  }
  put(out, c0, accumulate); put(out + VEC, c1, accumulate);
}

/** One row × four columns. */
@inline export function mac1x4(a0: usize, aStep: usize, b0: usize, bStep: usize, len: i32,
  segs: i32, aSeg: usize, bSeg: usize, out: usize, accumulate: i32): void {
  let c = f32x4.splat(0);
  for (let s = 0; s < segs; s++) {
    let a = a0 + <usize>s * aSeg, b = b0 + <usize>s * bSeg;
    for (let i = 0; i < len; i++) {
      c = madd(v128.load32_splat(a), v128.load(b), c);
      a += aStep;
      b += bStep;
    }
  }
  put(out, c, accumulate);
}

@inline function put(p: usize, v: v128, accumulate: i32): void {
  v128.store(p, accumulate != 0 ? f32x4.add(v128.load(p), v) : v);
}
