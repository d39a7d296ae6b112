// Sum and Mean over leading axes for the wasm backend. Reducing an NHWC activation over N, H, W
// (bias, batch-norm and Adam gradients) makes the shipped kernels transpose the whole tensor to
// put those axes last; here halves of the rows are added pairwise in place. The mean over the
// middle axes H, W (global average pooling) is a SIMD pass over each image in place.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm, type Scope } from './wasm-ops.js';
import { simdKernels } from './simd-module.js';

interface ReduceAttrs { axis: number | number[]; keepDims: boolean }

/** Number of leading axes reduced, or -1 when the axes are not a leading prefix. */
function leadingAxes(shape: number[], axis: number | number[]): number {
  const axes = util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i) return -1;
  return axes.length;
}

/** Number of middle axes reduced (1 … rank − 2, with the batch and the channels kept) when the
 *  kept values per image come in fours (the SIMD pass's vectors), or -1. */
function middleAxes(shape: number[], axis: number | number[]): number {
  const axes = util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length > shape.length - 2) return -1;
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i + 1) return -1;
  return shape.slice(1 + axes.length).reduce((a, b) => a * b, 1) % 4 === 0 ? axes.length : -1;
}

/** The mean over the k middle axes of x [n, …, C] (C a multiple of 4) on the SIMD kernel. */
function spatialMean(s: Scope, x: TensorInfo, k: number, keepDims: boolean): TensorInfo {
  const n = x.shape[0]!, pixels = x.shape.slice(1, 1 + k).reduce((a, b) => a * b, 1);
  const kept = x.shape.slice(1 + k), c = kept.reduce((a, b) => a * b, 1);
  const out = s.alloc(keepDims ? [n, ...x.shape.slice(1, 1 + k).map(() => 1), ...kept] : [n, ...kept]);
  simdKernels(s.backend).spatialMean(s.address(x), n, pixels, c, s.address(out));
  return out;
}

function reduceLeading(name: 'Sum' | 'Mean') {
  return (({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: ReduceAttrs }) => {
    const { x } = inputs;
    return withScope(backend, (s) => {
      if (name === 'Mean' && x.dtype === 'float32') {
        const middle = middleAxes(x.shape, attrs.axis);
        if (middle > 0) return spatialMean(s, x, middle, attrs.keepDims);
      }
      const k = leadingAxes(x.shape, attrs.axis);
      if (x.dtype !== 'float32' || k <= 0 || x.shape.length === 0) return s.run(name, { x }, attrs);
      const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
      const keptShape = x.shape.slice(k);
      const cols = keptShape.reduce((a, b) => a * b, 1);
      const outShape = attrs.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...keptShape] : keptShape;
      // Pairwise: add the two halves of the rows with the backend's vectorised Add (on zero-copy
      // windows) until few rows remain, then finish in float64.
      let cur = x, n = rows;
      let leftovers: TensorInfo[] = [];
      while (n > 8) {
        const half = n >> 1;
        if (n % 2 === 1) leftovers.push(s.alias(cur, (n - 1) * cols, [cols]));
        cur = s.run('Add', { a: s.alias(cur, 0, [half, cols]), b: s.alias(cur, half * cols, [half, cols]) });
        n = half;
      }
      const out = s.alloc(outShape);
      const dst = s.view(out);
      const acc = new Float64Array(cols);
      const src = s.view(cur);
      for (let r = 0, o = 0; r < n; r++, o += cols) {
        for (let c = 0; c < cols; c++) acc[c]! += src[o + c]!;
      }
      for (const l of leftovers) {
        const v = s.view(l);
        for (let c = 0; c < cols; c++) acc[c]! += v[c]!;
      }
      leftovers = [];
      const scale = name === 'Mean' ? 1 / rows : 1;
      for (let c = 0; c < cols; c++) dst[c] = acc[c]! * scale;
      return out;
    });
  }) as unknown as KernelFunc;
}

export const sumConfig: KernelConfig = { kernelName: 'Sum', backendName: 'wasm', kernelFunc: reduceLeading('Sum') };
export const meanConfig: KernelConfig = { kernelName: 'Mean', backendName: 'wasm', kernelFunc: reduceLeading('Mean') };
