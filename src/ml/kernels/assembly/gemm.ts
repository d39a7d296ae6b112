// A general matrix product on the shared multiply-accumulate blocks, for products whose right
// operand is new at every call (a layer's weights during training), where XNNPACK first repacks
// it at about 10 ns a value. Part of the SIMD kernel module on the wasm backend's memory.
import { VEC, madd } from './common';
import { mac1x4, mac4x4, mac4x8 } from './mac';

/** Right operands of at most this many bytes, with a c spanning more than C_SPAN_BYTES, are read in
 *  place with rows of c outer (see gemm). */
const SMALL_B_BYTES: usize = 256 * 1024;
const C_SPAN_BYTES: usize = 8 * 1024 * 1024;

/** Rows of b packed per pass when b is large: a pass's block of eight columns stays in L1. */
const K_BLOCK = 512;

/** Columns of c per chunk of the few-rows product: four rows of a chunk (16 KiB) stay in L1. */
const N_CHUNK = 1024;

/**
 * c[r, j0..j1) (+)= Σ_l a[r, l] · b[l, j0..j1) for the R = 1, 2 or 4 rows of a at a (rows aRow bytes
 * apart, elements aCol apart), streaming b's rows front to back two at a time: each row of c
 * is read and written once per two rows of b and stays in L1 while b streams from memory. Every
 * output is the same chain of multiply-adds, l = 0, 1, …, as in the register blocks of mac.ts.
 */
@inline function fewRows(R: i32, a: usize, aRow: usize, aCol: usize, b: usize, bRow: usize, c: usize, cRow: usize,
  k: i32, j0: usize, j1: usize, accumulate: i32): void {
  if (accumulate == 0) {
    for (let r = 0; r < R; r++) memory.fill(c + <usize>r * cRow + (j0 << 2), 0, (j1 - j0) << 2);
  }
  let l = 0;
  for (; l + 2 <= k; l += 2) {
    const al = a + <usize>l * aCol, b0 = b + <usize>l * bRow + (j0 << 2), b1 = b0 + bRow;
    const x00 = v128.load32_splat(al), x01 = v128.load32_splat(al + aCol);
    const x10 = R > 1 ? v128.load32_splat(al + aRow) : x00, x11 = R > 1 ? v128.load32_splat(al + aRow + aCol) : x00;
    const x20 = R > 2 ? v128.load32_splat(al + 2 * aRow) : x00, x21 = R > 2 ? v128.load32_splat(al + 2 * aRow + aCol) : x00;
    const x30 = R > 2 ? v128.load32_splat(al + 3 * aRow) : x00, x31 = R > 2 ? v128.load32_splat(al + 3 * aRow + aCol) : x00;
    const end = (j1 - j0) << 2;
    let c0 = c + (j0 << 2);
    for (let o: usize = 0; o < end; o += VEC, c0 += VEC) {
      const u = v128.load(b0 + o), v = v128.load(b1 + o);
      v128.store(c0, madd(x01, v, madd(x00, u, v128.load(c0))));
      if (R > 1) v128.store(c0 + cRow, madd(x11, v, madd(x10, u, v128.load(c0 + cRow))));
      if (R > 2) {
        v128.store(c0 + 2 * cRow, madd(x21, v, madd(x20, u, v128.load(c0 + 2 * cRow))));
        v128.store(c0 + 3 * cRow, madd(x31, v, madd(x30, u, v128.load(c0 + 3 * cRow))));
      }
    }
  }
  if (l < k) {
    const al = a + <usize>l * aCol, b0 = b + <usize>l * bRow + (j0 << 2);
    const x0 = v128.load32_splat(al);
    const x1 = R > 1 ? v128.load32_splat(al + aRow) : x0;
    const x2 = R > 2 ? v128.load32_splat(al + 2 * aRow) : x0, x3 = R > 2 ? v128.load32_splat(al + 3 * aRow) : x0;
    const end = (j1 - j0) << 2;
    let c0 = c + (j0 << 2);
    for (let o: usize = 0; o < end; o += VEC, c0 += VEC) {
      const u = v128.load(b0 + o);
      v128.store(c0, madd(x0, u, v128.load(c0)));
      if (R > 1) v128.store(c0 + cRow, madd(x1, u, v128.load(c0 + cRow)));
      if (R > 2) {
        v128.store(c0 + 2 * cRow, madd(x2, u, v128.load(c0 + 2 * cRow)));
        v128.store(c0 + 3 * cRow, madd(x3, u, v128.load(c0 + 3 * cRow)));
      }
    }
  }
}

/** The few-rows product for m ≤ 8 rows: groups of 4, 2 and 1 rows, each over chunks of N_CHUNK columns. */
function gemmFewRows(a: usize, aRow: usize, aCol: usize, b: usize, bRow: usize, c: usize, cRow: usize,
  m: i32, k: i32, n: i32, accumulate: i32): void {
  let i = 0;
  while (i < m) {
    const rows = m - i >= 4 ? 4 : m - i >= 2 ? 2 : 1;
    const ai = a + <usize>i * aRow, ci = c + <usize>i * cRow;
    for (let j0: usize = 0; j0 < <usize>n; j0 += N_CHUNK) {
      const j1 = min<usize>(<usize>n, j0 + N_CHUNK);
      if (rows == 4) fewRows(4, ai, aRow, aCol, b, bRow, ci, cRow, k, j0, j1, accumulate);
      else if (rows == 2) fewRows(2, ai, aRow, aCol, b, bRow, ci, cRow, k, j0, j1, accumulate);
      else fewRows(1, ai, aRow, aCol, b, bRow, ci, cRow, k, j0, j1, accumulate);
    }
    i += rows;
  }
}

/**
 * c [m, n] = a · b (+ bias[j], then max(·, 0), when asked), or c += a · b when accumulate ≠ 0 (then
 * with no bias and no ReLU), where a's element (i, l) is at
 * a + i·aRow + l·aCol (bytes: a row-major a has aRow = 4·lda, aCol = 4; a transposed one the
 * reverse) and b [k, n] is row-major with rows ldb floats apart; c's rows are ldc floats apart.
 * n is a multiple of 4. Three orders; the first two sum every output as one chain of
 * multiply-adds over l = 0, 1, …, the third in passes of K_BLOCK rows when k is longer:
 *  - b small and c large (a wide dense layer's weight gradient, whose k is the batch): blocks of
 *    four rows of c outer, b read in place from cache, so c is written row after row. Column
 *    blocks outer wrote c 32 bytes a row at a time, rows a page or more apart, beyond what the
 *    TLB maps (VGG16's fc1 at a batch of 5: 337 ms, now 111 ms); on a c of a few MiB they stay
 *    faster (1.1–1.2× at 1024 × 1024).
 *  - at most 8 rows of a (a dense layer at a small batch, or batch-1 timing): fewRows streams b
 *    once, front to back (fc1's forward at batch 1: 420 ms, now 71 ms).
 *  - otherwise: column blocks of eight outer, each block of b copied to `pack` (K_BLOCK·8 floats at
 *    most) and kept in cache while every row of a passes. Passes of K_BLOCK rows keep the copy
 *    from reading a page per row of b for the whole of k (fc1's forward at a batch of 5: 0.7 s).
 */
export function gemm(a: usize, aRow: usize, aCol: usize, b: usize, ldb: i32, c: usize, ldc: i32,
  m: i32, k: i32, n: i32, bias: usize, relu: i32, pack: usize, accumulate: i32): void {
  const bRow = <usize>ldb << 2, cRow = <usize>ldc << 2;
  const m4 = m & ~3;
  if (<usize>k * (<usize>n << 2) <= SMALL_B_BYTES && <usize>m * cRow > C_SPAN_BYTES) {
    for (let i = 0; i < m4; i += 4) {
      const ai = a + <usize>i * aRow, ci = c + <usize>i * cRow;
      let j = 0;
      for (; j + 8 <= n; j += 8) mac4x8(ai, aCol, aRow, b + (<usize>j << 2), bRow, k, 1, 0, 0, ci + (<usize>j << 2), cRow, accumulate);
      if (j < n) mac4x4(ai, aCol, aRow, b + (<usize>j << 2), bRow, k, 1, 0, 0, ci + (<usize>j << 2), cRow, accumulate);
    }
    for (let i = m4; i < m; i++) {
      for (let j = 0; j < n; j += 4) mac1x4(a + <usize>i * aRow, aCol, b + (<usize>j << 2), bRow, k, 1, 0, 0, c + <usize>i * cRow + (<usize>j << 2), accumulate);
    }
  } else if (m <= 8) {
    gemmFewRows(a, aRow, aCol, b, bRow, c, cRow, m, k, n, accumulate);
  } else {
    for (let k0 = 0; k0 < k; k0 += K_BLOCK) {
      const kb = min(K_BLOCK, k - k0);
      // The first pass stores (or adds, when asked); later passes add to it.
      const acc = k0 == 0 ? accumulate : 1;
      const ak = a + <usize>k0 * aCol, bk = b + <usize>k0 * bRow;
      let j = 0;
      for (; j + 8 <= n; j += 8) {
        // The block's eight columns of b, copied contiguously: read in place they would use half of
        // every cache line and a page per row.
        const src = bk + (<usize>j << 2);
        for (let l: usize = 0; l < <usize>kb; l++) {
          v128.store(pack + l * 2 * VEC, v128.load(src + l * bRow));
          v128.store(pack + l * 2 * VEC + VEC, v128.load(src + l * bRow + VEC));
        }
        const cj = c + (<usize>j << 2);
        for (let i = 0; i < m4; i += 4) mac4x8(ak + <usize>i * aRow, aCol, aRow, pack, 2 * VEC, kb, 1, 0, 0, cj + <usize>i * cRow, cRow, acc);
        for (let i = m4; i < m; i++) {
          mac1x4(ak + <usize>i * aRow, aCol, pack, 2 * VEC, kb, 1, 0, 0, cj + <usize>i * cRow, acc);
          mac1x4(ak + <usize>i * aRow, aCol, pack + VEC, 2 * VEC, kb, 1, 0, 0, cj + <usize>i * cRow + VEC, acc);
        }
      }
      for (; j < n; j += 4) {
        const bj = bk + (<usize>j << 2), cj = c + (<usize>j << 2);
        for (let i = 0; i < m4; i += 4) mac4x4(ak + <usize>i * aRow, aCol, aRow, bj, bRow, kb, 1, 0, 0, cj + <usize>i * cRow, cRow, acc);
        for (let i = m4; i < m; i++) mac1x4(ak + <usize>i * aRow, aCol, bj, bRow, kb, 1, 0, 0, cj + <usize>i * cRow, acc);
      }
    }
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
