// Sum and Mean over leading axes for the wasm backend. Reducing an NHWC activation over N, H, W
// (bias, batch-norm and Adam gradients) makes the shipped kernels transpose the whole tensor to
// put those axes last; here the rows are accumulated in place, in float64.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm } from './wasm-ops.js';

interface ReduceAttrs { axis: number | number[]; keepDims: boolean }

/** Number of leading axes reduced, or -1 when the axes are not a leading prefix. */
function leadingAxes(shape: number[], axis: number | number[]): number {
  const axes = util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i) return -1;
  return axes.length;
}

function reduceLeading(name: 'Sum' | 'Mean') {
  return (({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: ReduceAttrs }) => {
    const { x } = inputs;
    return withScope(backend, (s) => {
      const k = leadingAxes(x.shape, attrs.axis);
      if (x.dtype !== 'float32' || k <= 0 || x.shape.length === 0) return s.run(name, { x }, attrs);
      const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
      const keptShape = x.shape.slice(k);
      const cols = keptShape.reduce((a, b) => a * b, 1);
      const outShape = attrs.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...keptShape] : keptShape;
      const out = s.alloc(outShape);
      const src = s.view(x), dst = s.view(out);
      const acc = new Float64Array(cols);
      for (let r = 0, o = 0; r < rows; r++, o += cols) {
        for (let c = 0; c < cols; c++) acc[c]! += src[o + c]!;
      }
      const scale = name === 'Mean' ? 1 / rows : 1;
      for (let c = 0; c < cols; c++) dst[c] = acc[c]! * scale;
      return out;
    });
  }) as unknown as KernelFunc;
}

export const sumConfig: KernelConfig = { kernelName: 'Sum', backendName: 'wasm', kernelFunc: reduceLeading('Sum') };
export const meanConfig: KernelConfig = { kernelName: 'Mean', backendName: 'wasm', kernelFunc: reduceLeading('Mean') };
