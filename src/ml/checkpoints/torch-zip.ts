// A PyTorch checkpoint as torch.save writes it since 1.6: a zip archive holding
// `<prefix>/data.pkl` (the pickled state_dict, whose tensors point at storages by key) and one
// record `<prefix>/data/<key>` of raw little-endian bytes per storage. The zip is read with
// fflate; the pickle with the restricted reader of torch-pickle.ts.
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { UsageError } from '../../util/errors.js';
import { isTensorRef, readStatePickle, type TensorRef } from './torch-pickle.js';
import { BYTES_PER, decodeStrided, type Checkpoint, type StoredTensor } from './tensors.js';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const PICKLE_MAGIC = 0x80;

/** Keys under which training scripts commonly nest the state_dict. */
const NESTED_KEYS = ['state_dict', 'model_state_dict', 'model'];

/** Flatten the unpickled object to (name, tensor) in order; nested dicts join names with '.'. */
function collectTensors(obj: unknown, path: string): [string, TensorRef][] {
  if (!(obj instanceof Map)) throw new UsageError(`${path}: the checkpoint holds no dictionary of tensors (a state_dict) at its top level`);
  const entries = [...obj.entries()];
  if (!entries.some(([, v]) => isTensorRef(v))) {
    const nested = NESTED_KEYS.find((k) => obj.get(k) instanceof Map);
    if (nested) return collectTensors(obj.get(nested), path);
  }
  const out: [string, TensorRef][] = [];
  for (const [k, v] of entries) {
    if (isTensorRef(v)) out.push([String(k), v]);
    else throw new UsageError(`${path}: entry '${String(k)}' of the state_dict is not a tensor`);
  }
  return out;
}

export function readTorchCheckpoint(path: string): Checkpoint {
  const bytes = readFileSync(path);
  if (bytes[0] === PICKLE_MAGIC) {
    throw new UsageError(`${path}: a PyTorch checkpoint in the legacy (pre-1.6) format; re-save it with torch.save(state_dict, path) from PyTorch ≥ 1.6 (the zip format), or as .safetensors`);
  }
  if (!ZIP_MAGIC.every((b, i) => bytes[i] === b)) throw new UsageError(`${path}: not a PyTorch checkpoint (a zip archive as torch.save writes) nor a .safetensors file`);
  // One pass lists every record with its size and extracts only the pickle; storages are
  // extracted one at a time when their tensor is read.
  const sizes = new Map<string, number>();
  const unzip = (wanted: (name: string) => boolean): Record<string, Uint8Array> => {
    try {
      return unzipSync(bytes, { filter: (f) => { sizes.set(f.name, f.originalSize); return wanted(f.name); } });
    } catch (e) {
      throw new UsageError(`${path}: the zip archive cannot be read (${(e as Error).message}); the file is truncated or damaged`);
    }
  };
  const head = unzip((n) => /^[^/]+\/(data\.pkl|byteorder)$/.test(n));
  const pkl = Object.keys(head).find((n) => n.endsWith('/data.pkl'));
  if (!pkl) throw new UsageError(`${path}: a zip archive without <name>/data.pkl: not a PyTorch checkpoint`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = head[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== 'little') throw new UsageError(`${path}: a big-endian checkpoint; re-save it on a little-endian machine`);
  const refs = collectTensors(readStatePickle(head[pkl]!, path), path);
  const recordName = (ref: TensorRef) => `${prefix}data/${ref.storage.key}`;
  // Fail at open, not half-way through loading: every storage must be there and large enough.
  for (const [name, ref] of refs) {
    const need = ref.storage.elements * BYTES_PER[ref.storage.dtype];
    const got = sizes.get(recordName(ref));
    if (got === undefined) throw new UsageError(`${path}: tensor ${name}: its storage ${recordName(ref)} is missing from the archive; the file is truncated or damaged`);
    if (got < need) throw new UsageError(`${path}: tensor ${name}: its storage holds ${got} bytes where ${need} are needed; the file is truncated or damaged`);
  }
  const recordOf = (ref: TensorRef): Uint8Array => unzip((n) => n === recordName(ref))[recordName(ref)]!;
  const tensors: StoredTensor[] = refs.map(([name, ref]) => ({
    name,
    dtype: ref.storage.dtype,
    shape: ref.shape,
    read: () => decodeStrided(recordOf(ref), ref.storage.dtype, ref.shape, ref.strides, ref.offset, `${path}: tensor ${name}`),
  }));
  return { path, format: 'pytorch', tensors };
}
