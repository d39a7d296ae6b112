// Calls into the wasm backend's own kernels from inside a kernel, on TensorInfo handles, so that
// intermediate results stay in wasm memory and never pass through the engine (no tensor tracking,
// no gradient tape). Every intermediate made through a `Scope` is released when the scope closes.
import { getKernel, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type { BackendWasm };

/** The kernel functions of the shipped wasm backend, looked up once before ours are registered. */
const shipped = new Map<string, (args: { inputs: Record<string, TensorInfo>; backend: BackendWasm; attrs?: NamedAttrMap }) => TensorInfo>();

/** Remembers the backend's kernel for `name` (call before registering a replacement under that name). */
export function captureShippedKernel(name: string): void {
  if (shipped.has(name)) return;
  const k = getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`the wasm backend has no kernel ${name}`);
  shipped.set(name, k.kernelFunc as never);
}

export function hasShippedKernel(name: string): boolean {
  return shipped.has(name) || getKernel(name, 'wasm') !== undefined;
}

export class Scope {
  private readonly owned: TensorInfo[] = [];
  constructor(readonly backend: BackendWasm) {}

  /** Runs the wasm backend's own kernel `name`; the result is released with the scope. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    let fn = shipped.get(name);
    if (fn === undefined) {
      captureShippedKernel(name);
      fn = shipped.get(name)!;
    }
    const out = fn({ inputs, backend: this.backend, attrs: attrs as NamedAttrMap });
    this.owned.push(out);
    return out;
  }

  /** A new uninitialised float32 tensor in wasm memory, released with the scope. */
  alloc(shape: number[]): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.owned.push(out);
    return out;
  }

  /** A zero-copy Float32Array view of a tensor in the wasm heap. Take views only after the last
   *  allocation of a step: growing the heap detaches earlier views. */
  view(t: TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(t) as Float32Array;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Keeps `t` alive past the scope (the kernel's return value). */
  keep(t: TensorInfo): TensorInfo {
    const i = this.owned.indexOf(t);
    if (i >= 0) this.owned.splice(i, 1);
    return t;
  }

  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` with a fresh scope and releases every intermediate except the returned tensor. */
export function withScope(backend: BackendWasm, body: (s: Scope) => TensorInfo): TensorInfo {
  const s = new Scope(backend);
  try {
    return s.keep(body(s));
  } finally {
    s.dispose();
  }
}
