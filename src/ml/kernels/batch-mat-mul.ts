// BatchMatMul for the wasm backend that always reaches XNNPACK's GEMM. The shipped kernel uses
// XNNPACK only for a single, untransposed product and otherwise a scalar loop (~1 GFLOP/s), which
// is what every dense layer's backward pass asks for (dW = xᵀ·dy, dx = dy·Wᵀ). Here transposed
// operands are transposed once explicitly and batched products run one GEMM per batch entry on
// zero-copy windows of the operands.
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm, type Scope } from './wasm-ops.js';
import { transposeFast } from './transpose.js';

interface MatMulAttrs { transposeA: boolean; transposeB: boolean }

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

export function batchMatMul(s: Scope, a: TensorInfo, b: TensorInfo, attrs: MatMulAttrs): TensorInfo {
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
  const a3 = s.reshape(a, [batchA, a.shape[ra - 2]!, a.shape[ra - 1]!]);
  const b3 = s.reshape(b, [batchB, b.shape[rb - 2]!, b.shape[rb - 1]!]);
  const batch = Math.max(batchA, batchB);
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
