// The wasm backend's heap is one 32-bit linear memory (at most 4 GiB). At that cap the bundled
// allocator returns NULL, or — for a request of 4 GiB or more, whose size wraps in the 32-bit
// argument — a block far smaller than asked for; the backend does not check either, and the next
// write lands at address 0 or past the block: silent memory corruption. Every allocation made
// from JavaScript (the backend's tensor storage, `makeOutput`, the project's kernels' scratch)
// goes through `malloc`, so checking there, and refusing with an error that says what was being
// trained and how to make it fit, closes that path.
import * as tf from '@tensorflow/tfjs';

/** The most a wasm32 heap can address. */
export const WASM_HEAP_LIMIT = 2 ** 32;

/** What is running, for the out-of-memory message (set by the training loop). */
export interface MemoryContext {
  /** What the model is doing: 'training' (the default) or e.g. 'scoring the importance of'. */
  activity?: string;
  /** The setting that sets how many images go through at once, when not training.microBatch. */
  batchSetting?: string;
  model?: string;
  /** e.g. '224×224' */
  resolution?: string;
  batch?: number;
  microBatch?: number;
}

let context: MemoryContext = {};

/** Sets what the out-of-memory message names; returns a function restoring the previous one. */
export function setMemoryContext(c: MemoryContext): () => void {
  const previous = context;
  context = c;
  return () => { context = previous; };
}

export class OutOfMemoryError extends Error {
  constructor(message: string, readonly requestedBytes: number, readonly heapBytes: number) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

const GiB = 2 ** 30, MiB = 2 ** 20;
const size = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(1)} MiB`);

interface WasmModule {
  asm?: { malloc?: (n: number) => number };
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPU8: Uint8Array;
}

function heapBytes(wasm: WasmModule): number {
  return wasm.HEAPU8.buffer.byteLength;
}

/** The out-of-memory error for a request of `bytes`, naming the context and the ways out. */
export function outOfMemory(bytes: number, heap: number, what = 'a tensor'): OutOfMemoryError {
  const c = context;
  const running = c.model !== undefined
    ? ` while ${c.activity ?? 'training'} ${c.model}${c.resolution ? ` at ${c.resolution} px` : ''}${c.batch !== undefined ? `, batch ${c.batch}` : ''}` +
      `${c.microBatch !== undefined && c.microBatch !== c.batch ? ` in micro-batches of ${c.microBatch}` : ''}`
    : '';
  const live = tf.memory().numBytes;
  const ways = [
    c.batchSetting !== undefined ? `a smaller ${c.batchSetting}${c.batch !== undefined ? ` (now ${c.batch})` : ''}`
      : c.microBatch !== undefined && c.microBatch > 1 ? `a smaller training.microBatch (now ${c.microBatch})` : 'a smaller training.microBatch',
    'a lower dataset resolution',
    'a smaller model.width',
    "backend 'tensorflow' (native, not bound by the 4 GiB wasm heap)",
  ];
  return new OutOfMemoryError(
    `out of memory on the wasm heap: allocating ${size(bytes)} for ${what} failed${running}; ` +
    `heap ${size(heap)} of at most ${size(WASM_HEAP_LIMIT)}, ${size(live)} held by live tensors. ` +
    `Ways out: ${ways.join('; ')}. \`sei plan --estimate\` shows what each cell needs.`,
    bytes, heap);
}

const guarded = new WeakSet<object>();

/**
 * Wraps the backend's `malloc` so that a request of 4 GiB or more is refused before it wraps, and
 * a NULL or out-of-heap block is freed and refused, with an OutOfMemoryError, before anyone writes
 * through it. Idempotent.
 */
export function installHeapGuard(backend: tf.KernelBackend): void {
  const wasm = (backend as unknown as { wasm?: WasmModule }).wasm;
  if (wasm === undefined || guarded.has(wasm)) return;
  // The module's `_malloc` is a stub that replaces itself with the raw export on its first call
  // (which would drop a wrapper installed before that): wrap the raw export itself.
  const raw = wasm.asm?.malloc;
  const malloc = raw ?? wasm._malloc.bind(wasm);
  wasm._malloc = (n: number): number => {
    if (!(n < WASM_HEAP_LIMIT)) throw outOfMemory(n, heapBytes(wasm));
    const p = malloc(n) >>> 0;
    if (p === 0 || p + n > heapBytes(wasm)) {
      if (p !== 0) wasm._free(p);
      throw outOfMemory(n, heapBytes(wasm));
    }
    return p;
  };
  guarded.add(wasm);
}

/** Whether the backend's allocations are checked (for tests and provenance). */
export function heapGuardInstalled(backend: tf.KernelBackend): boolean {
  const wasm = (backend as unknown as { wasm?: WasmModule }).wasm;
  return wasm !== undefined && guarded.has(wasm);
}

/** The wasm backend's current heap size in bytes (it grows and never shrinks), or undefined elsewhere. */
export function wasmHeapBytes(backend: tf.KernelBackend = tf.backend()): number | undefined {
  const wasm = (backend as unknown as { wasm?: WasmModule }).wasm;
  return wasm?.HEAPU8 ? heapBytes(wasm) : undefined;
}

/**
 * A second check where a kernel takes a fresh block: its address is not 0 and it ends inside the
 * heap (holds even if the guard above were bypassed).
 */
export function assertInHeap(backend: tf.KernelBackend, offset: number, bytes: number, what: string): void {
  const heap = wasmHeapBytes(backend) ?? WASM_HEAP_LIMIT;
  if (offset === 0 || offset + bytes > heap) throw outOfMemory(bytes, heap, what);
}
