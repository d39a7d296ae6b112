// Conv2D and FusedConv2D for the wasm backend, each geometry on its fastest path: 3×3 stride-1
// convolutions (most of VGG's and ResNet's FLOPs, and the input gradient of each) by Winograd
// F(4×4, 3×3); inputs with few channels by the direct SIMD kernel; 1×1 convolutions as products on
// the SIMD GEMM; everything else, and channels-first data, by the shipped XNNPACK kernel.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, type ConvGeometry } from './conv-geometry.js';
import { withScope, type BackendWasm, type Epilogue, type Scope } from './wasm-ops.js';
import { winogradConv, winogradOptions } from './winograd.js';
import { simdKernels } from './simd-module.js';
import { matMulOptions, simdBatchMatMul } from './batch-mat-mul.js';
import { smallMap, smallMapConv } from './small-map-conv.js';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

export interface Conv2DAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface FusedConv2DAttrs extends Conv2DAttrs { activation?: string; leakyreluAlpha?: number }

/**
 * Whether the forward convolution goes through Winograd. Measured (bench:kernels, new weights every
 * call as in training, where XNNPACK repacks each new filter at about 10 ns a weight): Winograd
 * wins from 2×2 outputs up, at every batch size, once the channels in and out add up to about 24.
 * Below that, or for 1×1 outputs (one useful product in 36), XNNPACK's convolution is as fast.
 */
export function winogradForward(g: ConvGeometry): boolean {
  return winogradOptions.enabled && g.fh === 3 && g.fw === 3 && g.strideH === 1 && g.strideW === 1 &&
    g.dilationH === 1 && g.dilationW === 1 && g.inC % 4 === 0 && g.outC % 4 === 0 && g.inC + g.outC >= 24 &&
    g.outH >= 2 && g.outW >= 2;
}

/**
 * Inputs with at most this many channels take the direct forward kernel when Winograd does not
 * (bench:kernels, batch 32): 8 → 8 at 32×32 2.2 ms against XNNPACK's 3.0 (VGG16 block1_conv2 at
 * 1/8 width, and its input gradient, the same convolution from 8 channels to 8), 8 → 4 2.4
 * against 4.4, a 5×5 8 → 16 8.3 against 13.1. 1×1 filters over more than 4 channels stay on the
 * pointwise product: a reduction 8 long leaves the direct kernel's registers mostly idle (1.8 ms
 * against 1.5 for 8 → 8).
 */
export const DIRECT_MAX_CHANNELS = 8;

export const directConvOptions = {
  // DIRECT_MAX_CHANNELS, or 0 to disable the direct kernels altogether (forward and filter
  // gradient), for comparisons.
  maxChannels: DIRECT_MAX_CHANNELS,
};

/**
 * Whether the forward convolution takes the direct SIMD kernel: inputs with few channels (an
 * image's 1–4, or the 8 of a narrow network's first block), where XNNPACK's reduction (fh·fw·Ci
 * long) runs at about half its usual rate.
 */
export function directSmallChannels(g: ConvGeometry): boolean {
  return g.inC <= directConvOptions.maxChannels && (g.inC <= 4 || g.fh * g.fw > 1) && g.outC % 4 === 0 &&
    g.strideH === g.strideW && g.dilationH === 1 && g.dilationW === 1;
}

/** x zero-padded so that every window of the convolution lies inside: [n, ph, pw, Ci]. */
function padForWindows(s: Scope, x: TensorInfo, g: ConvGeometry): TensorInfo {
  const ph = (g.outH - 1) * g.strideH + g.fh, pw = (g.outW - 1) * g.strideW + g.fw;
  const xp = s.alloc([g.batch, ph, pw, g.inC]);
  simdKernels(s.backend).padImages(s.address(x), g.batch, g.inH, g.inW, g.inC, g.padTop, g.padLeft, ph, pw, s.address(xp));
  return xp;
}

/** The direct kernel: pads the input once so every window lies inside, then 4 pixels × 8 channels per pass. */
function directConv(s: Scope, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, epilogue: Epilogue): TensorInfo {
  const xp = padForWindows(s, x, g);
  const y = s.alloc([g.batch, g.outH, g.outW, g.outC]);
  simdKernels(s.backend).directConv(s.address(xp), g.batch, xp.shape[1]!, xp.shape[2]!, g.inC, s.address(filter), g.fh, g.fw, g.outC,
    g.strideH, g.outH, g.outW, s.address(y), epilogue.bias === undefined ? 0 : s.address(epilogue.bias), epilogue.relu ? 1 : 0);
  return y;
}

/** The filter gradient by the direct kernel: any input channels; Co a multiple of 4, equal strides. */
export function directConvFilterGrad(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const xp = padForWindows(s, x, g);
  const dw = s.alloc([g.fh, g.fw, g.inC, g.outC]);
  simdKernels(s.backend).directConvFilterGrad(s.address(xp), g.batch, xp.shape[1]!, xp.shape[2]!, g.inC, s.address(dy), g.fh, g.fw, g.outC,
    g.strideH, g.outH, g.outW, s.address(dw));
  return dw;
}

/**
 * 1×1 convolutions with no padding are matrix products, [pixels, Ci] · [Ci, Co]: on the SIMD
 * GEMM, which reads the new weights of every training step in place where XNNPACK would repack
 * them (measured 1.2–2× faster: bench:kernels).
 */
export function pointwise(g: ConvGeometry): boolean {
  // No padding on any side: every output reads a pixel inside the input.
  return matMulOptions.simd && g.fh === 1 && g.fw === 1 && g.padTop === 0 && g.padLeft === 0 && g.outC % 4 === 0 &&
    (g.outH - 1) * g.strideH < g.inH && (g.outW - 1) * g.strideW < g.inW;
}

/** The pixels a 1×1 convolution reads, [pixels, Ci]: x itself, or its strided pixels gathered
 *  (the shipped StridedSlice is ten times slower than the product itself). */
function pointwisePixels(s: Scope, x: TensorInfo, g: ConvGeometry): TensorInfo {
  if (g.strideH === 1 && g.strideW === 1 && g.outH === g.inH && g.outW === g.inW) return s.reshape(x, [g.batch * g.inH * g.inW, g.inC]);
  const pixels = s.alloc([g.batch * g.outH * g.outW, g.inC]);
  simdKernels(s.backend).gatherStrided(s.address(x), g.batch, g.inH, g.inW, g.inC, g.strideH, g.strideW, g.outH, g.outW, s.address(pixels));
  return pixels;
}

function pointwiseConv(s: Scope, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, epilogue: Epilogue): TensorInfo {
  const p = g.batch * g.outH * g.outW;
  const y = simdBatchMatMul(s, pointwisePixels(s, x, g), filter,
    { batchA: 1, batchB: 1, batch: 1, m: p, k: g.inC, n: g.outC, outer: [], transposeA: false, transposeB: false }, epilogue);
  return s.reshape(y, [g.batch, g.outH, g.outW, g.outC]);
}

/** The filter gradient of a 1×1 convolution, [Ci, Co] = pixelsᵀ · dy: one matrix product. */
export function pointwiseFilterGrad(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const p = g.batch * g.outH * g.outW;
  const dw = simdBatchMatMul(s, pointwisePixels(s, x, g), s.reshape(dy, [p, g.outC]),
    { batchA: 1, batchB: 1, batch: 1, m: g.inC, k: p, n: g.outC, outer: [], transposeA: true, transposeB: false });
  return s.reshape(dw, [1, 1, g.inC, g.outC]);
}

/** A channels-last convolution with optional bias and ReLU, by the fastest path for its geometry. */
export function conv2d(s: Scope, x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs, epilogue: Epilogue = {}): TensorInfo {
  const g = convGeometry(x.shape, filter.shape, attrs.strides, attrs.pad, attrs.dimRoundingMode, attrs.dilations ?? 1);
  if (smallMap(g)) return smallMapConv(s, x, filter, g, epilogue);
  if (winogradForward(g)) return winogradConv(s, x, filter, g, epilogue);
  if (directSmallChannels(g)) return directConv(s, x, filter, g, epilogue);
  if (pointwise(g)) return pointwiseConv(s, x, filter, g, epilogue);
  if (epilogue.bias === undefined && !epilogue.relu) return s.run('Conv2D', { x, filter }, attrs);
  return s.run('FusedConv2D', { x, filter, ...(epilogue.bias ? { bias: epilogue.bias } : {}) },
    { ...attrs, activation: epilogue.relu ? 'relu' : 'linear' });
}

export const conv2dConfig: KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo; filter: TensorInfo }; backend: BackendWasm; attrs: Conv2DAttrs }) =>
    withScope(backend, (s) => (attrs.dataFormat === 'NCHW' || inputs.x.dtype !== 'float32'
      ? s.run('Conv2D', inputs, attrs)
      : conv2d(s, inputs.x, inputs.filter, attrs)))) as unknown as KernelFunc,
};

export const fusedConv2dConfig: KernelConfig = {
  kernelName: 'FusedConv2D',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: {
    inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    backend: BackendWasm; attrs: FusedConv2DAttrs;
  }) => withScope(backend, (s) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const activation = attrs.activation ?? 'linear';
    // Only what the Winograd epilogue computes (a per-channel bias, then nothing or ReLU) is taken
    // here; everything else (other activations, PReLU weights, channels-first) is the shipped kernel's.
    const fusable = (activation === 'linear' || activation === 'relu') && preluActivationWeights == null &&
      (bias == null || (bias.shape.length === 1 && bias.shape[0] === filter.shape[3])) &&
      attrs.dataFormat !== 'NCHW' && x.dtype === 'float32';
    if (!fusable) return s.run('FusedConv2D', inputs as unknown as Record<string, TensorInfo>, attrs);
    return conv2d(s, x, filter, attrs, { ...(bias ? { bias } : {}), relu: activation === 'relu' });
  })) as unknown as KernelFunc,
};
