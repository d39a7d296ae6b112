// Transposes used inside the kernels: the backend's own kernel (measured: a hand-blocked loop over
// the wasm heap in JavaScript is no faster).
import type { TensorInfo } from '@tensorflow/tfjs';
import type { Scope } from './wasm-ops.js';

export function transposeFast(s: Scope, x: TensorInfo, perm: number[]): TensorInfo {
  return s.transpose(x, perm);
}
