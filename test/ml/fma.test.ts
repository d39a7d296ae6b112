// The SIMD kernels' two builds: the relaxed-SIMD one (fused multiply-add) must validate wherever
// the tool runs its kernels (in this process and in worker processes started with the workers'
// flags), share the backend's memory like the plain one, and differ from it only by rounding.
// Every kernel test compares both builds with the cpu backend (kernel-check.ts `compareWithCpu`).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { withWorkerFlags } from '../../src/exec/local.js';
import { assertNoOwnMemory, fmaModulePath, fusedMultiplyAddSupported, relaxedSimdBehindFlag, RELAXED_SIMD_FLAG } from '../../src/ml/kernels/simd-module.js';
import { rand, relativeError, runOn, onBuild } from './kernel-check.js';

/** Whether the CPU has fused multiply-add instructions (x86 FMA3 or any 64-bit Arm). */
function cpuHasFma(): boolean {
  if (process.arch === 'arm64') return true;
  if (!existsSync('/proc/cpuinfo')) return false;
  return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
}

describe('fused multiply-add build of the SIMD kernels', function () {
  this.timeout(60000);
  before(async () => { await initBackend('wasm'); });

  it('is built, owns no memory, and validates in this process', () => {
    const bytes = readFileSync(fmaModulePath);
    assertNoOwnMemory(bytes);
    assert.ok(fusedMultiplyAddSupported(), 'the relaxed-SIMD build should validate on Node 20 and later');
    assert.ok(WebAssembly.validate(bytes));
  });

  it('validates in a worker process started with the workers\' flags', () => {
    const flags = withWorkerFlags([]);
    assert.equal(flags.includes(RELAXED_SIMD_FLAG), relaxedSimdBehindFlag());
    const out = execFileSync(process.execPath, [...flags, '-e',
      `process.stdout.write(String(WebAssembly.validate(require('fs').readFileSync(${JSON.stringify(fmaModulePath.pathname)}))))`]).toString();
    assert.equal(out, 'true');
  });

  it('gives the products of the plain build up to rounding, each build the same bits on every run', async function () {
    // A long reduction (k = 1024) on the project's GEMM: the rounding differences add up.
    const m = 16, k = 1024, n = 64;
    const inputs = { a: { shape: [1, m, k], values: rand(m * k, 3) }, b: { shape: [1, k, n], values: rand(k * n, 4) } };
    const attrs = { transposeA: false, transposeB: false };
    const plain = await onBuild('simd128', () => runOn('wasm', 'BatchMatMul', inputs, attrs));
    const fused = await onBuild('fma', () => runOn('wasm', 'BatchMatMul', inputs, attrs));
    const fusedAgain = await onBuild('fma', () => runOn('wasm', 'BatchMatMul', inputs, attrs));
    const ref = await runOn('cpu', 'BatchMatMul', inputs, attrs);
    await tf.setBackend('wasm');
    assert.deepEqual(fusedAgain.values, fused.values, 'the fused build is deterministic');
    assert.ok(relativeError(fused.values, plain.values) < 1e-5, 'the builds differ by rounding only');
    assert.ok(relativeError(fused.values, ref.values) < 1e-5);
    // Where the CPU fuses, one rounding per step instead of two shows in some of the 1,024 outputs:
    // the fused build is not silently the plain one.
    if (!cpuHasFma()) this.skip();
    const differing = fused.values.filter((v, i) => v !== plain.values[i]).length;
    assert.ok(differing > 0, 'on a CPU with FMA the fused build should round differently somewhere');
  });
});
