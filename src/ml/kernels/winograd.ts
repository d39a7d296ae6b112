// 3×3 stride-1 convolutions and their filter gradients by Winograd's minimal filtering, F(4×4, 3×3):
// 36 products per 6×6 input tile yield 16 outputs, where the direct method multiplies 144 times,
// so the matrix products (run on the backend's XNNPACK GEMM) do 4× fewer FLOPs. The transforms
// around them are SIMD code in `assembly/winograd.ts` (see simd-module.ts).
import { type TensorInfo } from '@tensorflow/tfjs';
import { type BackendWasm, type Scope } from './wasm-ops.js';
import type { ConvGeometry } from './conv-geometry.js';
import { simdKernels } from './simd-module.js';

/** Floats of scratch the transforms need: one tile's 36 rows of `channels`, and 4·36 vectors. */
const scratchFloats = (channels: number) => 36 * channels + 4 * 36 * 4;
const TABLE_ENTRIES = 36;

export const winogradOptions = {
  // Tiles per group of images: large enough that each of the 36 GEMMs runs near XNNPACK's peak,
  // small enough that a group's transformed tiles stay near the cache. Measured (bench:kernels).
  tilesPerGroup: 1024,
  // Off switch, for benchmarks and A/B comparisons against the direct convolution.
  enabled: true,
};

const tilesOf = (size: number) => Math.ceil(size / 4);

function address(s: Scope, t: TensorInfo): number {
  return s.backend.getMemoryOffset(t.dataId);
}

/** A table of 36 byte addresses in wasm memory, one per product matrix. */
function pointerTable(s: Scope, table: TensorInfo, parts: (TensorInfo | number)[]): number {
  const at = address(s, table);
  const heap = new Uint32Array((s.backend as unknown as { wasm: { HEAPU32: Uint32Array } }).wasm.HEAPU32.buffer, at, TABLE_ENTRIES);
  parts.forEach((p, k) => { heap[k] = typeof p === 'number' ? p : address(s, p); });
  return at;
}

/** Image groups of about `tilesPerGroup` tiles. */
function imageGroups(batch: number, tilesPerImage: number): [number, number][] {
  const per = Math.max(1, Math.floor(winogradOptions.tilesPerGroup / tilesPerImage));
  const groups: [number, number][] = [];
  for (let b = 0; b < batch; b += per) groups.push([b, Math.min(per, batch - b)]);
  return groups;
}

export interface WinogradEpilogue { bias?: TensorInfo; relu?: boolean }

/**
 * y[n, oy, ox, co] = Σ x[n, oy + kh − padTop, ox + kw − padLeft, ci] · w[kh, kw, ci, co] (+ bias, ReLU),
 * for the geometry's input and output sizes (any padding; zeros outside the image).
 */
export function winogradConv(s: Scope, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, epilogue: WinogradEpilogue = {}): TensorInfo {
  const wasm = simdKernels(s.backend);
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, outC: co } = g;
  const tilesY = tilesOf(oh), tilesX = tilesOf(ow), perImage = tilesY * tilesX;
  const ph = 4 * tilesY + 2, pw = 4 * tilesX + 2;
  const scratch = s.alloc([scratchFloats(Math.max(ci, co))]);
  const table = s.alloc([TABLE_ENTRIES]);
  const u = s.alloc([36, ci, co]);
  wasm.filterTransform(address(s, filter), ci, co, address(s, u), address(s, scratch));
  const y = s.alloc([n, oh, ow, co]);
  const bias = epilogue.bias === undefined ? 0 : address(s, epilogue.bias);
  for (const [b0, nb] of imageGroups(n, perImage)) {
    const t = nb * perImage;
    const xp = s.alloc([nb, ph, pw, ci]);
    wasm.padImages(address(s, x) + 4 * b0 * h * w * ci, nb, h, w, ci, g.padTop, g.padLeft, ph, pw, address(s, xp));
    const v = s.alloc([36, t, ci]);
    wasm.inputTransform(address(s, xp), nb, ci, tilesY, tilesX, address(s, v), t * ci, address(s, scratch));
    s.release(xp);
    const products: TensorInfo[] = [];
    for (let k = 0; k < 36; k++) {
      products.push(gemm(s, s.alias(v, k * t * ci, [1, t, ci]), s.alias(u, k * ci * co, [1, ci, co])));
    }
    wasm.outputTransform(pointerTable(s, table, products), nb, oh, ow, co, tilesY, tilesX,
      address(s, y) + 4 * b0 * oh * ow * co, bias, epilogue.relu ? 1 : 0, address(s, scratch));
    release(s, [v, ...products]);
  }
  return y;
}

/**
 * dw[kh, kw, ci, co] = Σ x[n, oy + kh − padTop, ox + kw − padLeft, ci] · dy[n, oy, ox, co]: per k,
 * dU[k] = V[k]ᵀ · dM[k] over all tiles, then dw = Gᵀ dU G. These products reduce over the long
 * tile dimension into a small result, where XNNPACK would first repack a tile-long operand per k
 * (measured slower than the products themselves); the module's own kernel reads both operands
 * where they lie.
 */
export function winogradFilterGrad(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const wasm = simdKernels(s.backend);
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, outC: co } = g;
  const tilesY = tilesOf(oh), tilesX = tilesOf(ow), perImage = tilesY * tilesX;
  const ph = 4 * tilesY + 2, pw = 4 * tilesX + 2;
  const dyAligned = oh === 4 * tilesY && ow === 4 * tilesX;
  const scratch = s.alloc([scratchFloats(Math.max(ci, co))]);
  const dw = s.alloc([3, 3, ci, co]);
  const du = s.alloc([36, ci, co]);
  const table = s.alloc([TABLE_ENTRIES]);
  const duTable = pointerTable(s, table, Array.from({ length: 36 }, (_, k) => address(s, du) + 4 * k * ci * co));
  let first = true;
  for (const [b0, nb] of imageGroups(n, perImage)) {
    const t = nb * perImage;
    const xp = s.alloc([nb, ph, pw, ci]);
    wasm.padImages(address(s, x) + 4 * b0 * h * w * ci, nb, h, w, ci, g.padTop, g.padLeft, ph, pw, address(s, xp));
    const v = s.alloc([36, t, ci]);
    wasm.inputTransform(address(s, xp), nb, ci, tilesY, tilesX, address(s, v), t * ci, address(s, scratch));
    s.release(xp);
    let dyp = address(s, dy) + 4 * b0 * oh * ow * co;
    let dyPadded: TensorInfo | undefined;
    if (!dyAligned) {
      dyPadded = s.alloc([nb, 4 * tilesY, 4 * tilesX, co]);
      wasm.padImages(dyp, nb, oh, ow, co, 0, 0, 4 * tilesY, 4 * tilesX, address(s, dyPadded));
      dyp = address(s, dyPadded);
    }
    const dm = s.alloc([36, t, co]);
    wasm.gradTransform(dyp, nb, co, tilesY, tilesX, address(s, dm), t * co, address(s, scratch));
    if (dyPadded !== undefined) s.release(dyPadded);
    wasm.filterGradProducts(address(s, v), address(s, dm), t, ci, co, t * ci, t * co, address(s, du));
    wasm.filterGradTransform(duTable, ci, co, address(s, dw), first ? 0 : 1, address(s, scratch));
    first = false;
    release(s, [v, dm]);
  }
  return dw;
}

function gemm(s: Scope, a: TensorInfo, b: TensorInfo): TensorInfo {
  return s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

/** Frees a group's temporaries early, so the next group reuses their memory. */
function release(s: Scope, ts: TensorInfo[]): void {
  for (const t of ts) s.release(t);
}
