// The state_dict pickle inside a PyTorch checkpoint, read by a restricted unpickler. A pickle is a
// program: its GLOBAL opcodes name Python callables that REDUCE then calls. Here the only names
// that resolve are the handful torch.save writes for a dictionary of tensors (an OrderedDict, the
// tensor and parameter rebuild functions, the storage types); any other name stops the read
// before anything is called, so a checkpoint that asks to run code is refused, never executed.
// The opcode interpreter is pickleparser's; the name and persistent-id resolvers are ours.
import pickleparser from 'pickleparser';
import { UsageError } from '../../util/errors.js';
import type { StoredDtype } from './tensors.js';

const { Parser } = pickleparser;

/** A tensor as the pickle describes it: a view into one storage of the archive. */
export interface TensorRef {
  readonly kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  strides: number[];
}

export interface StorageRef {
  readonly kind: 'storage';
  /** The record's name in the archive: `<prefix>/data/<key>`. */
  key: string;
  dtype: StoredDtype;
  elements: number;
}

/** torch's storage classes, by the name the pickle uses. */
const STORAGE_DTYPES: Record<string, StoredDtype> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
};

class StorageType { constructor(readonly dtype: StoredDtype) {} }

const toNumbers = (v: unknown, what: string): number[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' && typeof x !== 'bigint')) throw new Error(`${what} is not a tuple of integers`);
  return v.map(Number);
};

/** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
function rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorRef {
  if (!(storage && (storage as StorageRef).kind === 'storage')) throw new Error('_rebuild_tensor_v2 without a storage');
  return { kind: 'tensor', storage: storage as StorageRef, offset: Number(offset), shape: toNumbers(size, 'size'), strides: toNumbers(stride, 'stride') };
}

/** The only Python names a state_dict pickle may use, and what each stands for here. */
const ALLOWED: Record<string, (...args: unknown[]) => unknown> = {
  'collections.OrderedDict': () => new Map(),
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  // A Parameter wraps a tensor: (data, requires_grad, backward_hooks).
  'torch._utils._rebuild_parameter': (data) => data,
  'torch._utils._rebuild_parameter_with_state': (data) => data,
};

export class UnsafePickleError extends UsageError {}

/**
 * Reads `data.pkl` of a torch.save archive. Returns the unpickled object: Maps for dicts, arrays
 * for tuples and lists, TensorRefs for tensors.
 */
export function readStatePickle(pickle: Uint8Array, path: string): unknown {
  const nameResolver = {
    resolve(module: string, name: string) {
      const full = `${module}.${name}`;
      if (module === 'torch' && name in STORAGE_DTYPES) {
        // A storage class is only ever a tag inside a persistent id; calling it is not allowed.
        const tag = new StorageType(STORAGE_DTYPES[name]!);
        return Object.assign(() => { throw new UnsafePickleError(`${path}: the pickle calls ${full}; refused`); }, { tag });
      }
      const f = ALLOWED[full];
      if (!f) {
        throw new UnsafePickleError(
          `${path}: the checkpoint's pickle asks for the Python object ${full}, which is not part of a saved state_dict ` +
            `(tensors, OrderedDict, storages); refused without running anything. Save the weights with ` +
            `torch.save(model.state_dict(), path), or as .safetensors`,
        );
      }
      return f;
    },
  };
  const persistentResolver = {
    resolve(pid: unknown): StorageRef {
      // ('storage', storage_type, key, location, numel)
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new UnsafePickleError(`${path}: unknown persistent id in the pickle; refused`);
      const type = (pid[1] as { tag?: StorageType } | undefined)?.tag;
      if (!(type instanceof StorageType)) throw new UnsafePickleError(`${path}: persistent id names no known storage type; refused`);
      return { kind: 'storage', key: String(pid[2]), dtype: type.dtype, elements: Number(pid[4]) };
    },
  };
  const extensionResolver = {
    resolve(code: number): never { throw new UnsafePickleError(`${path}: the pickle uses extension code ${code}; refused`); },
  };
  try {
    return new Parser({ nameResolver, persistentResolver, extensionResolver, unpicklingTypeOfDictionary: 'Map', unpicklingTypeOfSet: 'array' })
      .parse(pickle);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: the checkpoint's pickle cannot be read (${(e as Error).message}); the file is truncated or not a state_dict`);
  }
}

export const isTensorRef = (v: unknown): v is TensorRef => !!v && typeof v === 'object' && (v as TensorRef).kind === 'tensor';
