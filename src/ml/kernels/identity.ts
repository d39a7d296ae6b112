// Identity for the wasm backend that shares the data (reference-counted), as the cpu backend
// does. The shipped kernel copies, and the engine clones every tensor a gradient saves for the
// backward pass, so a training step copied each saved activation once more.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { runShipped, type BackendWasm } from './wasm-ops.js';

export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend }: { inputs: { x: TensorInfo }; backend: BackendWasm }) => {
    const { x } = inputs;
    if (x.dtype === 'string') return runShipped(backend, 'Identity', { x }, {});
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }) as unknown as KernelFunc,
};
