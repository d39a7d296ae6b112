// BatchMatMul for the wasm backend. The shipped kernel uses XNNPACK only for a single,
// untransposed product and otherwise a scalar loop (~1 GFLOP/s), which is what every dense layer's
// backward pass asks for (dW = xᵀ·dy, dx = dy·Wᵀ). Products with a multiple of 4 output columns run
// on the project's SIMD kernel (assembly/gemm.ts); the others on XNNPACK's GEMM, with transposed
// operands transposed once explicitly and one GEMM per batch entry on zero-copy windows.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm, type Epilogue, type Scope } from './wasm-ops.js';
import { transposeFast } from './transpose.js';
import { simdKernels } from './simd-module.js';

interface MatMulAttrs { transposeA: boolean; transposeB: boolean }

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

export function batchMatMul(s: Scope, a: TensorInfo, b: TensorInfo, attrs: MatMulAttrs, epilogue: Epilogue = {}): TensorInfo {
  const ra = a.shape.length, rb = b.shape.length;
  const batchA = prod(a.shape.slice(0, -2)), batchB = prod(b.shape.slice(0, -2));
  const m = attrs.transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const ka = attrs.transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = attrs.transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const nOut = attrs.transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (ka !== kb) throw new Error(`matMul: inner dimensions ${ka} and ${kb} of shapes ${a.shape} and ${b.shape} differ`);
  const outer = (batchA >= batchB ? a.shape : b.shape).slice(0, -2);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    // General broadcasting of batch dimensions: leave it to the shipped kernel.
    return s.run('BatchMatMul', { a, b }, attrs);
  }
  const batch = Math.max(batchA, batchB);
  if (nOut % 4 === 0 && matMulOptions.simd) {
    return simdBatchMatMul(s, a, b, { batchA, batchB, batch, m, k: ka, n: nOut, outer, transposeA: attrs.transposeA, transposeB: attrs.transposeB }, epilogue);
  }
  if (epilogue.bias !== undefined || epilogue.relu) throw new Error('batchMatMul: an epilogue needs the SIMD path');
  const a3 = s.reshape(a, [batchA, a.shape[ra - 2]!, a.shape[ra - 1]!]);
  const b3 = s.reshape(b, [batchB, b.shape[rb - 2]!, b.shape[rb - 1]!]);
  // A transposed operand costs one explicit transpose. When that operand is the larger one, it is
  // cheaper to compute the transposed product (Bᵀ·Aᵀ)ᵀ, transposing the two smaller matrices.
  const sizeA = m * ka, sizeB = ka * nOut, sizeOut = m * nOut;
  const direct = (attrs.transposeA ? sizeA : 0) + (attrs.transposeB ? sizeB : 0);
  const swapped = (attrs.transposeA ? 0 : sizeA) + (attrs.transposeB ? 0 : sizeB) + sizeOut;
  if (batch === 1 && swapped < direct) {
    // out = (op(B)ᵀ · op(A)ᵀ)ᵀ, where op(B)ᵀ is B itself when transposeB, and op(A)ᵀ is A when transposeA.
    const left = attrs.transposeB ? b3 : transposeFast(s, b3, [0, 2, 1]);   // [1, N, K]
    const right = attrs.transposeA ? a3 : transposeFast(s, a3, [0, 2, 1]);  // [1, K, M]
    const outT = gemm(s, left, right);                                      // [1, N, M]
    return s.reshape(transposeFast(s, outT, [0, 2, 1]), [...outer, m, nOut]);
  }
  const aa = attrs.transposeA ? transposeFast(s, a3, [0, 2, 1]) : a3;   // [batchA, M, K]
  const bb = attrs.transposeB ? transposeFast(s, b3, [0, 2, 1]) : b3;   // [batchB, K, N]
  if (batch === 1) return s.reshape(gemm(s, aa, bb), [...outer, m, nOut]);
  const out = s.alloc([...outer, m, nOut]);
  const parts: TensorInfo[] = [];
  for (let i = 0; i < batch; i++) {
    const ai = s.alias(aa, batchA === 1 ? 0 : i * m * ka, [1, m, ka]);
    const bi = s.alias(bb, batchB === 1 ? 0 : i * ka * nOut, [1, ka, nOut]);
    parts.push(gemm(s, ai, bi));
  }
  const dst = s.view(out);
  parts.forEach((p, i) => dst.set(s.view(p), i * m * nOut));
  return out;
}

export const matMulOptions = {
  // Products with a multiple of 4 output columns run on the SIMD kernel (measured 1.4–2.5× XNNPACK,
  // which repacks every new right operand: bench:kernels); false keeps XNNPACK, for comparisons.
  simd: true,
};

interface ProductShape {
  batchA: number; batchB: number; batch: number; m: number; k: number; n: number; outer: number[];
  transposeA: boolean; transposeB: boolean;
}

/**
 * Every product of the batch on the SIMD kernel, in place in wasm memory. The kernel reads a's
 * rows and b's rows as they lie; a transposed operand is transposed once in 4×4 blocks (read
 * through its strides instead, rows a power of two apart would share cache sets). For one
 * product with b transposed and a small a (a dense layer's input gradient, dy·Wᵀ), the
 * transposed product (W·dyᵀ)ᵀ moves the two small matrices instead of the weights.
 */
export function simdBatchMatMul(s: Scope, a: TensorInfo, b: TensorInfo, p: ProductShape, epilogue: Epilogue = {}): TensorInfo {
  const { m, k, n } = p;
  if (p.batch === 1 && p.transposeB && !p.transposeA && epilogue.bias === undefined && !epilogue.relu &&
      k % 4 === 0 && m * k + m * n < k * n) {
    // Never transpose the weights: at VGG16's fc1 that is a second 392 MiB copy of them. A row
    // count that is not a multiple of 4 (a batch of 1 or 2) is padded with zero rows instead.
    const m4 = Math.ceil(m / 4) * 4;
    const aT = transposed(s, m4 === m ? a : padRows(s, a, m, k, m4), 1, m4, k);               // [k, m4]
    const cT = simdBatchMatMul(s, b, aT, { ...p, m: n, n: m4, outer: [], transposeB: false }); // [n, m4]
    const c = transposed(s, cT, 1, n, m4);                                                      // [m4, n]
    if (m4 === m) return s.reshape(c, [...p.outer, m, n]);
    const out = s.alloc([...p.outer, m, n]);
    s.view(out).set(s.view(c).subarray(0, m * n));
    return out;
  }
  const aa = p.transposeA ? transposed(s, a, p.batchA, k, m) : a;   // [batchA, m, k]
  const bb = p.transposeB ? transposed(s, b, p.batchB, n, k) : b;   // [batchB, k, n]
  const kernels = simdKernels(s.backend);
  const out = s.alloc([...p.outer, m, n]);
  const pack = s.alloc([8 * k]);
  const bias = epilogue.bias === undefined ? 0 : s.address(epilogue.bias);
  for (let i = 0; i < p.batch; i++) {
    kernels.gemm(s.address(aa) + 4 * (p.batchA === 1 ? 0 : i * m * k), 4 * k, 4,
      s.address(bb) + 4 * (p.batchB === 1 ? 0 : i * k * n), n, s.address(out) + 4 * i * m * n, n, m, k, n,
      bias, epilogue.relu ? 1 : 0, s.address(pack), 0);
  }
  return out;
}

/** x's [rows, cols] followed by zero rows up to `to` rows. */
function padRows(s: Scope, x: TensorInfo, rows: number, cols: number, to: number): TensorInfo {
  const out = s.alloc([to, cols]);
  const v = s.view(out);
  v.set(s.view(x).subarray(0, rows * cols));
  v.fill(0, rows * cols);
  return out;
}

/** Each of `batch` [rows, cols] matrices of x transposed: [batch, cols, rows]. */
function transposed(s: Scope, x: TensorInfo, batch: number, rows: number, cols: number): TensorInfo {
  if (rows % 4 !== 0 || cols % 4 !== 0) return transposeFast(s, s.reshape(x, [batch, rows, cols]), [0, 2, 1]);
  const out = s.alloc([batch, cols, rows]);
  const kernels = simdKernels(s.backend);
  for (let i = 0; i < batch; i++) kernels.flipFilter(s.address(x) + 4 * i * rows * cols, 1, rows, cols, s.address(out) + 4 * i * rows * cols);
  return out;
}

/** One untransposed product [1, M, K] · [1, K, N] on XNNPACK. */
function gemm(s: Scope, a: TensorInfo, b: TensorInfo): TensorInfo {
  return s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { a: TensorInfo; b: TensorInfo }; backend: BackendWasm; attrs: MatMulAttrs }) => {
    const { a, b } = inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('BatchMatMul on wasm supports float32 only');
    return withScope(backend, (s) => batchMatMul(s, a, b, attrs));
  }) as unknown as KernelFunc,
};

interface FusedMatMulAttrs extends MatMulAttrs { activation?: string; leakyreluAlpha?: number }

/** A dense layer in inference: the product with its bias and ReLU on the SIMD kernel when it can
 *  compute them (a per-column bias, 4k columns, no batch broadcasting), else the shipped kernel. */
export const fusedMatMulConfig: KernelConfig = {
  kernelName: '_FusedMatMul',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: {
    inputs: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    backend: BackendWasm; attrs: FusedMatMulAttrs;
  }) => withScope(backend, (s) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    const activation = attrs.activation ?? 'linear';
    const n = attrs.transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
    const batchA = prod(a.shape.slice(0, -2)), batchB = prod(b.shape.slice(0, -2));
    const fusable = matMulOptions.simd && n % 4 === 0 && (activation === 'linear' || activation === 'relu') &&
      preluActivationWeights == null && (bias == null || (bias.shape.length === 1 && bias.shape[0] === n)) &&
      (batchA === batchB || batchA === 1 || batchB === 1) && a.dtype === 'float32' && b.dtype === 'float32';
    if (!fusable) return s.run('_FusedMatMul', inputs as unknown as Record<string, TensorInfo>, attrs);
    return batchMatMul(s, a, b, attrs, { ...(bias ? { bias } : {}), relu: activation === 'relu' });
  })) as unknown as KernelFunc,
};
