// PadV2 and Slice for the wasm backend on NHWC images: zero padding of the spatial dimensions (the
// explicit padding layers of ResNet and VGG) and the slice that is its gradient, row by row with
// memory copies (assembly/pad.ts). Every other padding or slice is the shipped kernel's.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm } from './wasm-ops.js';
import { simdKernels } from './simd-module.js';

export const padSliceOptions = { enabled: true };

interface PadAttrs { paddings: [number, number][]; constantValue: number }
interface SliceAttrs { begin: number | number[]; size: number | number[] }

export const padV2Config: KernelConfig = {
  kernelName: 'PadV2',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: PadAttrs }) => withScope(backend, (s) => {
    const { x } = inputs;
    const p = attrs.paddings;
    const spatialOnly = x.shape.length === 4 && p.length === 4 && p[0]![0] === 0 && p[0]![1] === 0 && p[3]![0] === 0 && p[3]![1] === 0 &&
      p.every(([a, b]) => a >= 0 && b >= 0);
    if (!padSliceOptions.enabled || !spatialOnly || attrs.constantValue !== 0 || x.dtype !== 'float32') return s.run('PadV2', inputs, attrs);
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const ph = h + p[1]![0] + p[1]![1], pw = w + p[2]![0] + p[2]![1];
    const out = s.alloc([n, ph, pw, c]);
    simdKernels(backend).padImages(s.address(x), n, h, w, c, p[1]![0], p[2]![0], ph, pw, s.address(out));
    return out;
  })) as unknown as KernelFunc,
};

export const sliceConfig: KernelConfig = {
  kernelName: 'Slice',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SliceAttrs }) => withScope(backend, (s) => {
    const { x } = inputs;
    if (!padSliceOptions.enabled || x.shape.length !== 4 || x.dtype !== 'float32' || !Array.isArray(attrs.begin) || !Array.isArray(attrs.size)) {
      return s.run('Slice', inputs, attrs);
    }
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const begin = attrs.begin, size = attrs.size.map((v, i) => (v === -1 ? x.shape[i]! - begin[i]! : v));
    // Whole channels: a window of rows and columns of a run of images.
    if (begin[3] !== 0 || size[3] !== c) return s.run('Slice', inputs, attrs);
    const [b0, top, left] = [begin[0]!, begin[1]!, begin[2]!];
    const [nb, oh, ow] = [size[0]!, size[1]!, size[2]!];
    const out = s.alloc([nb, oh, ow, c]);
    simdKernels(backend).cropImages(s.address(x) + 4 * b0 * h * w * c, nb, h, w, c, top, left, oh, ow, s.address(out));
    return out;
  })) as unknown as KernelFunc,
};
