// Conv2DBackpropFilter for the wasm backend (the backend ships none), as matrix products on the
// backend's XNNPACK GEMM with no im2col matrix and a single transpose.
//
// dW[kh,kw,ci,co] = Σ_{n,y,x} X[n, y·s + kh·d − pt, x·s + kw·d − pl, ci] · dy[n,y,x,co].
// X and dy are laid on a common pixel grid so that every tap (kh,kw) becomes a fixed offset o on
// it: dW[kh,kw] = Σ_r X̂[r + o] ⊗ dŷ[r], one GEMM per tap whose long inner dimension runs over the
// grid. The shifted operand is a window into the transposed tensor's memory (no copy); its rows
// wrap into the neighbouring channel only at grid positions where the other operand is zero, and a
// zero channel keeps every window inside finite memory. The other operand is the same for every
// tap, so XNNPACK packs it once.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, type ConvGeometry } from './conv-geometry.js';
import { withScope, type BackendWasm, type Scope } from './wasm-ops.js';
import { transposeFast } from './transpose.js';
import { winogradFilterGrad, winogradOptions } from './winograd.js';
import { directConvFilterGrad, directConvOptions, pointwise, pointwiseFilterGrad } from './conv2d.js';
import { smallMap, smallMapFilterGrad } from './small-map-conv.js';

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
  dilations?: number | [number, number];
}

/** Which operand is transposed (the GEMM's left side) and which is packed by XNNPACK (right side). */
export type FilterGradOrientation = 'auto' | 'transpose-x' | 'transpose-dy';
export const filterGradOptions: { orientation: FilterGradOrientation; compactBelow: number; compactChannels: number; maxGatherFloats: number } = {
  orientation: 'auto',
  // Small images waste much of the grid on padding: above this ratio of grid to output pixels,
  // and for inputs with few channels (the first layer), the filter gradient gathers explicit
  // windows instead (one GEMM). Both thresholds are measured break-even points (0 disables).
  compactBelow: 1.4,
  compactChannels: 8,
  // Largest temporary (floats) of either method; bigger batches are processed in groups of images.
  maxGatherFloats: 32 * 1024 * 1024,
};

export function conv2dBackpropFilter(s: Scope, x: TensorInfo, dy: TensorInfo, attrs: FilterGradAttrs): TensorInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${attrs.dataFormat}`);
  }
  const g = convGeometry(x.shape, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dilations ?? 1);
  if (dy.shape[1] !== g.outH || dy.shape[2] !== g.outW) {
    throw new Error(`Conv2DBackpropFilter: dy shape ${dy.shape} does not match the convolution's output ${g.outH}x${g.outW}`);
  }
  if (smallMap(g)) return smallMapFilterGrad(s, x, dy, g);
  if (winogradFilterGradient(g)) return winogradFilterGrad(s, x, dy, g);
  if (pointwise(g)) return pointwiseFilterGrad(s, x, dy, g);
  if (directFilterGradient(g)) return directConvFilterGrad(s, x, dy, g);
  return g.strideH === 1 && g.strideW === 1 ? filterGradStride1(s, x, dy, g) : filterGradCompact(s, x, dy, g);
}

/**
 * Every other filter whose output channels come in fours and whose stride is the same both ways
 * takes the direct SIMD gradient (4 taps × 8 channels in registers over blocks of pixels): measured
 * 1.5–10× the GEMM paths below on 1×1, strided 3×3 and 7×7 layers (bench:kernels). The GEMM
 * paths remain for the rest (dilations, unequal strides, other channel counts).
 */
export function directFilterGradient(g: ConvGeometry): boolean {
  return directConvOptions.maxChannels > 0 && g.outC % 4 === 0 && g.strideH === g.strideW && g.dilationH === 1 && g.dilationW === 1;
}

/**
 * 3×3 stride-1 filters take the Winograd gradient: measured faster than the GEMM paths below at
 * every channel count tried (8 to 128) once the output has at least 2×2 pixels (bench:kernels).
 * Inputs with no more channels than the direct kernel takes stay on it: the Winograd transforms
 * then weigh more than the products they save (batch 32 at 32×32: 8 → 8 2.1 ms against 3.5,
 * 4 → 8 0.8 against 1.4, 8 → 16 2.7 against 3.3; from 16 input channels Winograd leads).
 */
export function winogradFilterGradient(g: ConvGeometry): boolean {
  return winogradOptions.enabled && g.fh === 3 && g.fw === 3 && g.strideH === 1 && g.strideW === 1 &&
    g.dilationH === 1 && g.dilationW === 1 && g.inC % 4 === 0 && g.outC % 4 === 0 && g.outH * g.outW >= 4 &&
    g.inC > directConvOptions.maxChannels;
}

/**
 * Stride 1: X sits on a grid whose rows and columns start with t zero rows/columns (t = the larger
 * of the padding before and the padding actually read after), shared between neighbouring images,
 * followed by enough zero images to absorb the largest tap offset. dy sits on the same grid at the
 * top-left of each image's cell. With o = (t_h − pt + kh·d)·Wg + (t_w − pl + kw·d):
 *   dW[kh,kw] = Σ_r dyGrid[r] ⊗ XGrid[r + o].
 * Either X is transposed (left operand: windows of XGridᵀ at +o, right: dyGrid packed once) or dy
 * is (left: windows of dyGridᵀ at −o behind a zero row, right: XGrid packed once); XNNPACK's
 * packing is the slower pass, so the tensor with fewer channels is the one packed.
 */
function filterGradStride1(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const { batch: n, inC: ci, outC: co, fh, fw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl } = g;
  const gridRatio = ((g.outH + Math.max(pt, (fh - 1) * dh - pt)) * (g.outW + Math.max(pl, (fw - 1) * dw - pl))) / (g.outH * g.outW);
  if (fh * fw > 1 && filterGradOptions.compactBelow > 0 && (gridRatio > filterGradOptions.compactBelow || ci <= filterGradOptions.compactChannels)) {
    return filterGradCompact(s, x, dy, g);
  }
  // The grid copies of X and dy (and one transposed) take about 2·(Ci + Co + 1) floats per grid pixel.
  return inImageGroups(s, x, dy, g, Math.ceil(gridRatio * g.outH * g.outW) * 2 * (ci + co + 1), filterGradGrid);
}

function filterGradGrid(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const { batch: n, inC: ci, outC: co, fh, fw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl } = g;
  const readBelow = Math.max(0, g.outH - 1 + (fh - 1) * dh - pt - (g.inH - 1));
  const readRight = Math.max(0, g.outW - 1 + (fw - 1) * dw - pl - (g.inW - 1));
  const th = Math.max(pt, readBelow), tw = Math.max(pl, readRight);
  // Rows of X beyond the last one read are dropped so every image's cell is th + used rows.
  const usedH = Math.min(g.inH, g.outH + (fh - 1) * dh - pt), usedW = Math.min(g.inW, g.outW + (fw - 1) * dw - pl);
  const ph = th + usedH, wg = tw + usedW;
  const cell = ph * wg;
  const offsets: number[] = [];
  for (let kh = 0; kh < fh; kh++) for (let kw = 0; kw < fw; kw++) offsets.push((th - pt + kh * dh) * wg + (tw - pl + kw * dw));
  const maxOff = Math.max(...offsets);
  const extraImages = Math.max(1, Math.ceil((maxOff + 1) / cell));
  const nn = n + extraImages, r = nn * cell;

  const orientation = filterGradOptions.orientation === 'auto' ? (ci <= co ? 'transpose-dy' : 'transpose-x') : filterGradOptions.orientation;
  let xs = x;
  if (usedH < g.inH || usedW < g.inW) xs = s.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [n, usedH, usedW, ci] });
  const dyPads = (extraC: [number, number]) => [[0, extraImages], [0, ph - g.outH], [0, wg - g.outW], extraC];
  const xPads = (extraC: [number, number]) => [[0, extraImages], [th, 0], [tw, 0], extraC];

  const taps: TensorInfo[] = [];
  if (orientation === 'transpose-x') {
    const xg = s.run('PadV2', { x: xs }, { paddings: xPads([0, 1]), constantValue: 0 });        // [nn, ph, wg, Ci+1]
    const xt = transposeFast(s, s.reshape(xg, [r, ci + 1]), [1, 0]);                            // [Ci+1, R]
    const dyGrid = s.reshape(s.run('PadV2', { x: dy }, { paddings: dyPads([0, 0]), constantValue: 0 }), [r, co]);
    for (const o of offsets) taps.push(gemm(s, s.alias(xt, o, [ci, r]), dyGrid));              // [Ci, Co]
    return stackTaps(s, taps, [fh, fw, ci, co]);
  }
  const dyg = s.run('PadV2', { x: dy }, { paddings: dyPads([1, 0]), constantValue: 0 });         // [nn, ph, wg, 1+Co]
  const dyt = transposeFast(s, s.reshape(dyg, [r, co + 1]), [1, 0]);                            // [1+Co, R], row 0 zero
  const xGrid = s.reshape(s.run('PadV2', { x: xs }, { paddings: xPads([0, 0]), constantValue: 0 }), [r, ci]);
  for (const o of offsets) taps.push(gemm(s, s.alias(dyt, r - o, [co, r]), xGrid));             // [Co, Ci]
  const stacked = stackTaps(s, taps, [fh * fw, co, ci]);
  return s.reshape(transposeFast(s, stacked, [0, 2, 1]), [fh, fw, ci, co]);
}

/**
 * Strided convolutions and small images: the windows are gathered explicitly, channels first, into
 * colsT[(kh,kw,ci), (n,y,x)] = X[n, y·s + kh·d − pt, x·s + kw·d − pl, ci] (zero outside), and
 * dW = colsT · dy in one GEMM whose [fh·fw·Ci, Co] result is already dW's layout. dy, the packed
 * operand, is used as it is.
 */
function filterGradCompact(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  return inImageGroups(s, x, dy, g, g.fh * g.fw * g.inC * g.outH * g.outW, filterGradCompactAll);
}

/**
 * Bounds the temporary memory of a filter-gradient method: when `perImage` floats times the batch
 * exceed `maxGatherFloats`, the images are processed in groups (zero-copy windows of x and dy) and
 * the groups' gradients summed.
 */
function inImageGroups(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, perImage: number,
  method: (s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry) => TensorInfo): TensorInfo {
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, outC: co, fh, fw } = g;
  const chunk = Math.max(1, Math.floor(filterGradOptions.maxGatherFloats / perImage));
  if (chunk >= n) return method(s, x, dy, g);
  const out = s.alloc([fh, fw, ci, co]);
  const parts: TensorInfo[] = [];
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const nb = Math.min(chunk, n - b0);
    parts.push(method(s, s.alias(x, b0 * h * w * ci, [nb, h, w, ci]), s.alias(dy, b0 * oh * ow * co, [nb, oh, ow, co]), { ...g, batch: nb }));
  }
  const acc = new Float64Array(fh * fw * ci * co);
  for (const p of parts) {
    const v = s.view(p);
    for (let i = 0; i < acc.length; i++) acc[i]! += v[i]!;
  }
  s.view(out).set(acc);
  return out;
}

function filterGradCompactAll(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, outC: co, fh, fw, strideH: sh, strideW: sw,
    dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl } = g;
  const xt = transposeFast(s, s.reshape(x, [n * h * w, ci]), [1, 0]);                          // [Ci, N·H·W]
  const r = n * oh * ow;
  const cols = s.alloc([fh * fw * ci, r]);
  const src = s.view(xt), dst = s.view(cols);
  if (sh === 1 && sw === 1 && oh === h && ow === w) {
    gatherShifted(src, dst, ci, n, h, w, fh, fw, dh, dw, pt, pl);
  } else {
    gatherRows(src, dst, g);
  }
  const dw2 = gemm(s, cols, s.reshape(dy, [r, co]));                                             // [fh·fw·Ci, Co]
  return s.reshape(dw2, [fh, fw, ci, co]);
}

/**
 * 'same' stride-1 windows: on the flat [N·H·W] plane of a channel, tap (kh,kw) is the plane shifted
 * by a constant offset, so it is one block copy followed by zeroing the positions whose source
 * pixel falls outside its image (a pattern repeated per image).
 */
function gatherShifted(src: Float32Array, dst: Float32Array, ci: number, n: number, h: number, w: number,
  fh: number, fw: number, dh: number, dw: number, pt: number, pl: number): void {
  const hw = h * w, plane = n * hw;
  let d = 0;
  for (let kh = 0; kh < fh; kh++) {
    const oy = kh * dh - pt;
    for (let kw = 0; kw < fw; kw++) {
      const ox = kw * dw - pl;
      const off = oy * w + ox;
      const zeros: number[] = [];
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) if (y + oy < 0 || y + oy >= h || x + ox < 0 || x + ox >= w) zeros.push(y * w + x);
      }
      const lo = Math.max(0, -off), hi = Math.min(plane, plane - off);
      for (let c = 0; c < ci; c++) {
        const cBase = c * plane;
        if (hi > lo) dst.set(src.subarray(cBase + lo + off, cBase + hi + off), d + lo);
        if (lo > 0) dst.fill(0, d, d + lo);
        if (hi < plane) dst.fill(0, d + hi, d + plane);
        for (let b = 0, base = d; b < n; b++, base += hw) {
          for (let z = 0; z < zeros.length; z++) dst[base + zeros[z]!] = 0;
        }
        d += plane;
      }
    }
  }
}

/** Any geometry: row by row, with zeros outside the image. */
function gatherRows(src: Float32Array, dst: Float32Array, g: ConvGeometry): void {
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, fh, fw, strideH: sh, strideW: sw,
    dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl } = g;
  const plane = n * h * w;
  let d = 0;
  for (let kh = 0; kh < fh; kh++) {
    const dyOff = kh * dh - pt;
    for (let kw = 0; kw < fw; kw++) {
      const dxOff = kw * dw - pl;
      // Output columns whose input column x·sw + dxOff lies inside the image.
      const x0 = Math.min(ow, Math.max(0, Math.ceil(-dxOff / sw)));
      const x1 = Math.max(x0, Math.min(ow, Math.floor((w - 1 - dxOff) / sw) + 1));
      for (let c = 0; c < ci; c++) {
        const cBase = c * plane;
        for (let b = 0; b < n; b++) {
          for (let y = 0; y < oh; y++) {
            const iy = y * sh + dyOff;
            if (iy < 0 || iy >= h) {
              dst.fill(0, d, d + ow);
              d += ow;
              continue;
            }
            const rowBase = cBase + (b * h + iy) * w + dxOff;
            let xx = 0;
            for (; xx < x0; xx++) dst[d++] = 0;
            if (sw === 1) {
              for (; xx < x1; xx++) dst[d++] = src[rowBase + xx]!;
            } else {
              for (; xx < x1; xx++) dst[d++] = src[rowBase + xx * sw]!;
            }
            for (; xx < ow; xx++) dst[d++] = 0;
          }
        }
      }
    }
  }
}

function gemm(s: Scope, a: TensorInfo, b: TensorInfo): TensorInfo {
  return s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

/** Copies the per-tap results, in order, into one tensor of `shape`. */
function stackTaps(s: Scope, taps: TensorInfo[], shape: number[]): TensorInfo {
  const out = s.alloc(shape);
  const dst = s.view(out);
  let o = 0;
  for (const t of taps) {
    const v = s.view(t);
    dst.set(v, o);
    o += v.length;
  }
  return out;
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: BackendWasm; attrs: FilterGradAttrs }) =>
    withScope(backend, (s) => conv2dBackpropFilter(s, inputs.x, inputs.dy, attrs))) as unknown as KernelFunc,
};
