// Where training batches come from: images read from a prepared split (normalised, optionally
// flipped), or activations of a frozen prefix of the network computed once per image and reused
// every epoch (kept in memory when they fit the budget, otherwise in a temporary float32 file;
// both exact, so a cached run equals an uncached one).
import { closeSync, openSync, readSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { PreparedSplit } from '../../data/prepared-types.js';
import { fromFloat16Bits, toFloat16Bits } from '../accounting.js';
import { imageBatch, type ImageGeometry } from '../feed.js';
import type { TrainPart } from '../split.js';
import type { Normalize } from '../spec.js';

export interface BatchSource {
  /** Inputs for the images at `indices` (indices into the split). */
  batch(indices: Int32Array, flip?: boolean[]): tf.Tensor;
  dispose(): void;
}

export function imageSource(split: PreparedSplit, geometry: ImageGeometry, normalize: Normalize): BatchSource {
  return {
    batch: (indices, flip) => imageBatch(split, indices, geometry, normalize, flip),
    dispose() {},
  };
}

/** Eager forward through parts, each block in its part's mode. */
export function runParts(parts: TrainPart[], x: tf.Tensor, forceInference = false): tf.Tensor {
  let h = x;
  for (const p of parts) {
    const kwargs = { training: forceInference ? false : p.trainingMode };
    for (const b of p.blocks) h = b.apply(h, kwargs);
  }
  return h;
}

/**
 * Batches of a frozen prefix's output, computed per batch outside any gradient tape (used when
 * caching does not apply, e.g. with flip augmentation): the same numbers, less memory.
 */
export function prefixSource(source: BatchSource, prefix: TrainPart[]): BatchSource {
  return {
    batch: (indices, flip) => tf.tidy(() => runParts(prefix, source.batch(indices, flip), true)),
    dispose() {},
  };
}

export interface CacheOptions {
  /** Keep activations in memory up to this many bytes, else use a temporary file. Default 256 MiB. */
  memoryLimitBytes?: number;
  /** Folder for the temporary file (default: the OS temp folder). */
  dir?: string;
  /**
   * Largest cache accepted at all (memory or file); beyond it the prefix is recomputed every
   * batch instead. Default: the smaller of 8 GiB and half the free space of `dir`.
   */
  maxBytes?: number;
  /** 'float32' (default) is exact; 'float16' halves memory and disk at a small rounding cost. */
  precision?: 'float32' | 'float16';
  batchSize?: number;
}

/** Bytes a cache of `count` activations of `elements` values would take. */
export function cacheBytes(elements: number, count: number, precision: CacheOptions['precision'] = 'float32'): number {
  return elements * count * (precision === 'float16' ? 2 : 4);
}

/** The default ceiling on a cache's size (see CacheOptions.maxBytes). */
export function defaultCacheCeiling(dir = tmpdir()): number {
  let free = Infinity;
  try {
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch {
    // No statfs here: only the fixed ceiling applies.
  }
  return Math.min(8 * 2 ** 30, free / 2);
}

export interface ActivationCache extends BatchSource {
  kind: 'memory' | 'file';
  bytes: number;
  shape: number[];
}

/** Compute the frozen prefix's output once for every image in `indices`. */
export async function buildActivationCache(
  source: BatchSource, prefix: TrainPart[], indices: Int32Array, opts: CacheOptions = {}, signal?: AbortSignal,
): Promise<ActivationCache> {
  const bs = opts.batchSize ?? 32;
  const half = opts.precision === 'float16';
  const width = half ? 2 : 4;
  const slot = new Map<number, number>();
  indices.forEach((idx, i) => slot.set(idx, i));
  let per = 0;
  let shape: number[] = [];
  let mem: Uint8Array | undefined;
  let fd: number | undefined;
  let path: string | undefined;
  const encode = (data: Float32Array): Uint8Array => {
    if (!half) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const h = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) h[i] = toFloat16Bits(data[i]);
    return new Uint8Array(h.buffer);
  };
  try {
    for (let s = 0; s < indices.length; s += bs) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const chunk = indices.subarray(s, Math.min(s + bs, indices.length));
      const out = tf.tidy(() => runParts(prefix, source.batch(chunk), true));
      const data = out.dataSync() as Float32Array;
      if (s === 0) {
        shape = out.shape.slice(1);
        per = shape.reduce((a, b) => a * b, 1);
        const total = per * indices.length * width;
        if (total <= (opts.memoryLimitBytes ?? 256 * 2 ** 20)) mem = new Uint8Array(total);
        else {
          path = join(opts.dir ?? tmpdir(), `sei-activations-${process.pid}-${randomBytes(6).toString('hex')}.bin`);
          fd = openSync(path, 'w+');
        }
      }
      out.dispose();
      const bytes = encode(data);
      if (mem) mem.set(bytes, s * per * width);
      else writeSync(fd!, bytes, 0, bytes.byteLength, s * per * width);
      await new Promise((r) => setImmediate(r));
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (path) rmSync(path, { force: true });
    throw e;
  }
  const rowBytes = per * width;
  return {
    kind: mem ? 'memory' : 'file',
    bytes: per * indices.length * width,
    shape,
    batch(batchIdx) {
      const raw = new Uint8Array(rowBytes * batchIdx.length);
      for (let i = 0; i < batchIdx.length; i++) {
        const k = slot.get(batchIdx[i]);
        if (k === undefined) throw new Error(`activation cache: image ${batchIdx[i]} was not cached`);
        if (mem) raw.set(mem.subarray(k * rowBytes, (k + 1) * rowBytes), i * rowBytes);
        else readSync(fd!, raw, i * rowBytes, rowBytes, k * rowBytes);
      }
      let values: Float32Array;
      if (half) {
        const h = new Uint16Array(raw.buffer);
        values = new Float32Array(h.length);
        for (let i = 0; i < h.length; i++) values[i] = fromFloat16Bits(h[i]);
      } else values = new Float32Array(raw.buffer);
      return tf.tensor(values, [batchIdx.length, ...shape]);
    },
    dispose() {
      mem = undefined;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      if (path) rmSync(path, { force: true });
    },
  };
}
