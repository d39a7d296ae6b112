// End-to-end latency of a stream of frames through device → network → server, each stage a FIFO
// server: frame i is captured at i / rate; the device computes it when it is free; the network
// carries it (simulated); the server finishes it when it is free. Queueing appears wherever
// frames arrive faster than a stage drains them.
import { simulate, type SimulatorRunOptions } from './simulate.js';
import type { NetworkProfile } from './profiles.js';
import type { SimulatorName } from './types.js';

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
}

/** Linearly interpolated percentiles (R type 7) and mean; nulls when there is no value. */
export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: null, p95: null, p99: null, mean: null };
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (v.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(v.length - 1, lo + 1);
    return v[lo] + (h - lo) * (v[hi] - v[lo]);
  };
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), mean: v.reduce((a, b) => a + b, 0) / v.length };
}

export interface StreamSpec {
  /** Frames captured per second. */
  frameRateHz: number;
  /** Frames in the simulated stream. */
  frames: number;
}

export interface PipelineTimes {
  /** Device compute per frame (ms); 0 when the device only forwards the input. */
  deviceMs: number;
  /** Server compute per frame (ms); 0 when everything runs on the device. */
  serverMs: number;
  /** Bytes sent per frame; 0 when nothing is sent (local computing). */
  payloadBytes: number;
}

export interface EndToEndResult {
  transferMs: Percentiles;
  endToEndMs: Percentiles;
  frameLossRate: number;
  packetsLost: number;
  retransmissions: number;
  /** null when nothing crosses the network. */
  simulator: SimulatorName | null;
}

export async function endToEnd(net: NetworkProfile, t: PipelineTimes, stream: StreamSpec, sim: SimulatorRunOptions): Promise<EndToEndResult> {
  if (!(stream.frameRateHz > 0)) throw new Error(`frame rate must be > 0 (got ${stream.frameRateHz})`);
  if (!(Number.isInteger(stream.frames) && stream.frames >= 1)) throw new Error(`frames must be an integer >= 1 (got ${stream.frames})`);
  const period = 1000 / stream.frameRateHz;
  const captured = Array.from({ length: stream.frames }, (_, i) => i * period);
  const deviceDone: number[] = [];
  let free = 0;
  for (const c of captured) {
    free = Math.max(c, free) + t.deviceMs;
    deviceDone.push(free);
  }
  let received: (number | null)[];
  let simulator: SimulatorName | null = null;
  let packetsLost = 0;
  let retransmissions = 0;
  if (t.payloadBytes > 0) {
    const r = await simulate(net, deviceDone.map((readyAtMs) => ({ bytes: Math.round(t.payloadBytes), readyAtMs })), sim);
    simulator = r.simulator;
    received = r.frames.map((f) => f.receivedMs);
    for (const f of r.frames) { packetsLost += f.packetsLost; retransmissions += f.retransmissions; }
  } else {
    received = deviceDone;
  }
  const transfer: number[] = [];
  const e2e: number[] = [];
  let serverFree = 0;
  let lost = 0;
  received.forEach((r, i) => {
    if (r === null) { lost++; return; }
    transfer.push(r - deviceDone[i]);
    serverFree = Math.max(r, serverFree) + t.serverMs;
    e2e.push(serverFree - captured[i]);
  });
  return { transferMs: percentiles(transfer), endToEndMs: percentiles(e2e), frameLossRate: lost / stream.frames, packetsLost, retransmissions, simulator };
}
