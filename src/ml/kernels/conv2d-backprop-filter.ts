// Conv2DBackpropFilter for the wasm backend (the backend ships none), as matrix products on the
// backend's XNNPACK GEMM with no im2col matrix and one transpose of X.
//
// dW[kh,kw,ci,co] = Σ_{n,y,x} X[n, y·s + kh·d − pt, x·s + kw·d − pl, ci] · dy[n,y,x,co].
// Lay dy on a grid of Hq×Wq pixels per image (zeros beyond OH×OW), Hq = OH + ⌊(fh−1)d/s⌋, and
// split the padded X into its s×s phases Xab[n,i,j] = Xpad[n, a + s·i, b + s·j], each transposed
// to channels-first over the same grid: XTab[ci, r], r = (n·Hq + i)·Wq + j. For the tap (kh,kw)
// with phase a = kh·d mod s, b = kw·d mod s and grid offset o = ⌊kh·d/s⌋·Wq + ⌊kw·d/s⌋:
//   dW[kh,kw] = XTab[:, o : o+R] · dyGrid            ([Ci, R] · [R, Co], R = N·Hq·Wq)
// The left operand is a window of XTab's memory at offset o (no copy): its rows wrap into the next
// channel only at grid positions where dyGrid is zero, and a zero channel at the end keeps the last
// window inside finite memory. The right operand is the same for every tap, so XNNPACK packs it
// once.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { convGeometry } from './conv-geometry.js';
import { withScope, type BackendWasm, type Scope } from './wasm-ops.js';
import { transposeFast } from './transpose.js';

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
  dilations?: number | [number, number];
}

/** Pads (or crops, for negative amounts) the spatial axes of an NHWC tensor, and adds `extraC` zero channels. */
export function padCrop(s: Scope, x: TensorInfo, top: number, bottom: number, left: number, right: number, extraC = 0): TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  let src = x;
  const cropT = Math.max(0, -top), cropB = Math.max(0, -bottom), cropL = Math.max(0, -left), cropR = Math.max(0, -right);
  if (cropT + cropB + cropL + cropR > 0) {
    src = s.run('Slice', { x }, { begin: [0, cropT, cropL, 0], size: [n, h - cropT - cropB, w - cropL - cropR, c] });
  }
  const pT = Math.max(0, top), pB = Math.max(0, bottom), pL = Math.max(0, left), pR = Math.max(0, right);
  if (pT + pB + pL + pR + extraC === 0) return src;
  return s.run('PadV2', { x: src }, { paddings: [[0, 0], [pT, pB], [pL, pR], [0, extraC]], constantValue: 0 });
}

export function conv2dBackpropFilter(s: Scope, x: TensorInfo, dy: TensorInfo, attrs: FilterGradAttrs): TensorInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${attrs.dataFormat}`);
  }
  const g = convGeometry(x.shape, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dilations ?? 1);
  if (dy.shape[1] !== g.outH || dy.shape[2] !== g.outW) {
    throw new Error(`Conv2DBackpropFilter: dy shape ${dy.shape} does not match the convolution's output ${g.outH}x${g.outW}`);
  }
  const { batch: n, inC: ci, outC: co, fh, fw, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw } = g;
  const hq = g.outH + Math.floor(((fh - 1) * dh) / sh);
  const wq = g.outW + Math.floor(((fw - 1) * dw) / sw);
  const r = n * hq * wq;

  // X padded to exactly sh·Hq × sw·Wq pixels (+1 zero channel), split into phases, channels first.
  const xp = padCrop(s, x, g.padTop, sh * hq - g.inH - g.padTop, g.padLeft, sw * wq - g.inW - g.padLeft, 1);
  const c1 = ci + 1;
  const xt = sh === 1 && sw === 1
    ? transposeFast(s, s.reshape(xp, [r, c1]), [1, 0])                                         // [C+1, R]
    : transposeFast(s, s.reshape(xp, [n, hq, sh, wq, sw, c1]), [2, 4, 5, 0, 1, 3]);            // [sh, sw, C+1, N, Hq, Wq]
  const dyGrid = s.reshape(padCrop(s, dy, 0, hq - g.outH, 0, wq - g.outW), [r, co]);

  const out = s.alloc([fh, fw, ci, co]);
  const parts: { tap: number; t: TensorInfo }[] = [];
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const a = (kh * dh) % sh, b = (kw * dw) % sw;
      const o = Math.floor((kh * dh) / sh) * wq + Math.floor((kw * dw) / sw);
      const left = s.alias(xt, (a * sw + b) * c1 * r + o, [ci, r]);
      parts.push({ tap: kh * fw + kw, t: s.run('BatchMatMul', { a: left, b: dyGrid }, { transposeA: false, transposeB: false }) });
    }
  }
  const dst = s.view(out);
  for (const { tap, t } of parts) dst.set(s.view(t), tap * ci * co);
  return out;
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: BackendWasm; attrs: FilterGradAttrs }) =>
    withScope(backend, (s) => conv2dBackpropFilter(s, inputs.x, inputs.dy, attrs))) as unknown as KernelFunc,
};
