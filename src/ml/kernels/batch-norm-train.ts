// Batch normalisation in training mode as two wasm kernels (assembly/batchnorm.ts): the forward
// pass with the batch statistics, and its whole gradient. The layer that uses them is
// models/batch-norm.ts; this file registers the kernels' gradient too.
import {
  registerGradient, engine, type GradConfig, type KernelConfig, type KernelFunc, type Tensor, type TensorInfo,
} from '@tensorflow/tfjs';
import { withScope, type BackendWasm } from './wasm-ops.js';
import { simdKernels } from './simd-module.js';

export const BN_TRAIN = 'SeiBatchNormTrain';
export const BN_TRAIN_GRAD = 'SeiBatchNormTrainGrad';

/** Rows (pixels) and channels of a channels-last tensor. */
const rowsAndChannels = (t: TensorInfo): [number, number] => {
  const c = t.shape[t.shape.length - 1]!;
  return [t.shape.reduce((a, b) => a * b, 1) / c, c];
};

/** Outputs: y (x's shape), then mean, variance and 1/√(variance + ε), each [C]. */
export const batchNormTrainConfig: KernelConfig = {
  kernelName: BN_TRAIN,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }; backend: BackendWasm; attrs: { epsilon: number } }) => {
    const { x, gamma, beta } = inputs;
    const [p, c] = rowsAndChannels(x);
    const outs: TensorInfo[] = [];
    withScope(backend, (s) => {
      outs.push(s.keep(s.alloc(x.shape)));
      for (let i = 0; i < 3; i++) outs.push(s.keep(s.alloc([c])));
      simdKernels(backend).batchNormTrain(s.address(x), p, c, s.address(gamma), s.address(beta), attrs.epsilon,
        s.address(outs[0]!), s.address(outs[1]!), s.address(outs[2]!), s.address(outs[3]!));
      return outs[0]!;
    });
    return outs;
  }) as unknown as KernelFunc,
};

/** Outputs: dx, dgamma, dbeta. */
export const batchNormTrainGradConfig: KernelConfig = {
  kernelName: BN_TRAIN_GRAD,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend }: { inputs: Record<'dy' | 'x' | 'gamma' | 'mean' | 'invStd', TensorInfo>; backend: BackendWasm }) => {
    const { dy, x, gamma, mean, invStd } = inputs;
    const [p, c] = rowsAndChannels(x);
    const outs: TensorInfo[] = [];
    withScope(backend, (s) => {
      outs.push(s.keep(s.alloc(x.shape)), s.keep(s.alloc([c])), s.keep(s.alloc([c])));
      simdKernels(backend).batchNormTrainGrad(s.address(dy), s.address(x), p, c, s.address(gamma), s.address(mean), s.address(invStd),
        s.address(outs[0]!), s.address(outs[1]!), s.address(outs[2]!));
      return outs[0]!;
    });
    return outs;
  }) as unknown as KernelFunc,
};

/** Only y reaches the loss (the statistics feed the moving averages): the gradient uses dy[0]. */
export const batchNormTrainGrad: GradConfig = {
  kernelName: BN_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
    const dy = (dys as Tensor[])[0]!;
    const [x, gamma, mean, invStd] = saved as [Tensor, Tensor, Tensor, Tensor];
    // Computed here, not inside the per-input closures: each closure runs in its own tidy.
    const [dx, dgamma, dbeta] = engine().runKernel(BN_TRAIN_GRAD, { dy, x, gamma, mean, invStd }) as unknown as Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

let gradientRegistered = false;
export function registerBatchNormTrainGradient(): void {
  if (gradientRegistered) return;
  registerGradient(batchNormTrainGrad);
  gradientRegistered = true;
}
