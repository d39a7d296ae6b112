// A general matrix product on the shared multiply-accumulate blocks, for products whose right
// operand is new at every call (a layer's weights during training), where XNNPACK first repacks
// it at about 10 ns a value. Part of the SIMD kernel module on the wasm backend's memory.
import { VEC } from './common';
import { mac1x4, mac4x4, mac4x8 } from './mac';

/**
 * c [m, n] = a · b (+ bias[j], then max(·, 0), when asked), or c += a · b when accumulate ≠ 0 (then
 * with no bias and no ReLU), where a's element (i, l) is at
 * a + i·aRow + l·aCol (bytes: a row-major a has aRow = 4·lda, aCol = 4; a transposed one the
 * reverse) and b [k, n] is row-major with rows ldb floats apart; c's rows are ldc floats apart.
 * Column blocks of eight are the outer loop, so each block of b (copied to `pack`, k·8 floats)
 * stays in cache while every row of a passes. n is a multiple of 4.
 */
export function gemm(a: usize, aRow: usize, aCol: usize, b: usize, ldb: i32, c: usize, ldc: i32,
  m: i32, k: i32, n: i32, bias: usize, relu: i32, pack: usize, accumulate: i32): void {
  const bRow = <usize>ldb << 2, cRow = <usize>ldc << 2;
  const m4 = m & ~3;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    // The block's eight columns of b, copied contiguously: read in place they would use half of
    // every cache line and a page per row.
    const src = b + (<usize>j << 2);
    for (let l: usize = 0; l < <usize>k; l++) {
      v128.store(pack + l * 2 * VEC, v128.load(src + l * bRow));
      v128.store(pack + l * 2 * VEC + VEC, v128.load(src + l * bRow + VEC));
    }
    const cj = c + (<usize>j << 2);
    for (let i = 0; i < m4; i += 4) mac4x8(a + <usize>i * aRow, aCol, aRow, pack, 2 * VEC, k, 1, 0, 0, cj + <usize>i * cRow, cRow, accumulate);
    for (let i = m4; i < m; i++) {
      mac1x4(a + <usize>i * aRow, aCol, pack, 2 * VEC, k, 1, 0, 0, cj + <usize>i * cRow, accumulate);
      mac1x4(a + <usize>i * aRow, aCol, pack + VEC, 2 * VEC, k, 1, 0, 0, cj + <usize>i * cRow + VEC, accumulate);
    }
  }
  for (; j < n; j += 4) {
    const bj = b + (<usize>j << 2), cj = c + (<usize>j << 2);
    for (let i = 0; i < m4; i += 4) mac4x4(a + <usize>i * aRow, aCol, aRow, bj, bRow, k, 1, 0, 0, cj + <usize>i * cRow, cRow, accumulate);
    for (let i = m4; i < m; i++) mac1x4(a + <usize>i * aRow, aCol, bj, bRow, k, 1, 0, 0, cj + <usize>i * cRow, accumulate);
  }
  if (bias == 0 && relu == 0) return;
  const zero = f32x4.splat(0);
  for (let i = 0; i < m; i++) {
    const row = c + <usize>i * cRow;
    for (let jj: usize = 0; jj < <usize>n << 2; jj += VEC) {
      let v = v128.load(row + jj);
      if (bias != 0) v = f32x4.add(v, v128.load(bias + jj));
      if (relu != 0) v = f32x4.max(v, zero);
      v128.store(row + jj, v);
    }
  }
}
