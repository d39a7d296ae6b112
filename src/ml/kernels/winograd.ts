// 3×3 stride-1 convolutions and their filter gradients by Winograd's minimal filtering, F(4×4, 3×3):
// 36 products per 6×6 input tile yield 16 outputs, where the direct method multiplies 144 times,
// so the matrix products do 4× fewer FLOPs. The transforms and the products are SIMD code in
// `assembly/winograd.ts` (see simd-module.ts); the forward pass runs them block by block of tiles
// in one call, so the transformed data never leaves the cache.
import { type TensorInfo } from '@tensorflow/tfjs';
import { type Epilogue, type Scope } from './wasm-ops.js';
import type { ConvGeometry } from './conv-geometry.js';
import { simdKernels } from './simd-module.js';

/** Floats of scratch the transforms need: one tile's 36 rows of `channels`, and 4·36 vectors. */
const scratchFloats = (channels: number) => 36 * channels + 4 * 36 * 4;

export const winogradOptions = {
  // Floats the filter gradient's transformed inputs and output gradients (36 per tile and channel,
  // in and out) may take at once; larger batches are processed in groups of images.
  groupFloats: 4 * 1024 * 1024,
  // Off switch, for benchmarks and A/B comparisons against the direct convolution.
  enabled: true,
  // Largest zero-padded copy of the input (floats) the forward pass makes at once.
  paddedFloats: 8 * 1024 * 1024,
};

const tilesOf = (size: number) => Math.ceil(size / 4);

/** Image groups whose transformed tiles, 36·(Ci + Co) floats each, fit in groupFloats. */
function imageGroups(batch: number, tilesPerImage: number, channels: number): [number, number][] {
  const per = Math.max(1, Math.floor(winogradOptions.groupFloats / (36 * channels * tilesPerImage)));
  const groups: [number, number][] = [];
  for (let b = 0; b < batch; b += per) groups.push([b, Math.min(per, batch - b)]);
  return groups;
}

/**
 * y[n, oy, ox, co] = Σ x[n, oy + kh − padTop, ox + kw − padLeft, ci] · w[kh, kw, ci, co] (+ bias, ReLU),
 * for the geometry's input and output sizes (any padding; zeros outside the image).
 */
export function winogradConv(s: Scope, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, epilogue: Epilogue = {}): TensorInfo {
  const wasm = simdKernels(s.backend);
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, outC: co } = g;
  const tilesY = tilesOf(oh), tilesX = tilesOf(ow);
  const ph = 4 * tilesY + 2, pw = 4 * tilesX + 2;
  // U's 36 planes one cache line more than a plane apart, so that they do not share cache sets.
  const uStride = ci * co + 16;
  const u = s.alloc([36 * uStride]);
  const filterScratch = s.alloc([scratchFloats(0)]);
  wasm.filterTransform(s.address(filter), ci, co, s.address(u), uStride, s.address(filterScratch));
  const y = s.alloc([n, oh, ow, co]);
  const bias = epilogue.bias === undefined ? 0 : s.address(epilogue.bias);
  const scratch = s.alloc([wasm.forwardScratchFloats(ci, co)]);
  // Padded copies of at most about paddedFloats at a time.
  const perGroup = Math.max(1, Math.floor(winogradOptions.paddedFloats / (ph * pw * ci)));
  for (let b0 = 0; b0 < n; b0 += perGroup) {
    const nb = Math.min(perGroup, n - b0);
    const xp = s.alloc([nb, ph, pw, ci]);
    wasm.padImages(s.address(x) + 4 * b0 * h * w * ci, nb, h, w, ci, g.padTop, g.padLeft, ph, pw, s.address(xp));
    wasm.winogradForward(s.address(xp), nb, ci, co, tilesY, tilesX, s.address(u), uStride, s.address(y) + 4 * b0 * oh * ow * co,
      oh, ow, bias, epilogue.relu ? 1 : 0, s.address(scratch));
    s.release(xp);
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
  // dU's 36 planes one cache line more than a plane apart, so that they do not share cache sets.
  const duStride = ci * co + 16;
  const du = s.alloc([36 * duStride]);
  const pack = s.alloc([wasm.gradProductScratchFloats(ci, co)]);
  let first = true;
  for (const [b0, nb] of imageGroups(n, perImage, ci + co)) {
    const t = nb * perImage;
    const xp = s.alloc([nb, ph, pw, ci]);
    wasm.padImages(s.address(x) + 4 * b0 * h * w * ci, nb, h, w, ci, g.padTop, g.padLeft, ph, pw, s.address(xp));
    const v = s.alloc([36, t, ci]);
    wasm.inputTransform(s.address(xp), nb, ci, tilesY, tilesX, s.address(v), t * ci, s.address(scratch));
    s.release(xp);
    let dyp = s.address(dy) + 4 * b0 * oh * ow * co;
    let dyPadded: TensorInfo | undefined;
    if (!dyAligned) {
      dyPadded = s.alloc([nb, 4 * tilesY, 4 * tilesX, co]);
      wasm.padImages(dyp, nb, oh, ow, co, 0, 0, 4 * tilesY, 4 * tilesX, s.address(dyPadded));
      dyp = s.address(dyPadded);
    }
    const dm = s.alloc([36, t, co]);
    wasm.gradTransform(dyp, nb, co, tilesY, tilesX, s.address(dm), t * co, s.address(scratch));
    if (dyPadded !== undefined) s.release(dyPadded);
    wasm.filterGradProducts(s.address(v), s.address(dm), t, ci, co, t * ci, t * co, s.address(du), duStride, s.address(pack));
    wasm.filterGradTransform(s.address(du), duStride, ci, co, s.address(dw), first ? 0 : 1, s.address(scratch));
    first = false;
    release(s, [v, dm]);
  }
  return dw;
}

/** Frees a group's temporaries early, so the next group reuses their memory. */
function release(s: Scope, ts: TensorInfo[]): void {
  for (const t of ts) s.release(t);
}
