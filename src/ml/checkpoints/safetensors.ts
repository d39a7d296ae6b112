// A .safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian bytes. The format is data only (nothing
// to execute) and this small reader is all it needs; npm has no maintained reader for local files.
import { readFileSync } from 'node:fs';
import { UsageError } from '../../util/errors.js';
import { BYTES_PER, decodeStrided, elementCount, type Checkpoint, type StoredDtype, type StoredTensor } from './tensors.js';

const DTYPES: Record<string, StoredDtype> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

interface HeaderEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

export function readSafetensors(path: string): Checkpoint {
  const bytes = readFileSync(path);
  if (bytes.length < 8) throw new UsageError(`${path}: ${bytes.length} bytes, too short for a .safetensors file; the file is truncated`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) throw new UsageError(`${path}: the header says ${headerLength} bytes but the file has ${bytes.length - 8} after the length; the file is truncated or not .safetensors`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as typeof header;
  } catch (e) {
    throw new UsageError(`${path}: the .safetensors header is not valid JSON (${(e as Error).message})`);
  }
  const data = bytes.subarray(8 + headerLength);
  const tensors: (StoredTensor & { begin: number })[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    const dtype = DTYPES[e.dtype];
    if (!dtype) throw new UsageError(`${path}: tensor ${name} has dtype ${String(e.dtype)}, not one of ${Object.keys(DTYPES).join(', ')}`);
    if (!Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) throw new UsageError(`${path}: tensor ${name}: the header lacks shape or data_offsets`);
    const [begin, end] = e.data_offsets;
    const need = elementCount(e.shape) * BYTES_PER[dtype];
    if (end - begin !== need) throw new UsageError(`${path}: tensor ${name}: shape [${e.shape.join(', ')}] of ${e.dtype} needs ${need} bytes, its byte range holds ${end - begin}`);
    if (end > data.length) throw new UsageError(`${path}: tensor ${name} ends at byte ${end} of the data, which has ${data.length}; the file is truncated`);
    const shape = e.shape.map(Number);
    const strides = shape.map((_, i) => elementCount(shape.slice(i + 1)));
    const slice = data.subarray(begin, end);
    tensors.push({ name, dtype, shape, begin, read: () => decodeStrided(slice, dtype, shape, strides, 0, `${path}: tensor ${name}`) });
  }
  // JSON objects do not keep the writer's order reliably: list tensors in byte order.
  tensors.sort((a, b) => a.begin - b.begin);
  return { path, format: 'safetensors', tensors };
}
