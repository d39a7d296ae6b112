// A checkpoint as a list of named tensors, whatever file format held it. Values are decoded only
// when asked for (a full-size VGG16 holds 138 M parameters), always to float32: the network's
// weights are float32, and the integer counters a checkpoint may carry (batch norm's
// num_batches_tracked) are read only to be listed.
import { UsageError } from '../../util/errors.js';

/** Element types a checkpoint may store, named as PyTorch and safetensors name them. */
export type StoredDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const BYTES_PER: Record<StoredDtype, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export interface StoredTensor {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  /** The values in row-major (C) order, as float32. Throws a UsageError when the bytes are missing. */
  read(): Float32Array;
}

export interface Checkpoint {
  path: string;
  format: 'pytorch' | 'safetensors';
  /** In file order. */
  tensors: StoredTensor[];
}

export const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Decode `count` elements of `dtype` laid out with `strides` (in elements) from `offset` (in
 * elements) of a little-endian byte buffer into a contiguous float32 array of shape `shape`.
 */
export function decodeStrided(bytes: Uint8Array, dtype: StoredDtype, shape: number[], strides: number[], offset: number, what: string): Float32Array {
  const n = elementCount(shape);
  const size = BYTES_PER[dtype];
  let last = offset;
  shape.forEach((d, i) => { if (d > 0) last += (d - 1) * strides[i]!; });
  if (n > 0 && (last + 1) * size > bytes.length) {
    throw new UsageError(`${what}: needs ${(last + 1) * size} bytes of storage, the file holds ${bytes.length}; the file is truncated or damaged`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scratch = new DataView(new ArrayBuffer(4));
  const get = (i: number): number => {
    const b = i * size;
    switch (dtype) {
      case 'float32': return view.getFloat32(b, true);
      case 'float16': return halfToFloat(view.getUint16(b, true));
      // bfloat16 is the upper half of a float32.
      case 'bfloat16': scratch.setUint32(0, view.getUint16(b, true) << 16, true); return scratch.getFloat32(0, true);
      case 'float64': return view.getFloat64(b, true);
      case 'int64': return Number(view.getBigInt64(b, true));
      case 'int32': return view.getInt32(b, true);
      case 'int16': return view.getInt16(b, true);
      case 'int8': return view.getInt8(b);
      case 'uint8': case 'bool': return view.getUint8(b);
    }
  };
  const out = new Float32Array(n);
  const contiguous = strides.every((s, i) => s === elementCount(shape.slice(i + 1)) || shape[i] === 1);
  if (contiguous && dtype === 'float32' && (bytes.byteOffset + offset * 4) % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset + offset * 4, n));
    return out;
  }
  if (contiguous) {
    for (let i = 0; i < n; i++) out[i] = get(offset + i);
    return out;
  }
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = offset;
    for (let k = 0; k < shape.length; k++) at += idx[k]! * strides[k]!;
    out[i] = get(at);
    for (let k = shape.length - 1; k >= 0; k--) { if (++idx[k]! < shape[k]!) break; idx[k] = 0; }
  }
  return out;
}
