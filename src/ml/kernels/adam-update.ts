// The fused Adam update (see train/adam-update.ts) on the wasm backend: one SIMD pass per
// variable (assembly/adam.ts), in place in wasm memory.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm } from './wasm-ops.js';
import { simdKernels } from './simd-module.js';
import { ADAM_UPDATE, adamScalars, type AdamUpdateAttrs } from '../train/adam-update.js';

export const adamUpdateConfig: KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: Record<'w' | 'g' | 'm' | 's', TensorInfo>; backend: BackendWasm; attrs: AdamUpdateAttrs }) => {
    const { w, g, m, s: sv } = inputs;
    const k = adamScalars(attrs);
    const outs: TensorInfo[] = [];
    withScope(backend, (s) => {
      for (let i = 0; i < 3; i++) outs.push(s.keep(s.alloc(w.shape)));
      simdKernels(backend).adamUpdate(s.address(w), s.address(g), s.address(m), s.address(sv), w.shape.reduce((a, b) => a * b, 1),
        s.address(outs[0]!), s.address(outs[1]!), s.address(outs[2]!),
        k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.c1, k.c2, k.epsilon, k.lr);
      return outs[0]!;
    });
    return outs;
  }) as unknown as KernelFunc,
};
