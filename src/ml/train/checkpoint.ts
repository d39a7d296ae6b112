// Per-epoch training checkpoints, so a cluster job killed at its time limit or preempted resumes
// where it stopped and ends with the same weights as an uninterrupted run: the trainable and
// training-mode layers' weights, the optimizer's step and slots, the epoch history and the
// early-stopping state. Every random draw of an epoch is derived from (seed, epoch), so nothing
// else is needed. Files: epoch-<n>.bin (float32 values) then state.json naming it, each written
// atomically; a crash between the two leaves the previous epoch's pair intact.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import type { OptimizerState } from './optimizers.js';

export interface TrainingCheckpoint<H> {
  epoch: number;
  /** Per layer, per weight. */
  weights: Float32Array[][];
  /** Early stopping's kept weights (same layout), when it has some. */
  best?: Float32Array[][];
  optimizer: OptimizerState;
  history: H[];
  bestValue?: number;
  bestEpoch: number;
  sinceBest: number;
  stoppedEarly: boolean;
}

interface Index {
  epoch: number;
  bin: string;
  /** Lengths of the arrays in the .bin file, in order; -1 for a missing slot. */
  weights: number[][];
  best?: number[][];
  optimizerStep: number;
  slots: number[][];
  history: unknown[];
  bestValue?: number;
  bestEpoch: number;
  sinceBest: number;
  stoppedEarly: boolean;
}

export function saveCheckpoint<H>(dir: string, c: TrainingCheckpoint<H>): void {
  const arrays: Float32Array[] = [];
  const lay = (xs: (Float32Array | null)[]): number[] => xs.map((x) => {
    if (!x) return -1;
    arrays.push(x);
    return x.length;
  });
  const index: Index = {
    epoch: c.epoch, bin: `epoch-${c.epoch}.bin`,
    weights: c.weights.map(lay),
    ...(c.best ? { best: c.best.map(lay) } : {}),
    optimizerStep: c.optimizer.step,
    slots: c.optimizer.slots.map(lay),
    history: c.history,
    ...(c.bestValue !== undefined ? { bestValue: c.bestValue } : {}),
    bestEpoch: c.bestEpoch, sinceBest: c.sinceBest, stoppedEarly: c.stoppedEarly,
  };
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const bytes = new Float32Array(total);
  let at = 0;
  for (const a of arrays) { bytes.set(a, at); at += a.length; }
  writeFileAtomic(join(dir, index.bin), new Uint8Array(bytes.buffer));
  writeFileAtomic(join(dir, 'state.json'), JSON.stringify(index));
  for (const f of readdirSync(dir)) if (/^epoch-\d+\.bin$/.test(f) && f !== index.bin) rmSync(join(dir, f), { force: true });
}

/** The last checkpoint in `dir`, or undefined when there is none (or it does not fit `shapes`). */
export function loadCheckpoint<H>(dir: string, sizes: number[][]): TrainingCheckpoint<H> | undefined {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  const index = JSON.parse(readFileSync(file, 'utf8')) as Index;
  const same = index.weights.length === sizes.length && index.weights.every((ws, i) => ws.length === sizes[i]!.length && ws.every((n, j) => n === sizes[i]![j]));
  if (!same) return undefined;
  const buf = readFileSync(join(dir, index.bin));
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  let at = 0;
  const take = (xs: number[]): (Float32Array | null)[] => xs.map((n) => {
    if (n < 0) return null;
    const a = all.slice(at, at + n);
    at += n;
    return a;
  });
  const weights = index.weights.map((ws) => take(ws) as Float32Array[]);
  const best = index.best?.map((ws) => take(ws) as Float32Array[]);
  const slots = index.slots.map(take);
  if (at !== all.length) throw new Error(`training checkpoint ${file}: ${index.bin} holds ${all.length} values, the index describes ${at}`);
  return {
    epoch: index.epoch, weights, ...(best ? { best } : {}), optimizer: { step: index.optimizerStep, slots },
    history: index.history as H[], ...(index.bestValue !== undefined ? { bestValue: index.bestValue } : {}),
    bestEpoch: index.bestEpoch, sinceBest: index.sinceBest, stoppedEarly: index.stoppedEarly,
  };
}
