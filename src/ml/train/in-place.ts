// Element-wise updates written into a tensor's own storage, on the backends whose storage the
// process can reach (wasm: the heap; cpu: a Float32Array). A training step of a network with a
// 392 MiB layer (VGG16's fc1) cannot afford a fresh output per update: weights, optimizer moments,
// weight decay and gradient accumulation are all updated where they lie. Each function returns
// false where the backend's storage is not reachable (native TensorFlow), and the caller then runs
// the equivalent tfjs ops. The arithmetic is the float32 operation sequence of those ops, so both
// paths give the same numbers.
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../kernels/simd-module.js';
import type { BackendWasm } from '../kernels/wasm-ops.js';
import { adamScalars, adamUpdateArrays, type AdamUpdateAttrs } from './adam-update.js';

interface CpuStorage { data: { get(id: object): { values?: unknown } } }

function backendOf(): { name: string; backend: tf.KernelBackend } {
  return { name: tf.getBackend(), backend: tf.backend() };
}

/** Whether the active backend's tensor storage can be written in place. */
export function inPlaceSupported(): boolean {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu';
}

/** The tensor's own float32 storage (not a copy), or undefined where it cannot be reached. */
function storage(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const { name, backend } = backendOf();
  if (name === 'wasm') return (backend as unknown as BackendWasm).typedArrayFromHeap(t) as Float32Array;
  if (name === 'cpu') {
    const v = (backend as unknown as CpuStorage).data.get(t.dataId).values;
    return v instanceof Float32Array ? v : undefined;
  }
  return undefined;
}

/**
 * Tells the wasm backend that `t`'s values changed under the same tensor id. Its XNNPACK kernels
 * (convolutions and products the project's SIMD paths leave to the backend) keep operators with
 * the filter packed, cached by the filter's tensor id and dropped only when that id is disposed:
 * after an in-place update they would go on computing with the old weights. Unregistering and
 * registering the id again, on the same memory, drops them.
 */
function valuesChanged(t: tf.Tensor): void {
  const { name, backend } = backendOf();
  if (name !== 'wasm') return;
  const wasm = backend as unknown as BackendWasm;
  const data = wasm.dataIdMap.get(t.dataId);
  if (!data) return;
  wasm.wasm.tfjs.disposeData(data.id);
  wasm.wasm.tfjs.registerTensor(data.id, t.size, data.memoryOffset);
}

/** True when no other tensor shares `t`'s storage (a clone or reshape shares it, reference-counted). */
function sole(t: tf.Tensor): boolean {
  return tf.backend().refCount(t.dataId) === 1;
}

/**
 * Makes variable `v` the only holder of its storage (a snapshot or the tensor it was assigned
 * from may share it), copying once if needed, so that writing in place changes nothing else.
 */
export function ownStorage(v: tf.Variable): void {
  if (sole(v)) return;
  // Through JavaScript memory: one new heap block, not a zeros tensor and a sum beside the old one.
  const values = storage(v);
  const copy = values ? tf.tensor(values.slice(), v.shape, 'float32') : tf.tidy(() => tf.add(v, tf.zerosLike(v)));
  v.assign(copy);
  copy.dispose();
}

/** A writable array of `t`: its own storage when unshared, else undefined. */
function writable(t: tf.Tensor): Float32Array | undefined {
  return sole(t) ? storage(t) : undefined;
}

/**
 * y ← y + a·x in place (rounded as tf.add(y, tf.mul(x, a))). False when y cannot be written
 * in place (shared, or a backend without reachable storage).
 */
export function axpyInPlace(y: tf.Tensor, x: tf.Tensor, a: number): boolean {
  const yv = writable(y), xv = storage(x);
  if (yv === undefined || xv === undefined) return false;
  const f = Math.fround, af = f(a);
  const n = yv.length;
  if (af === 1) for (let i = 0; i < n; i++) yv[i] = yv[i]! + xv[i]!;
  else for (let i = 0; i < n; i++) yv[i] = yv[i]! + f(xv[i]! * af);
  valuesChanged(y);
  return true;
}

/** y ← y·a in place (rounded as tf.mul(y, a)). */
export function scaleInPlace(y: tf.Tensor, a: number): boolean {
  const yv = writable(y);
  if (yv === undefined) return false;
  const af = Math.fround(a);
  for (let i = 0; i < yv.length; i++) yv[i] = yv[i]! * af;
  valuesChanged(y);
  return true;
}

/** One Adam update of w, m and s in place (the arithmetic of the fused kernel). */
export function adamInPlace(w: tf.Variable, g: tf.Tensor, m: tf.Variable, s: tf.Variable, attrs: AdamUpdateAttrs): boolean {
  if (!inPlaceSupported() || w.dtype !== 'float32') return false;
  for (const v of [w, m, s]) ownStorage(v);
  if (tf.getBackend() === 'wasm') {
    const backend = tf.backend() as unknown as BackendWasm;
    const at = (t: tf.Tensor) => backend.getMemoryOffset(t.dataId);
    const k = adamScalars(attrs);
    simdKernels(backend).adamUpdate(at(w), at(g), at(m), at(s), w.size, at(w), at(m), at(s),
      k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.c1, k.c2, k.epsilon, k.lr);
    valuesChanged(w);
    return true;
  }
  const [wv, gv, mv, sv] = [storage(w), storage(g), storage(m), storage(s)];
  if (!wv || !gv || !mv || !sv) return false;
  adamUpdateArrays(wv, gv, mv, sv, wv, mv, sv, attrs);
  return true;
}

/**
 * One SGD-with-momentum update in place: b ← μ·b + g (b ← g on the first step), w ← w − lr·b;
 * without momentum w ← w − lr·g. Rounded as the tfjs op sequence in optimizers.ts.
 */
export function sgdInPlace(w: tf.Variable, g: tf.Tensor, b: tf.Variable | undefined, momentum: number, fresh: boolean, lr: number): boolean {
  if (!inPlaceSupported() || w.dtype !== 'float32') return false;
  ownStorage(w);
  if (b) ownStorage(b);
  const wv = storage(w), gv = storage(g), bv = b ? storage(b) : undefined;
  if (!wv || !gv || (b && !bv)) return false;
  const f = Math.fround, mu = f(momentum), rate = f(lr);
  const n = wv.length;
  if (bv) {
    if (fresh) bv.set(gv);
    else for (let i = 0; i < n; i++) bv[i] = f(bv[i]! * mu) + gv[i]!;
  }
  const d = bv ?? gv;
  for (let i = 0; i < n; i++) wv[i] = wv[i]! - f(d[i]! * rate);
  valuesChanged(w);
  return true;
}
