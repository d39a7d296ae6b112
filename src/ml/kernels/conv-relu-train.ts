// A convolution with bias and ReLU that stays fused while gradients are recorded. tfjs-core's fused
// conv2d op computes conv, bias add and ReLU as three separate kernels whenever a tape is on, and
// their gradient as Step, Multiply and Sum, each a pass over the activation. Here the forward pass
// is one FusedConv2D (bias and ReLU in the convolution's epilogue, conv2d.ts) and the gradient
// masks dy and sums it per channel in one SIMD pass (assembly/relu.ts). The layer that uses it is
// models/conv2d.ts.
import {
  engine, registerGradient, type GradConfig, type KernelConfig, type KernelFunc, type NamedAttrMap, type Tensor, type TensorInfo,
} from '@tensorflow/tfjs';
import { conv2d, type Conv2DAttrs } from './conv2d.js';
import { withScope, type BackendWasm } from './wasm-ops.js';
import { simdKernels } from './simd-module.js';

export const CONV_BIAS_RELU = 'SeiConv2DBiasRelu';
export const RELU_BIAS_GRAD = 'SeiReluBiasGrad';

/** Inputs x [N,H,W,Ci], filter [fh,fw,Ci,Co], bias [Co]; output relu(conv(x, filter) + bias). */
export const convBiasReluConfig: KernelConfig = {
  kernelName: CONV_BIAS_RELU,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo; filter: TensorInfo; bias: TensorInfo }; backend: BackendWasm; attrs: Conv2DAttrs }) =>
    withScope(backend, (s) => s.keep(conv2d(s, inputs.x, inputs.filter, attrs, { bias: inputs.bias, relu: true })))) as unknown as KernelFunc,
};

/** Inputs dy and the ReLU's output y (same shape, channels last); outputs dy masked by y > 0, and its per-channel sum. */
export const reluBiasGradConfig: KernelConfig = {
  kernelName: RELU_BIAS_GRAD,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend }: { inputs: { dy: TensorInfo; y: TensorInfo }; backend: BackendWasm }) => {
    const { dy, y } = inputs;
    const c = y.shape[y.shape.length - 1]!;
    const p = y.shape.reduce((a, b) => a * b, 1) / c;
    const outs: TensorInfo[] = [];
    withScope(backend, (s) => {
      outs.push(s.keep(s.alloc(y.shape)), s.keep(s.alloc([c])));
      const partial = s.alloc([c]);
      simdKernels(backend).reluBiasGrad(s.address(dy), s.address(y), p, c, s.address(outs[0]!), s.address(outs[1]!), s.address(partial));
      return outs[0]!;
    });
    return outs;
  }) as unknown as KernelFunc,
};

/** The gradient of CONV_BIAS_RELU: each input's derivative is computed only if the tape needs it
 *  (the first convolution's input is data; nothing asks for its gradient). */
export const convBiasReluGrad: GradConfig = {
  kernelName: CONV_BIAS_RELU,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, filter, y] = saved as [Tensor, Tensor, Tensor];
    const a = attrs as unknown as Conv2DAttrs;
    // Computed here, not inside the per-input closures: each closure runs in its own tidy.
    const [dz, db] = engine().runKernel(RELU_BIAS_GRAD, { dy: dys as Tensor, y }) as unknown as [Tensor, Tensor];
    const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode };
    return {
      x: () => engine().runKernel('Conv2DBackpropInput', { dy: dz!, filter }, { ...common, inputShape: x.shape } as never) as Tensor,
      filter: () => engine().runKernel('Conv2DBackpropFilter', { x, dy: dz! }, { ...common, filterShape: filter.shape } as never) as Tensor,
      bias: () => db!,
    };
  },
};

let gradientRegistered = false;
export function registerConvBiasReluGradient(): void {
  if (gradientRegistered) return;
  registerGradient(convBiasReluGrad);
  gradientRegistered = true;
}
