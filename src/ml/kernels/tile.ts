// Tile for the wasm backend as block copies inside the wasm heap (the shipped kernel walks every
// output element; the batch-norm gradient tiles a per-channel vector to the whole activation).
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from './wasm-ops.js';

/** Writes tile(src, reps) into dst, both row-major; innermost axis copied, then blocks repeated. */
export function tileInto(src: Float32Array | Int32Array | Uint8Array, shape: number[], reps: number[],
  dst: Float32Array | Int32Array | Uint8Array): void {
  const rank = shape.length;
  const outShape = shape.map((d, i) => d * reps[i]!);
  const srcStride = new Array<number>(rank), dstStride = new Array<number>(rank);
  for (let i = rank - 1, ss = 1, ds = 1; i >= 0; i--) {
    srcStride[i] = ss; dstStride[i] = ds;
    ss *= shape[i]!; ds *= outShape[i]!;
  }
  const fill = (axis: number, so: number, dOff: number) => {
    const d = shape[axis]!, r = reps[axis]!;
    if (axis === rank - 1) {
      dst.set(src.subarray(so, so + d), dOff);
    } else {
      for (let i = 0; i < d; i++) fill(axis + 1, so + i * srcStride[axis]!, dOff + i * dstStride[axis]!);
    }
    const block = d * dstStride[axis]!;
    for (let k = 1; k < r; k++) dst.copyWithin(dOff + k * block, dOff, dOff + block);
  };
  if (rank === 0) { dst[0] = src[0]!; return; }
  fill(0, 0, 0);
}

export const tileConfig: KernelConfig = {
  kernelName: 'Tile',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: { reps: number[] } }) => {
    const { x } = inputs;
    if (x.dtype === 'string') throw new Error('Tile on wasm does not support strings');
    const outShape = x.shape.map((d, i) => d * attrs.reps[i]!);
    const out = backend.makeOutput(outShape, x.dtype);
    if (outShape.some((d) => d === 0)) return out;
    // Views taken after the allocation (growing the heap detaches earlier views).
    tileInto(backend.typedArrayFromHeap(x), x.shape, attrs.reps, backend.typedArrayFromHeap(out));
    return out;
  }) as unknown as KernelFunc,
};
