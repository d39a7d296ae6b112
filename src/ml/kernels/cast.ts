// Cast for the wasm backend that shares the data (reference-counted) when the dtype does not
// change, as the cpu backend does. The shipped kernel copies; tfjs casts float32 activations to
// float32 in every ReLU gradient (the step mask) and in moments (batch-norm statistics).
import { type KernelConfig, type KernelFunc, type TensorInfo, type DataType } from '@tensorflow/tfjs';
import { runShipped, type BackendWasm } from './wasm-ops.js';

export const castConfig: KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: { dtype: DataType } }) => {
    const { x } = inputs;
    if (x.dtype !== attrs.dtype || x.dtype === 'string') return runShipped(backend, 'Cast', { x }, attrs);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }) as unknown as KernelFunc,
};
