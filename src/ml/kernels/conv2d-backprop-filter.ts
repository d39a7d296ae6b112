// Conv2DBackpropFilter for the wasm backend (the backend ships none), built on its XNNPACK
// convolution.
//
// The filter gradient dW[kh,kw,ci,co] = Σ_{n,y,x} X[n, y·s + kh·d − pt, x·s + kw·d − pl, ci] · dy[n,y,x,co]
// is itself a convolution: take X with its channels as the batch and its batch as the channels
// (X' = [Ci, H, W, N]) and dy as the filter (dy' = [OH, OW, N, Co]); convolving X' with dy' at
// stride d (the forward dilation) and dilation s (the forward stride) gives [Ci, fh, fw, Co].
// XNNPACK's indirect GEMM then handles the shifted windows and the zero padding without building
// any im2col matrix. A 1×1 stride-1 unpadded filter is a plain matrix product Xᵀ·dy.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, explicitPad } from './conv-geometry.js';
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

export function conv2dBackpropFilter(
  s: Scope, x: TensorInfo, dy: TensorInfo, attrs: FilterGradAttrs,
): TensorInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${attrs.dataFormat}`);
  }
  const g = convGeometry(x.shape, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dilations ?? 1);
  if (dy.shape[1] !== g.outH || dy.shape[2] !== g.outW) {
    throw new Error(`Conv2DBackpropFilter: dy shape ${dy.shape} does not match the convolution's output ${g.outH}x${g.outW}`);
  }
  const { batch: n, inC: ci, outC: co } = g;

  if (g.fh === 1 && g.fw === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 && g.padLeft === 0
      && g.outH === g.inH && g.outW === g.inW) {
    const rows = n * g.inH * g.inW;
    const xt = transposeFast(s, s.reshape(x, [rows, ci]), [1, 0]);            // [Ci, rows]
    const dw = s.run('BatchMatMul', { a: xt, b: s.reshape(dy, [rows, co]) },
      { transposeA: false, transposeB: false });                             // [Ci, Co]
    return s.reshape(dw, [1, 1, ci, co]);
  }

  // Rows and columns of X beyond the last one the forward pass read are cut off, so that the
  // convolution below produces exactly fh × fw outputs.
  const needH = (g.fh - 1) * g.dilationH + (g.outH - 1) * g.strideH + 1 - g.padTop;
  const needW = (g.fw - 1) * g.dilationW + (g.outW - 1) * g.strideW + 1 - g.padLeft;
  let xin = x;
  if (needH < g.inH || needW < g.inW) {
    xin = s.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [n, Math.min(needH, g.inH), Math.min(needW, g.inW), ci] });
  }
  const h = xin.shape[1], w = xin.shape[2];
  const xt = transposeFast(s, xin, [3, 1, 2, 0]);                               // [Ci, H, W, N]
  const dyt = transposeFast(s, dy, [1, 2, 0, 3]);                               // [OH, OW, N, Co]
  const r = s.run('Conv2D', { x: xt, filter: dyt }, {
    strides: [g.dilationH, g.dilationW],
    dilations: [g.strideH, g.strideW],
    pad: explicitPad(g.padTop, needH - h, g.padLeft, needW - w),
    dataFormat: 'NHWC',
  });                                                                          // [Ci, fh, fw, Co]
  if (r.shape[1] !== g.fh || r.shape[2] !== g.fw) {
    throw new Error(`Conv2DBackpropFilter: internal shape ${r.shape} for filter ${attrs.filterShape}`);
  }
  return transposeFast(s, r, [1, 2, 0, 3]);
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: BackendWasm; attrs: FilterGradAttrs }) =>
    withScope(backend, (s) => conv2dBackpropFilter(s, inputs.x, inputs.dy, attrs))) as unknown as KernelFunc,
};
