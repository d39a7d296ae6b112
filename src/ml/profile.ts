// Wall-clock time of the device side (head + encoder), the server side (decoder + tail) and the
// whole network (local computing) at batch 1 on the active backend: warm-up runs first (kernel
// set-up, allocations), then the median of N timed runs with the min/max spread. Each run ends
// when the output's values are available (await data()), so asynchronous backends are timed fully.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import type { SplitModel } from './split.js';

export interface Timing {
  p50: number;
  min: number;
  max: number;
  runs: number;
}

export interface ProfileOptions {
  warmup?: number;
  runs?: number;
  signal?: AbortSignal;
}

export interface SplitProfile {
  backend: string;
  device: Timing;
  server: Timing;
  /** The unsplit network on one machine. */
  local: Timing;
}

export function summarise(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const p50 = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { p50, min: s[0], max: s[s.length - 1], runs: s.length };
}

/** Time `model` on one seeded random input of `shape` (no batch dimension), in milliseconds. */
export async function timeModel(model: tf.LayersModel, shape: number[], opts: ProfileOptions = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2;
  const runs = opts.runs ?? 10;
  if (runs < 1) throw new Error('profile: runs must be ≥ 1');
  const x = tf.randomNormal([1, ...shape], 0, 1, 'float32', 1);
  const once = async () => {
    const t0 = performance.now();
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    const dt = performance.now() - t0;
    y.dispose();
    return dt;
  };
  try {
    for (let i = 0; i < warmup; i++) await once();
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      ms.push(await once());
    }
    return summarise(ms);
  } finally {
    x.dispose();
  }
}

/** Device, server and local-computing times of a split model at batch 1. */
export async function profileSplit(split: SplitModel, opts: ProfileOptions = {}): Promise<SplitProfile> {
  const device = await timeModel(split.device, split.network.inputShape, opts);
  const server = await timeModel(split.server, split.codeShape, opts);
  const local = await timeModel(split.network.model, split.network.inputShape, opts);
  return { backend: tf.getBackend(), device, server, local };
}
