// Conv2DBackpropInput for the wasm backend on its XNNPACK convolution (the shipped kernel is a
// scalar loop). It is also the forward pass of conv2dTranspose.
//
// For stride 1 the input gradient is a convolution of dy with the filter flipped in space and
// with its in/out channels swapped: dx = conv(dy, W̃), W̃[a,b,co,ci] = W[fh−1−a, fw−1−b, ci, co],
// padded by fh−1−pt on top and fw−1−pl on the left. For stride s > 1 the input pixels fall into
// s×s phases (iy mod s, ix mod s); each phase only meets the filter taps of matching parity, so
// it is a stride-1 convolution of dy with a sub-filter, and the phases are interleaved into dx.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { convGeometry, explicitPad, type ConvGeometry } from './conv-geometry.js';
import { withScope, type BackendWasm, type Scope } from './wasm-ops.js';
import { conv2d } from './conv2d.js';
import { simdKernels } from './simd-module.js';
import { batchMatMul } from './batch-mat-mul.js';

interface InputGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** Per axis: which filter taps and dy offsets one output phase uses. */
interface PhaseAxis {
  taps: number[];      // filter indices k with (p + pt − k) ≡ 0 mod s, in increasing order
  out: number;         // number of dx positions in this phase: ceil((size − p) / s)
  padBefore: number;   // zero rows before dy for the stride-1 correlation
  padAfter: number;
  cropBefore: number;  // dy rows dropped before (when the padding would be negative)
  cropAfter: number;
}

/** dx[p + s·i] = Σ_j dy[(p + pt − taps[j]) / s + i] · W[taps[j]]; written as a correlation of dy
 *  with the reversed tap list, rows of dy indexed from q0 = (p + pt − taps[last]) / s. */
function phaseAxis(p: number, s: number, pt: number, f: number, size: number, dySize: number): PhaseAxis {
  const taps: number[] = [];
  for (let k = 0; k < f; k++) if ((((p + pt - k) % s) + s) % s === 0) taps.push(k);
  const out = Math.max(0, Math.ceil((size - p) / s));
  if (taps.length === 0) return { taps, out, padBefore: 0, padAfter: 0, cropBefore: 0, cropAfter: 0 };
  const q0 = (p + pt - taps[taps.length - 1]!) / s;         // dy row read by output i = 0, first tap
  const lastRow = q0 + (out - 1) + (taps.length - 1);       // last dy row any output reads
  const padBefore = Math.max(0, -q0), cropBefore = Math.max(0, q0);
  const padAfter = Math.max(0, lastRow - (dySize - 1)), cropAfter = Math.max(0, dySize - 1 - lastRow);
  return { taps, out, padBefore, padAfter, cropBefore, cropAfter };
}

/** The stride-1 filter of one phase, [th, tw, Co, Ci]: taps ty × tx of W in reverse order, channels
 *  swapped (G[j,i] = W[ty[m−1−j], tx[m'−1−i]]ᵀ), copied in one pass. */
function phaseFilter(s: Scope, filter: TensorInfo, ty: number[], tx: number[]): TensorInfo {
  const [, fw, ci, co] = filter.shape as [number, number, number, number];
  const th = ty.length, tw = tx.length;
  const out = s.alloc([th, tw, co, ci]);
  const src = s.view(filter), dst = s.view(out);
  const block = ci * co;
  for (let j = 0; j < th; j++) {
    for (let i = 0; i < tw; i++) {
      const so = (ty[th - 1 - j]! * fw + tx[tw - 1 - i]!) * block, dOff = (j * tw + i) * block;
      for (let c = 0; c < ci; c++) {
        let sIdx = so + c * co;
        let dIdx = dOff + c;
        for (let o = 0; o < co; o++, sIdx++, dIdx += ci) dst[dIdx] = src[sIdx]!;
      }
    }
  }
  return out;
}

/** W̃[a,b,co,ci] = W[fh−1−a, fw−1−b, ci, co] in one pass (the backend's Reverse kernel is slow):
 *  by the SIMD kernel when the channels come in fours. */
function flipFilter(s: Scope, filter: TensorInfo): TensorInfo {
  const [fh, fw, ci, co] = filter.shape as [number, number, number, number];
  const out = s.alloc([fh, fw, co, ci]);
  if (ci % 4 === 0 && co % 4 === 0) {
    simdKernels(s.backend).flipFilter(s.address(filter), fh * fw, ci, co, s.address(out));
    return out;
  }
  const src = s.view(filter), dst = s.view(out);
  const taps = fh * fw, block = ci * co;
  for (let t = 0; t < taps; t++) {
    const so = (taps - 1 - t) * block, dOff = t * block;
    for (let i = 0; i < ci; i++) {
      let sIdx = so + i * co;
      let dIdx = dOff + i;
      for (let o = 0; o < co; o++, sIdx++, dIdx += ci) dst[dIdx] = src[sIdx]!;
    }
  }
  return out;
}

export const inputGradOptions = {
  // With this many input channels or fewer (an image's 1–3), the convolutions above would have
  // as few output channels, which XNNPACK runs inefficiently: a GEMM plus col2im is used instead.
  col2imChannels: 4,
  // Strided convolutions with channels in fours take the SIMD window-matrix path, in image groups
  // whose window matrix has at most this many floats (0: the phase decomposition instead).
  colsFloats: 4 * 1024 * 1024,
};

/**
 * dx through the window matrix: dcols = dy · Wᵀ ([N·OH·OW, Co] · [Co, fh·fw·Ci]), then every
 * window's column is added back to the pixels it covers (here in JavaScript, for 1–3 channels;
 * inputGradCol2imSimd below for channels in fours).
 */
function inputGradCol2im(s: Scope, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, outC: co, fh, fw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl } = g;
  const k = fh * fw * ci;
  const dcols = batchMatMul(s, s.reshape(dy, [n * oh * ow, co]), s.reshape(filter, [k, co]), { transposeA: false, transposeB: true }); // [rows, k]
  const dx = s.alloc([n, h, w, ci]);
  const out = s.view(dx), src = s.view(dcols);
  out.fill(0);
  let q = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let kh = 0; kh < fh; kh++) {
          const iy = oy * sh + kh - pt;
          if (iy < 0 || iy >= h) { q += fw * ci; continue; }
          const rowBase = (b * h + iy) * w;
          for (let kw = 0; kw < fw; kw++) {
            const ix = ox * sw + kw - pl;
            if (ix < 0 || ix >= w) { q += ci; continue; }
            let d = (rowBase + ix) * ci;
            for (let c = 0; c < ci; c++) out[d++] += src[q++]!;
          }
        }
      }
    }
  }
  return dx;
}

/**
 * The window-matrix path with channels in fours, for strided convolutions: the product on the SIMD
 * GEMM and the scatter in the kernel module, per group of images so that the window matrix stays
 * under inputGradOptions.colsFloats. Measured faster than the phase decomposition below, whose
 * small sub-filters XNNPACK repacks on every call (bench:kernels).
 */
function inputGradCol2imSimd(s: Scope, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const { batch: n, inH: h, inW: w, inC: ci, outH: oh, outW: ow, outC: co, fh, fw } = g;
  const k = fh * fw * ci;
  const dx = s.alloc([n, h, w, ci]);
  const per = Math.max(1, Math.floor(inputGradOptions.colsFloats / (oh * ow * k)));
  for (let b0 = 0; b0 < n; b0 += per) {
    const nb = Math.min(per, n - b0);
    const rows = nb * oh * ow;
    const dyGroup = s.alias(dy, b0 * oh * ow * co, [rows, co]);
    const dcols = batchMatMul(s, dyGroup, s.reshape(filter, [k, co]), { transposeA: false, transposeB: true });   // [rows, k]
    simdKernels(s.backend).col2im(s.address(dcols), nb, oh, ow, fh, fw, g.strideH, g.strideW, g.padTop, g.padLeft,
      s.address(dx) + 4 * b0 * h * w * ci, h, w, ci);
    s.release(dcols);
  }
  return dx;
}

export function conv2dBackpropInput(s: Scope, dy: TensorInfo, filter: TensorInfo, attrs: InputGradAttrs): TensorInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${attrs.dataFormat}`);
  }
  const g = convGeometry(attrs.inputShape, filter.shape, attrs.strides, attrs.pad, attrs.dimRoundingMode);
  const [n, h, w, ci] = attrs.inputShape;
  const co = g.outC;
  if (ci <= inputGradOptions.col2imChannels) return inputGradCol2im(s, dy, filter, g);
  if ((g.strideH > 1 || g.strideW > 1) && ci % 4 === 0 && co % 4 === 0 && inputGradOptions.colsFloats > 0) return inputGradCol2imSimd(s, dy, filter, g);

  const sh = g.strideH, sw = g.strideW;
  const phasesY = Array.from({ length: sh }, (_, p) => phaseAxis(p, sh, g.padTop, g.fh, h, g.outH));
  const phasesX = Array.from({ length: sw }, (_, p) => phaseAxis(p, sw, g.padLeft, g.fw, w, g.outW));

  const convPhase = (py: PhaseAxis, px: PhaseAxis): TensorInfo => {
    if (py.out === 0 || px.out === 0) throw new Error('empty phase');
    if (py.taps.length === 0 || px.taps.length === 0) {
      const z = s.alloc([n, py.out, px.out, ci]);
      s.view(z).fill(0);
      return z;
    }
    let src = dy;
    if (py.cropBefore + py.cropAfter + px.cropBefore + px.cropAfter > 0) {
      src = s.run('Slice', { x: dy }, {
        begin: [0, py.cropBefore, px.cropBefore, 0],
        size: [n, g.outH - py.cropBefore - py.cropAfter, g.outW - px.cropBefore - px.cropAfter, co],
      });
    }
    const f = sh === 1 && sw === 1 ? flipFilter(s, filter) : phaseFilter(s, filter, py.taps, px.taps);
    // A 3×3 stride-1 filter flipped is again one, so conv2d takes it to Winograd.
    return conv2d(s, src, f, {
      strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC',
      pad: explicitPad(py.padBefore, py.padAfter, px.padBefore, px.padAfter),
    });
  };

  if (sh === 1 && sw === 1) return convPhase(phasesY[0]!, phasesX[0]!);

  // Interleave the phases: dx[n, p + s·i, q + s·j, c] = phase(p,q)[n, i, j, c].
  const dx = s.alloc([n, h, w, ci]);
  const parts = phasesY.map((py) => phasesX.map((px) => (py.out > 0 && px.out > 0 ? convPhase(py, px) : null)));
  const out = s.view(dx);
  for (let p = 0; p < sh; p++) {
    for (let q = 0; q < sw; q++) {
      const part = parts[p]![q];
      if (part === null || part === undefined) continue;
      const src = s.view(part);
      const ph = phasesY[p]!.out, pw = phasesX[q]!.out;
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < ph; i++) {
          let so = ((b * ph + i) * pw) * ci;
          let dOff = ((b * h + p + sh * i) * w + q) * ci;
          const step = (sw - 1) * ci;
          for (let j = 0; j < pw; j++, dOff += step) {
            for (let c = 0; c < ci; c++) out[dOff++] = src[so++]!;
          }
        }
      }
    }
  }
  return dx;
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: BackendWasm; attrs: InputGradAttrs }) =>
    withScope(backend, (s) => (attrs.dataFormat === 'NCHW'
      // Channels-first stays with the shipped (slow, general) kernel.
      ? s.run('Conv2DBackpropInput', { dy: inputs.dy, filter: inputs.filter }, attrs)
      : conv2dBackpropInput(s, inputs.dy, inputs.filter, attrs)))) as unknown as KernelFunc,
};
