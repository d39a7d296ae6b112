// Shared by the kernel tests: deterministic inputs, running one kernel on a named backend, and the
// relative error the kernels are held to.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { fusedMultiplyAddSupported, kernelBuildOptions, type KernelBuild } from '../../src/ml/kernels/simd-module.js';

/** Deterministic pseudo-random values in [-1, 1). */
export function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs one kernel on a backend with the given input values; returns the output values. */
export async function runOn(backend: string, kernel: string, inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown>): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape);
    const out = tf.engine().runKernel(kernel, ts as never, attrs as never) as tf.Tensor;
    return { shape: out.shape, values: out.dataSync() as Float32Array };
  });
}

export function relativeError(actual: Float32Array, expected: Float32Array): number {
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

export type KernelInputs = Record<string, { shape: number[]; values: Float32Array }>;

/** The builds of the SIMD kernel module this process can run: both where the fused one validates. */
export function kernelBuilds(): KernelBuild[] {
  return fusedMultiplyAddSupported() ? ['simd128', 'fma'] : ['simd128'];
}

/** Runs `fn` with the kernels on one build, then restores the default. */
export async function onBuild<T>(build: KernelBuild, fn: () => Promise<T>): Promise<T> {
  const before = kernelBuildOptions.fma;
  kernelBuildOptions.fma = build === 'fma';
  try {
    return await fn();
  } finally {
    kernelBuildOptions.fma = before;
  }
}

/** Runs `kernel` on the cpu backend (the reference) and on wasm — once per build of the SIMD
 *  kernels (kernelBuilds) — and asserts equal shapes and a relative error under 1e-4, naming
 *  `label` and the build on failure. */
export async function compareWithCpu(kernel: string, inputs: KernelInputs, attrs: Record<string, unknown>, label = kernel): Promise<void> {
  const ref = await runOn('cpu', kernel, inputs, attrs);
  for (const build of kernelBuilds()) {
    const got = await onBuild(build, () => runOn('wasm', kernel, inputs, attrs));
    assert.deepEqual(got.shape, ref.shape, `${label} (${build})`);
    const err = relativeError(got.values, ref.values);
    assert.ok(err < 1e-4, `${label} (${build}): relative error ${err}`);
  }
}
