// FusedBatchNorm for the wasm backend with per-channel statistics: y = x·a + b with
// a = scale / sqrt(variance + ε) and b = offset − mean·a computed per channel, then one SIMD pass
// (channels in fours) or two broadcast operations (the shipped kernel is a scalar loop, ~4× slower).
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm } from './wasm-ops.js';
import { simdKernels } from './simd-module.js';

interface BnInputs { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo }

export const fusedBatchNormConfig: KernelConfig = {
  kernelName: 'FusedBatchNorm',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: BnInputs; backend: BackendWasm; attrs: { varianceEpsilon: number } }) => {
    const { x, mean, variance, offset, scale } = inputs;
    const c = x.shape[x.shape.length - 1] ?? 1;
    const perChannel = (t?: TensorInfo) => t === undefined || t === null || t.shape.reduce((a, b) => a * b, 1) === c;
    return withScope(backend, (s) => {
      if (x.dtype !== 'float32' || x.shape.length === 0 || ![mean, variance, offset, scale].every(perChannel)) {
        return s.run('FusedBatchNorm', inputs as unknown as Record<string, TensorInfo>, attrs);
      }
      const a = s.alloc([c]), b = s.alloc([c]);
      const av = s.view(a), bv = s.view(b);
      const m = s.view(mean), v = s.view(variance);
      const sc = scale ? s.view(scale) : null, of = offset ? s.view(offset) : null;
      for (let i = 0; i < c; i++) {
        const ai = (sc ? sc[i]! : 1) / Math.sqrt(v[i]! + attrs.varianceEpsilon);
        av[i] = ai;
        bv[i] = (of ? of[i]! : 0) - m[i]! * ai;
      }
      if (c % 4 !== 0) return s.run('Add', { a: s.run('Multiply', { a: x, b: a }), b });
      const y = s.alloc(x.shape);
      simdKernels(backend).scaleShift(s.address(x), x.shape.reduce((p, d) => p * d, 1) / c, c, s.address(a), s.address(b), s.address(y));
      return y;
    });
  }) as unknown as KernelFunc,
};
