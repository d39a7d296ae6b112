// Shared by the SIMD kernel module's sources.

/** Bytes in one v128 vector: four float32 channels. */
export const VEC: usize = 16;
