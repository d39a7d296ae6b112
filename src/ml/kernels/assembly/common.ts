// Shared by the SIMD kernel module's sources.

/** Bytes in one v128 vector: four float32 channels. */
export const VEC: usize = 16;

/**
 * a·b + c per lane. The module is built twice (package.json `build:wasm`): with relaxed SIMD this
 * is one `f32x4.relaxed_madd`, which V8 compiles to a fused multiply-add (rounded once) where the
 * CPU has one; without, a multiply then an add (rounded twice). The constant is fixed at compile
 * time, so each build holds one branch only.
 */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
