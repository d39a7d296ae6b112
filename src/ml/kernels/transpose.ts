// Transposes used inside the backward kernels.
import type { TensorInfo } from '@tensorflow/tfjs';
import type { Scope } from './wasm-ops.js';

export function transposeFast(s: Scope, x: TensorInfo, perm: number[]): TensorInfo {
  return s.transpose(x, perm);
}
