// The fused Adam update as a tfjs kernel: one kernel per variable instead of a dozen element-wise
// ones. The wasm backend's version is SIMD (kernels/adam-update.ts); the cpu backend's is below.
// Both compute the same float32 operations in the same order as the op sequence in optimizers.ts,
// so a run gives the same numbers with or without them.
import { getKernel, registerKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

export const ADAM_UPDATE = 'SeiAdamUpdate';

export interface AdamUpdateAttrs { beta1: number; beta2: number; c1: number; c2: number; epsilon: number; lr: number }

/** The attribute values as the float32 scalars the op sequence multiplies by. */
export function adamScalars(a: AdamUpdateAttrs) {
  const f = Math.fround;
  return {
    beta1: f(a.beta1), oneMinusBeta1: f(1 - a.beta1), beta2: f(a.beta2), oneMinusBeta2: f(1 - a.beta2),
    c1: f(a.c1), c2: f(a.c2), epsilon: f(a.epsilon), lr: f(a.lr),
  };
}

interface CpuBackend {
  data: { get(id: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/**
 * The update over arrays, each operation rounded to float32 as the cpu backend's element-wise
 * kernels do. The outputs may be the inputs themselves (an in-place update): each element is read
 * before it is written.
 */
export function adamUpdateArrays(w: Float32Array, g: Float32Array, m: Float32Array, s: Float32Array,
  wOut: Float32Array, mOut: Float32Array, sOut: Float32Array, attrs: AdamUpdateAttrs): void {
  const f = Math.fround;
  const k = adamScalars(attrs);
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const gv = g[i]!;
    const m2 = f(f(m[i]! * k.beta1) + f(gv * k.oneMinusBeta1));
    const s2 = f(f(s[i]! * k.beta2) + f(f(gv * gv) * k.oneMinusBeta2));
    const update = f(f(m2 / k.c1) / f(f(Math.sqrt(f(s2 / k.c2))) + k.epsilon));
    mOut[i] = m2;
    sOut[i] = s2;
    wOut[i] = f(w[i]! - f(update * k.lr));
  }
}

/** The cpu backend's kernel. */
const cpuAdamUpdate: KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'cpu',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: Record<'w' | 'g' | 'm' | 's', TensorInfo>; backend: CpuBackend; attrs: AdamUpdateAttrs }) => {
    const [w, g, m, s] = (['w', 'g', 'm', 's'] as const).map((n) => backend.data.get(inputs[n].dataId).values);
    const n = w!.length;
    const wOut = new Float32Array(n), mOut = new Float32Array(n), sOut = new Float32Array(n);
    adamUpdateArrays(w!, g!, m!, s!, wOut, mOut, sOut, attrs);
    const shape = inputs.w.shape;
    return [backend.makeTensorInfo(shape, 'float32', wOut), backend.makeTensorInfo(shape, 'float32', mOut), backend.makeTensorInfo(shape, 'float32', sOut)];
  }) as unknown as KernelFunc,
};

if (getKernel(ADAM_UPDATE, 'cpu') === undefined) registerKernel(cpuAdamUpdate);
