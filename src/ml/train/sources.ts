// Where training batches come from: images read from a prepared split (normalised, optionally
// flipped), or activations of a frozen prefix of the network computed once per image and reused
// every epoch (kept in memory when they fit the budget, otherwise in a temporary float32 file;
// both exact, so a cached run equals an uncached one).
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { PreparedSplit } from '../../data/prepared-types.js';
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

export interface CacheOptions {
  /** Keep activations in memory up to this many bytes, else use a temporary file. Default 256 MiB. */
  memoryLimitBytes?: number;
  /** Folder for the temporary file (default: the OS temp folder). */
  dir?: string;
  batchSize?: number;
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
  const slot = new Map<number, number>();
  indices.forEach((idx, i) => slot.set(idx, i));
  let per = 0;
  let shape: number[] = [];
  let mem: Float32Array | undefined;
  let fd: number | undefined;
  let path: string | undefined;
  try {
    for (let s = 0; s < indices.length; s += bs) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const chunk = indices.subarray(s, Math.min(s + bs, indices.length));
      const out = tf.tidy(() => runParts(prefix, source.batch(chunk), true));
      const data = out.dataSync() as Float32Array;
      if (s === 0) {
        shape = out.shape.slice(1);
        per = shape.reduce((a, b) => a * b, 1);
        const total = per * indices.length * 4;
        if (total <= (opts.memoryLimitBytes ?? 256 * 2 ** 20)) mem = new Float32Array(per * indices.length);
        else {
          path = join(opts.dir ?? tmpdir(), `sei-activations-${process.pid}-${randomBytes(6).toString('hex')}.f32`);
          fd = openSync(path, 'w+');
        }
      }
      out.dispose();
      if (mem) mem.set(data, s * per);
      else writeSync(fd!, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, s * per * 4);
      await new Promise((r) => setImmediate(r));
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (path) rmSync(path, { force: true });
    throw e;
  }
  const rowBytes = per * 4;
  return {
    kind: mem ? 'memory' : 'file',
    bytes: per * indices.length * 4,
    shape,
    batch(batchIdx) {
      const buf = new Float32Array(per * batchIdx.length);
      for (let i = 0; i < batchIdx.length; i++) {
        const k = slot.get(batchIdx[i]);
        if (k === undefined) throw new Error(`activation cache: image ${batchIdx[i]} was not cached`);
        if (mem) buf.set(mem.subarray(k * per, (k + 1) * per), i * per);
        else readSync(fd!, new Uint8Array(buf.buffer, i * rowBytes, rowBytes), 0, rowBytes, k * rowBytes);
      }
      return tf.tensor(buf, [batchIdx.length, ...shape]);
    },
    dispose() {
      mem = undefined;
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      if (path) rmSync(path, { force: true });
    },
  };
}
