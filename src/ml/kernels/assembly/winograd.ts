// Winograd F(4×4, 3×3) transforms for 3×3 stride-1 convolutions, NHWC, in WebAssembly SIMD.
// AssemblyScript, compiled by `asc` into a module that imports the wasm backend's own memory, so
// every pointer below is a byte offset into the backend's heap and tensors are used in place. The
// module must own no memory of its own (no data segments, no allocation): callers pass scratch.
//
// A 3×3 convolution over one 6×6 input tile d produces a 4×4 output tile
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
// so the 36 element-wise products, summed over input channels, are 36 matrix products
// M[k] = V[k] · U[k] (tiles × Ci by Ci × Co) that the caller runs on the backend's GEMM; here are
// the transforms around them and the ones of the backward pass:
//   dM = A dY Aᵀ (6×6 from a 4×4 output-gradient tile), dU[k] = V[k]ᵀ · dM[k], dg = Gᵀ dU G.
// Every vector holds 4 consecutive channels, the NHWC innermost dimension.

import { VEC } from './common';
import { mac4x4, mac4x8 } from './mac';

// ---- 1-D transforms, each on six (or three, four) vectors at a stride, results at a stride ----

/** Bᵀ·d for one column or row of a 6×6 input tile. */
@inline function inputRow(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = v128.load(src), d1 = v128.load(src + ss), d2 = v128.load(src + 2 * ss);
  const d3 = v128.load(src + 3 * ss), d4 = v128.load(src + 4 * ss), d5 = v128.load(src + 5 * ss);
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  const s34 = f32x4.add(d3, d4), t43 = f32x4.sub(d4, d3);
  const c = f32x4.sub(d4, d2), e = f32x4.mul(two, f32x4.sub(d3, d1));
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4));
  v128.store(dst + ds, f32x4.sub(s34, f32x4.mul(four, f32x4.add(d1, d2))));
  v128.store(dst + 2 * ds, f32x4.add(t43, f32x4.mul(four, f32x4.sub(d1, d2))));
  v128.store(dst + 3 * ds, f32x4.add(c, e));
  v128.store(dst + 4 * ds, f32x4.sub(c, e));
  v128.store(dst + 5 * ds, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5));
}

/** Aᵀ·m: four outputs from six products. */
@inline function outputRow(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = v128.load(src), m1 = v128.load(src + ss), m2 = v128.load(src + 2 * ss);
  const m3 = v128.load(src + 3 * ss), m4 = v128.load(src + 4 * ss), m5 = v128.load(src + 5 * ss);
  const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2), s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, s12), s34));
  v128.store(dst + ds, f32x4.add(d12, f32x4.mul(f32x4.splat(2), d34)));
  v128.store(dst + 2 * ds, f32x4.add(s12, f32x4.mul(f32x4.splat(4), s34)));
  v128.store(dst + 3 * ds, f32x4.add(f32x4.add(d12, f32x4.mul(f32x4.splat(8), d34)), m5));
}

/** A·y: six values from a four-value output-gradient row (the transpose of outputRow). */
@inline function gradRow(src: usize, ss: usize, dst: usize, ds: usize): void {
  const y0 = v128.load(src), y1 = v128.load(src + ss), y2 = v128.load(src + 2 * ss), y3 = v128.load(src + 3 * ss);
  const e = f32x4.add(y0, y2), o = f32x4.add(y1, y3);
  const e2 = f32x4.add(y0, f32x4.mul(f32x4.splat(4), y2));
  const o2 = f32x4.add(f32x4.mul(f32x4.splat(2), y1), f32x4.mul(f32x4.splat(8), y3));
  v128.store(dst, y0);
  v128.store(dst + ds, f32x4.add(e, o));
  v128.store(dst + 2 * ds, f32x4.sub(e, o));
  v128.store(dst + 3 * ds, f32x4.add(e2, o2));
  v128.store(dst + 4 * ds, f32x4.sub(e2, o2));
  v128.store(dst + 5 * ds, y3);
}

/** G·g: six values from three filter taps. */
@inline function filterRow(src: usize, ss: usize, dst: usize, ds: usize): void {
  const g0 = v128.load(src), g1 = v128.load(src + ss), g2 = v128.load(src + 2 * ss);
  const sixth = f32x4.splat(<f32>1 / 6);
  const p = f32x4.add(g0, g2);
  const q = f32x4.add(f32x4.mul(g0, f32x4.splat(<f32>1 / 24)), f32x4.mul(g2, sixth));
  const r = f32x4.mul(g1, f32x4.splat(<f32>1 / 12));
  v128.store(dst, f32x4.mul(g0, f32x4.splat(0.25)));
  v128.store(dst + ds, f32x4.neg(f32x4.mul(f32x4.add(p, g1), sixth)));
  v128.store(dst + 2 * ds, f32x4.neg(f32x4.mul(f32x4.sub(p, g1), sixth)));
  v128.store(dst + 3 * ds, f32x4.add(q, r));
  v128.store(dst + 4 * ds, f32x4.sub(q, r));
  v128.store(dst + 5 * ds, g2);
}

/** Gᵀ·u: three filter-tap gradients from six (the transpose of filterRow). */
@inline function filterGradRow(src: usize, ss: usize, dst: usize, ds: usize): void {
  const u0 = v128.load(src), u1 = v128.load(src + ss), u2 = v128.load(src + 2 * ss);
  const u3 = v128.load(src + 3 * ss), u4 = v128.load(src + 4 * ss), u5 = v128.load(src + 5 * ss);
  const sixth = f32x4.splat(<f32>1 / 6);
  const s12 = f32x4.add(u1, u2), s34 = f32x4.add(u3, u4);
  const n12 = f32x4.mul(s12, sixth);
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(u0, f32x4.splat(0.25)), n12), f32x4.mul(s34, f32x4.splat(<f32>1 / 24))));
  v128.store(dst + ds, f32x4.add(f32x4.mul(f32x4.sub(u2, u1), sixth), f32x4.mul(f32x4.sub(u3, u4), f32x4.splat(<f32>1 / 12))));
  v128.store(dst + 2 * ds, f32x4.add(f32x4.sub(f32x4.mul(s34, sixth), n12), u5));
}

// ---- tile transforms over a batch ----
// The filter gradient's transforms stage one tile's 36 rows of C channels in scratch and move whole
// rows between scratch and the 36 matrices: the matrices lie at large power-of-two distances from
// each other, so touching the same offset in all 36 at once would evict lines before their use.

/**
 * V[k, t, c] = (Bᵀ d B)[k] for every 6×6 tile t = (image, ty, tx) of the padded images xp
 * [n, 4·tilesY + 2, 4·tilesX + 2, C] (from padImages), the tile's top-left pixel at (4·ty, 4·tx).
 * V[k] is the [T, C] matrix at out + 4·k·kStride. scratch: 36·C + 4·36·4 floats.
 */
export function inputTransform(xp: usize, n: i32, c: i32, tilesY: i32, tilesX: i32, out: usize, kStride: i32, scratch: usize): void {
  const pw = tilesX * 4 + 2, ph = tilesY * 4 + 2;
  const pix = <usize>c << 2, rowBytes = <usize>pw * pix, ks = <usize>kStride << 2;
  const rows = scratch, tmp = scratch + 36 * pix;
  let t = 0;
  for (let img = 0; img < n; img++) {
    const xImg = xp + <usize>img * <usize>ph * rowBytes;
    for (let ty = 0; ty < tilesY; ty++) {
      for (let tx = 0; tx < tilesX; tx++, t++) {
        const tile = xImg + <usize>(ty * 4) * rowBytes + <usize>(tx * 4) * pix;
        for (let ch: usize = 0; ch < <usize>c * 4; ch += VEC) {
          // Down each column j into tmp[i][j]; then each row i into rows[6i + j][ch].
          for (let j: usize = 0; j < 6; j++) inputRow(tile + j * pix + ch, rowBytes, tmp + j * VEC, 6 * VEC);
          for (let i: usize = 0; i < 6; i++) inputRow(tmp + i * 6 * VEC, VEC, rows + i * 6 * pix + ch, pix);
        }
        const dst = out + <usize>t * pix;
        for (let k: usize = 0; k < 36; k++) copyRow(dst + k * ks, rows + k * pix, pix);
      }
    }
  }
}

/**
 * dM[k, t, c] = (A dY Aᵀ)[k] for every 4×4 tile t of the output gradient dyp [n, 4·tilesY,
 * 4·tilesX, C] (padded with zeros by padImages when the output size is not a multiple of 4),
 * stored like inputTransform's V. scratch: 36·C + 4·36·4 floats.
 */
export function gradTransform(dyp: usize, n: i32, c: i32, tilesY: i32, tilesX: i32, out: usize, kStride: i32, scratch: usize): void {
  const pix = <usize>c << 2, rowBytes = <usize>(tilesX * 4) * pix, ks = <usize>kStride << 2;
  const rows = scratch, tmp = scratch + 36 * pix;
  let t = 0;
  for (let img = 0; img < n; img++) {
    const dyImg = dyp + <usize>img * <usize>(tilesY * 4) * rowBytes;
    for (let ty = 0; ty < tilesY; ty++) {
      for (let tx = 0; tx < tilesX; tx++, t++) {
        const tile = dyImg + <usize>(ty * 4) * rowBytes + <usize>(tx * 4) * pix;
        for (let ch: usize = 0; ch < <usize>c * 4; ch += VEC) {
          // Down each of the 4 columns: tmp[i][j], i = 0..5; then each row i: rows[6i + j][ch].
          for (let j: usize = 0; j < 4; j++) gradRow(tile + j * pix + ch, rowBytes, tmp + j * VEC, 6 * VEC);
          for (let i: usize = 0; i < 6; i++) gradRow(tmp + i * 6 * VEC, VEC, rows + i * 6 * pix + ch, pix);
        }
        const dst = out + <usize>t * pix;
        for (let k: usize = 0; k < 36; k++) copyRow(dst + k * ks, rows + k * pix, pix);
      }
    }
  }
}

/** Copies a row of `bytes` (a multiple of 16); rows here are short, where a vector loop beats memory.copy's call. */
@inline function copyRow(dst: usize, src: usize, bytes: usize): void {
  for (let i: usize = 0; i < bytes; i += VEC) v128.store(dst + i, v128.load(src + i));
}

/**
 * Byte offset of U[k][i][o..o+3] in a plane of U, which holds its [Ci, Co] matrix in panels of eight
 * columns (a last one of four when Co is not a multiple of 8), each panel [Ci][8] contiguous: the
 * forward's products read a panel row after row, so consecutive reads are adjacent. Read in place
 * with rows Co floats apart, the rows of wide layers (512 channels: 2 KiB) all fall in a few
 * cache sets and every read missed the L1 cache.
 */
@inline function panelOffset(i: usize, o: usize, ci: usize, co: usize): usize {
  const first = o & ~7;                       // the panel's first column
  const width = min<usize>(8, co - first);
  return (first * ci + i * width + (o & 7)) << 2;
}

/**
 * U[k] = (G g Gᵀ)[k] for a filter w [3, 3, Ci, Co] (Co a multiple of 4), each [Ci, Co] plane in
 * panels of eight columns (panelOffset), U's 36 planes `uStride` floats apart: more than ci·co, so
 * that they do not share cache sets. scratch: 18 vectors.
 */
export function filterTransform(w: usize, ci: i32, co: i32, out: usize, uStride: i32, scratch: usize): void {
  const block = <usize>(ci * co) << 2, plane = <usize>uStride << 2;   // bytes between taps of w, planes of U
  const tmp = scratch;
  for (let i = 0; i < ci; i++) {
    for (let o = 0; o < co; o += 4) {
      const src = w + (<usize>(i * co + o) << 2);
      // Down each of the 3 columns: tmp[r][j], r = 0..5; then each row r to U[6r + j].
      for (let j = 0; j < 3; j++) filterRow(src + <usize>j * block, 3 * block, tmp + <usize>j * VEC, 3 * VEC);
      const dst = out + panelOffset(<usize>i, <usize>o, <usize>ci, <usize>co);
      for (let r = 0; r < 6; r++) filterRow(tmp + <usize>r * 3 * VEC, VEC, dst + <usize>(r * 6) * plane, plane);
    }
  }
}

/**
 * dw [3, 3, Ci, Co] = Gᵀ dU G from dU, 36 [Ci, Co] planes `duStride` floats apart; added to what dw
 * holds when accumulate ≠ 0. scratch: 2·36 vectors.
 */
export function filterGradTransform(du: usize, duStride: i32, ci: i32, co: i32, dw: usize, accumulate: i32, scratch: usize): void {
  const block = <usize>(ci * co) << 2, ks = <usize>duStride << 2;
  const tmp = scratch, res = scratch + 36 * VEC;
  for (let i = 0; i < ci; i++) {
    for (let o = 0; o < co; o += 4) {
      const src = du + (<usize>(i * co + o) << 2);
      // Down each of the 6 columns: tmp[r][j], r = 0..2; then each row r to res[r][0..2].
      for (let j: usize = 0; j < 6; j++) filterGradRow(src + j * ks, 6 * ks, tmp + j * VEC, 6 * VEC);
      for (let r: usize = 0; r < 3; r++) filterGradRow(tmp + r * 6 * VEC, VEC, res + r * 3 * VEC, VEC);
      const dst = dw + (<usize>(i * co + o) << 2);
      for (let k: usize = 0; k < 9; k++) {
        const p = dst + k * block;
        const v = v128.load(res + k * VEC);
        v128.store(p, accumulate != 0 ? f32x4.add(v128.load(p), v) : v);
      }
    }
  }
}

// ---- the filter gradient's products ----

/** Rows of V and dM per pass of filterGradProducts: the pass's packed rows of both stay in cache. */
const T_BLOCK = 64;

/** Scratch floats filterGradProducts needs: one pass's rows of V and dM, packed. */
export function gradProductScratchFloats(ci: i32, co: i32): i32 {
  return T_BLOCK * (ci + co);
}

/**
 * Copies `rows` rows of a row-major [rows, c] block (rows `rowBytes` apart) into panels of `width`
 * channels, [c / width][rows][width] (a last panel of 4 when c is not a multiple of the width), so
 * that the products read each operand contiguously. In place, the rows of a wide layer (512
 * channels: 2 KiB apart) all fall in a few cache sets, and every read missed the L1 cache.
 */
@inline function packPanels(src: usize, rowBytes: usize, rows: usize, c: usize, width: usize, dst: usize): void {
  const full = c & ~(width - 1);
  const panel = (width * rows) << 2;
  for (let r: usize = 0; r < rows; r++) {
    const s = src + r * rowBytes;
    let d = dst + ((r * width) << 2);
    for (let ch: usize = 0; ch < full; ch += width, d += panel) {
      v128.store(d, v128.load(s + (ch << 2)));
      if (width == 8) v128.store(d + VEC, v128.load(s + (ch << 2) + VEC));
    }
    if (full < c) v128.store(dst + ((full * rows + r * 4) << 2), v128.load(s + (full << 2)));
  }
}

/**
 * Layers with at least this many channels in and out together pack each pass's operands (measured
 * with bench-like shapes: 1.1× at 64 + 64 channels, 1.25× at 256 + 256, 1.4–1.5× at 512 + 512);
 * narrower ones read them in place, where rows no more than 256 bytes long do not collide in the
 * cache and the copy would cost more than it saves (0.9× at 16 + 16).
 */
const PACK_CHANNELS = 128;

/**
 * dU[k] = V[k]ᵀ · dM[k] for k = 0..35: dU[k] [Ci, Co] at du + 4·k·duStride; V[k] [T, Ci] at v + 4·k·vStride,
 * dM[k] [T, Co] at dm + 4·k·dmStride. The reduction runs over the T tiles in passes of T_BLOCK
 * rows, with 4 ci × 8 co accumulators (four broadcast V values times two dM vectors per row);
 * wide layers first pack the pass's rows of V in panels of 4 channels and of dM in panels of 8.
 * The order of every sum is the same either way. Ci and Co are multiples of 4.
 * pack: gradProductScratchFloats(ci, co) floats.
 */
export function filterGradProducts(v: usize, dm: usize, t: i32, ci: i32, co: i32, vStride: i32, dmStride: i32, du: usize, duStride: i32, pack: usize): void {
  const vRow = <usize>ci << 2, dRow = <usize>co << 2;
  const vPack = pack, dPack = pack + <usize>T_BLOCK * vRow;
  const packed = ci + co >= PACK_CHANNELS;
  for (let k: usize = 0; k < 36; k++) {
    const vk = v + k * (<usize>vStride << 2), dk = dm + k * (<usize>dmStride << 2);
    const uk = du + k * (<usize>duStride << 2);
    memory.fill(uk, 0, <usize>ci * dRow);
    for (let t0 = 0; t0 < t; t0 += T_BLOCK) {
      const rows = <usize>min(T_BLOCK, t - t0);
      const vb = vk + <usize>t0 * vRow, db = dk + <usize>t0 * dRow;
      // Where channel i of the pass's first row lies (a + i·aChannel), and the bytes between rows.
      let a = vb, aChannel: usize = 4, aStep = vRow, b = db, bChannel: usize = 4, bStep = dRow, bTail = dRow;
      if (packed) {
        packPanels(vb, vRow, rows, <usize>ci, 4, vPack);
        packPanels(db, dRow, rows, <usize>co, 8, dPack);
        a = vPack; aChannel = rows << 2; aStep = VEC;
        b = dPack; bChannel = rows << 2; bStep = 2 * VEC; bTail = VEC;
      }
      for (let i: usize = 0; i < <usize>ci; i += 4) {
        let o: usize = 0;
        for (; o + 8 <= <usize>co; o += 8) mac4x8(a + i * aChannel, aStep, 4, b + o * bChannel, bStep, <i32>rows, 1, 0, 0, uk + i * dRow + (o << 2), dRow, 1);
        if (o < <usize>co) mac4x4(a + i * aChannel, aStep, 4, b + o * bChannel, bTail, <i32>rows, 1, 0, 0, uk + i * dRow + (o << 2), dRow, 1);
      }
    }
  }
}

// ---- the forward convolution, fused ----

/**
 * Tiles per block of the fused forward: the block's transformed inputs and products stay in cache
 * while the 36 transformed filters U[k] stream past, once per block. U holds 36·Ci·Co values and a
 * block's data 36·(Ci + Co) per tile, so blocks of about Ci·Co / (Ci + Co) tiles read U no more
 * than their own data: 16 tiles for the narrow layers of the 32-px studies, the cap of 128 from
 * 256 channels up (VGG16's wide layers, where 16-tile blocks read U from memory again and again:
 * measured 1.2–1.45× slower at 224 px). The block size changes no result: each output is the same
 * products summed in the same order.
 */
export function tileBlock(ci: i32, co: i32): i32 {
  const balanced = (<i32>((<i64>ci * <i64>co) / <i64>(ci + co)) + 3) & ~3;
  return max(16, min(128, balanced));
}

/** Floats between the k planes of a block's matrices: a plane of `c` channels plus one cache line,
 *  so that the 36 planes do not all map to the same cache sets. */
@inline function blockPlane(tb: i32, c: i32): usize {
  return <usize>(tb * c + 16);
}

/** Scratch floats winogradForward needs for ci input and co output channels. */
export function forwardScratchFloats(ci: i32, co: i32): i32 {
  const tb = tileBlock(ci, co);
  const planes: usize = (blockPlane(tb, ci) + blockPlane(tb, co)) * 36;
  return <i32>planes + 4 * 36 * 4;
}

/**
 * y [n, oh, ow, Co] = the 3×3 convolution of the padded images xp [n, 4·tilesY + 2, 4·tilesX + 2, Ci]
 * (from padImages) with the transformed filter u (from filterTransform, planes uStride floats apart), plus
 * bias[c] when bias ≠ 0, then max(·, 0) when relu ≠ 0. Per block of tileBlock(ci, co) tiles: the input
 * transform, the 36 products V[k]·U[k] (4 tiles × 8 channels per pass), and the output transform,
 * all on data that stays in cache. Ci and Co are multiples of 4.
 * scratch: forwardScratchFloats(ci, co) floats.
 */
export function winogradForward(xp: usize, n: i32, ci: i32, co: i32, tilesY: i32, tilesX: i32, u: usize,
  uStride: i32, y: usize, oh: i32, ow: i32, bias: usize, relu: i32, scratch: usize): void {
  const pw = tilesX * 4 + 2, ph = tilesY * 4 + 2;
  const ciB = <usize>ci << 2, coB = <usize>co << 2;
  const xRow = <usize>pw * ciB, yRow = <usize>ow * coB;
  const tb = tileBlock(ci, co);
  const vk = blockPlane(tb, ci) << 2, mk = blockPlane(tb, co) << 2;   // bytes between k planes
  const vBlk = scratch, mBlk = vBlk + 36 * vk, tmp = mBlk + 36 * mk, res = tmp + 36 * VEC;
  const zero = f32x4.splat(0);
  const total = n * tilesY * tilesX;
  // The tile (img, ty, tx) where the current block starts.
  let img = 0, ty = 0, tx = 0;
  for (let t0 = 0; t0 < total; t0 += tb) {
    const nb = min(tb, total - t0);
    // Input transform of the block's tiles into vBlk[k][j][ci].
    let bi = img, by = ty, bx = tx;
    for (let j = 0; j < nb; j++) {
      const tile = xp + (<usize>bi * <usize>ph + <usize>(by * 4)) * xRow + <usize>(bx * 4) * ciB;
      const dst = vBlk + <usize>j * ciB;
      for (let ch: usize = 0; ch < ciB; ch += VEC) {
        for (let c: usize = 0; c < 6; c++) inputRow(tile + c * ciB + ch, xRow, tmp + c * VEC, 6 * VEC);
        for (let r: usize = 0; r < 6; r++) inputRow(tmp + r * 6 * VEC, VEC, dst + r * 6 * vk + ch, vk);
      }
      if (++bx == tilesX) { bx = 0; if (++by == tilesY) { by = 0; bi++; } }
    }
    // Rows past the last tile (a partial final block) take part in the 4-tile passes: zero them.
    const rows4 = (nb + 3) & ~3;
    for (let k: usize = 0; k < 36; k++) {
      if (nb < rows4) memory.fill(vBlk + k * vk + <usize>nb * ciB, 0, <usize>(rows4 - nb) * ciB);
    }
    // Products: mBlk[k][j][co] = Σ_ci vBlk[k][j][ci] · u[k][ci][co], u's columns in panels of 8.
    for (let k: usize = 0; k < 36; k++) {
      const a = vBlk + k * vk, b = u + k * (<usize>uStride << 2), m = mBlk + k * mk;
      for (let j: usize = 0; j < <usize>rows4; j += 4) {
        let o: usize = 0;
        for (; o + 8 <= <usize>co; o += 8) mac4x8(a + j * ciB, 4, ciB, b + o * ciB, 2 * VEC, ci, 1, 0, 0, m + j * coB + (o << 2), coB, 0);
        if (o < <usize>co) mac4x4(a + j * ciB, 4, ciB, b + o * ciB, VEC, ci, 1, 0, 0, m + j * coB + (o << 2), coB, 0);
      }
    }
    // Output transform of the block's tiles.
    for (let j = 0; j < nb; j++) {
      const y0 = ty * 4, x0 = tx * 4;
      const nRows = min(4, oh - y0), nCols = min(4, ow - x0);
      const out = y + (<usize>img * <usize>oh + <usize>y0) * yRow + <usize>x0 * coB;
      const src = mBlk + <usize>j * coB;
      for (let ch: usize = 0; ch < coB; ch += VEC) {
        for (let c: usize = 0; c < 6; c++) outputRow(src + c * mk + ch, 6 * mk, tmp + c * VEC, 6 * VEC);
        for (let r: usize = 0; r < 4; r++) outputRow(tmp + r * 6 * VEC, VEC, res + r * 4 * VEC, VEC);
        const b = bias != 0 ? v128.load(bias + ch) : zero;
        for (let r = 0; r < nRows; r++) {
          const dstRow = out + <usize>r * yRow + ch;
          for (let c = 0; c < nCols; c++) {
            let v = f32x4.add(v128.load(res + <usize>(r * 4 + c) * VEC), b);
            if (relu != 0) v = f32x4.max(v, zero);
            v128.store(dstRow + <usize>c * coB, v);
          }
        }
      }
      if (++tx == tilesX) { tx = 0; if (++ty == tilesY) { ty = 0; img++; } }
    }
  }
}
