// Registers the fast training kernels on the wasm backend. Call after the wasm backend has been
// initialised (its shipped kernels are captured first, so ours can call them).
import { registerKernel, unregisterKernel, getKernel, type KernelConfig } from '@tensorflow/tfjs';
import { captureShippedKernel } from './wasm-ops.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { batchMatMulConfig, fusedMatMulConfig, matMulOptions } from './batch-mat-mul.js';
import { tileConfig } from './tile.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { sumConfig, meanConfig } from './reduce.js';
import { fusedBatchNormConfig } from './batch-norm.js';
import { identityConfig } from './identity.js';
import { castConfig } from './cast.js';
import { conv2dConfig, DIRECT_MAX_CHANNELS, directConvOptions, fusedConv2dConfig } from './conv2d.js';
import { adamUpdateConfig } from './adam-update.js';
import { padSliceOptions, padV2Config, sliceConfig } from './pad-slice.js';
import { winogradOptions } from './winograd.js';
import { batchNormTrainConfig, batchNormTrainGradConfig, registerBatchNormTrainGradient } from './batch-norm-train.js';
import { registerFastGradients } from './gradients.js';
import { convBiasReluConfig, registerConvBiasReluGradient, reluBiasGradConfig } from './conv-relu-train.js';

/** Kernels of the shipped wasm backend that ours are built on (captured before any replacement). */
const BUILDING_BLOCKS = ['Conv2D', 'FusedConv2D', 'BatchMatMul', '_FusedMatMul', 'Transpose', 'Reshape', 'Slice', 'StridedSlice', 'Reverse', 'PadV2', 'Add', 'Multiply', 'Identity'];

export const FAST_KERNELS: KernelConfig[] = [
  conv2dConfig, fusedConv2dConfig, conv2dBackpropFilterConfig, conv2dBackpropInputConfig, batchMatMulConfig, fusedMatMulConfig, tileConfig, maxPoolGradConfig, sumConfig, meanConfig, fusedBatchNormConfig, identityConfig, castConfig, adamUpdateConfig, padV2Config, sliceConfig,
  batchNormTrainConfig, batchNormTrainGradConfig, convBiasReluConfig, reluBiasGradConfig,
];

let registered = false;

/** Registers (once per process) every fast kernel for backend 'wasm'; returns their names. */
export function registerFastWasmKernels(): string[] {
  if (!registered) {
    for (const name of BUILDING_BLOCKS) captureShippedKernel(name);
    for (const k of FAST_KERNELS) {
      if (getKernel(k.kernelName, 'wasm') !== undefined) {
        captureShippedKernel(k.kernelName);
        unregisterKernel(k.kernelName, 'wasm');
      }
      registerKernel(k);
    }
    registerFastGradients();
    registerBatchNormTrainGradient();
    registerConvBiasReluGradient();
    registered = true;
  }
  return FAST_KERNELS.map((k) => k.kernelName);
}

/**
 * Switches the project's SIMD paths on or off, for benchmarks that compare both in one run: off,
 * the convolutions and products run on the XNNPACK-based replacements, pad and slice on the
 * shipped kernels, and the optimizer, batch-norm and conv + ReLU layers (which look the fused
 * kernels up) on tfjs's element-wise ops. Switching on restores the defaults.
 */
export function setSimdPaths(on: boolean): void {
  winogradOptions.enabled = on;
  directConvOptions.maxChannels = on ? DIRECT_MAX_CHANNELS : 0;
  matMulOptions.simd = on;
  padSliceOptions.enabled = on;
  for (const k of [adamUpdateConfig, batchNormTrainConfig, convBiasReluConfig]) {
    const present = getKernel(k.kernelName, 'wasm') !== undefined;
    if (!on && present) unregisterKernel(k.kernelName, 'wasm');
    if (on && !present) registerKernel(k);
  }
}
