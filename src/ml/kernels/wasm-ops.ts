// Calls into the wasm backend's own kernels from inside a kernel, on TensorInfo handles, so that
// intermediate results stay in wasm memory and never pass through the engine (no tensor tracking,
// no gradient tape). Every intermediate made through a `Scope` is released when the scope closes.
import { getKernel, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assertInHeap } from '../heap.js';

export type { BackendWasm };

/** What a convolution or matrix-product kernel may apply to its output: a per-channel bias, then ReLU. */
export interface Epilogue { bias?: TensorInfo; relu?: boolean }

/** The kernel functions of the shipped wasm backend, looked up once before ours are registered. */
const shipped = new Map<string, (args: { inputs: Record<string, TensorInfo>; backend: BackendWasm; attrs?: NamedAttrMap }) => TensorInfo>();

/** Remembers the backend's kernel for `name` (call before registering a replacement under that name). */
export function captureShippedKernel(name: string): void {
  if (shipped.has(name)) return;
  const k = getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`the wasm backend has no kernel ${name}`);
  shipped.set(name, k.kernelFunc as never);
}

interface WasmInternals {
  dataIdMap: { get(id: object): { id: number; memoryOffset: number }; delete(id: object): void };
  wasm: { tfjs: { disposeData(id: number): void } };
}

/** When set, process CPU time spent in each building-block kernel called from our kernels accumulates here. */
export const innerTimings: { enabled: boolean; ms: Map<string, number> } = { enabled: false, ms: new Map() };

export class Scope {
  private readonly owned: TensorInfo[] = [];
  private readonly aliases: TensorInfo[] = [];
  constructor(readonly backend: BackendWasm) {}

  /**
   * A tensor that aliases `shape`-many floats of `base`'s memory starting `offset` elements in,
   * without copying (a window into the wasm heap). It is unregistered, never freed, when the
   * scope closes; `base` must outlive it.
   */
  alias(base: TensorInfo, offset: number, shape: number[]): TensorInfo {
    const baseOffset = this.backend.getMemoryOffset(base.dataId);
    const out = this.backend.makeOutput(shape, 'float32', baseOffset + 4 * offset);
    this.aliases.push(out);
    return out;
  }

  /** Runs the wasm backend's own kernel `name`; the result is released with the scope. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    let fn = shipped.get(name);
    if (fn === undefined) {
      captureShippedKernel(name);
      fn = shipped.get(name)!;
    }
    let out: TensorInfo;
    if (innerTimings.enabled) {
      const t0 = process.cpuUsage();
      out = fn({ inputs, backend: this.backend, attrs: attrs as NamedAttrMap });
      const d = process.cpuUsage(t0);
      innerTimings.ms.set(name, (innerTimings.ms.get(name) ?? 0) + (d.user + d.system) / 1000);
    } else {
      out = fn({ inputs, backend: this.backend, attrs: attrs as NamedAttrMap });
    }
    this.owned.push(out);
    return out;
  }

  /** A new uninitialised float32 tensor in wasm memory, released with the scope. */
  alloc(shape: number[]): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.owned.push(out);
    // Never hand a kernel a block it cannot write: NULL or past the heap's end is out of memory.
    assertInHeap(this.backend, this.backend.getMemoryOffset(out.dataId), 4 * shape.reduce((a, b) => a * b, 1), `a [${shape.join(',')}] kernel buffer`);
    return out;
  }

  /** The byte offset of a tensor's data in the wasm heap (what the SIMD kernel module takes). */
  address(t: TensorInfo): number {
    return this.backend.getMemoryOffset(t.dataId);
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

  /** Frees an intermediate before the scope closes (its memory can then serve the next allocation).
   *  Aliases of it must not be used afterwards. */
  release(t: TensorInfo): void {
    const i = this.owned.indexOf(t);
    if (i < 0) throw new Error('release: not a tensor of this scope');
    this.owned.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Keeps `t` alive past the scope (the kernel's return value). */
  keep(t: TensorInfo): TensorInfo {
    const i = this.owned.indexOf(t);
    if (i >= 0) this.owned.splice(i, 1);
    return t;
  }

  dispose(): void {
    const internals = this.backend as unknown as WasmInternals;
    for (const t of this.aliases) {
      // Unregister without freeing: the memory belongs to the aliased tensor.
      const d = internals.dataIdMap.get(t.dataId);
      internals.wasm.tfjs.disposeData(d.id);
      internals.dataIdMap.delete(t.dataId);
    }
    this.aliases.length = 0;
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

/** Runs the shipped wasm kernel `name` (not a replacement) on the active wasm backend; for benchmarks. */
export function runShipped(backend: BackendWasm, name: string, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo {
  const fn = shipped.get(name);
  if (fn === undefined) throw new Error(`no shipped wasm kernel ${name}`);
  return fn({ inputs, backend, attrs: attrs as NamedAttrMap });
}
