// Network simulation benchmark: wall time per simulated design (a stream of frames through one
// network) with ns-3 and with the analytic model, plus the one-off ns-3 compile.
//   npm run build && npm run bench:netsim [-- --frames 30 --seeds 10 --json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateAnalytic } from '../src/netsim/analytic.js';
import { ensureScenario, ns3Status, simulateNs3 } from '../src/netsim/ns3.js';
import { loadNetwork } from '../src/netsim/profiles.js';
import { percentiles } from '../src/netsim/endtoend.js';
import type { FrameIn, SimulationResult } from '../src/netsim/types.js';

const latencies = (r: SimulationResult) => r.frames.map((x) => x.latencyMs).filter((x): x is number => x !== null);

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const FRAMES = arg('frames', 30);
const REPS = arg('seeds', 10);
const json = process.argv.includes('--json');

const cases: [string, number][] = [
  ['p2p-1g', 8_192], ['p2p-1g', 131_072], ['p2p-1g-loss1', 131_072], ['p2p-1g-loss5', 131_072],
  ['p2p-1g-udp-loss1', 131_072], ['wifi', 32_768], ['lte', 32_768], ['5g', 131_072],
];

function frames(bytes: number): FrameIn[] {
  // 10 frames/s, each ready after 5 ms of device compute.
  return Array.from({ length: FRAMES }, (_, i) => ({ bytes, readyAtMs: 5 + i * 100 }));
}

async function main() {
  const rows: Record<string, unknown>[] = [];
  const status = ns3Status();
  const cache = mkdtempSync(join(tmpdir(), 'sei-bench-ns3-'));
  let compileS: number | null = null;
  try {
    if (status.available) {
      const t = process.hrtime.bigint();
      await ensureScenario(cache);
      compileS = Number(process.hrtime.bigint() - t) / 1e9;
    }
    for (const [name, bytes] of cases) {
      const net = loadNetwork(root, name);
      const f = frames(bytes);
      // Wall time: the analytic model many times, ns-3 once per seed; latencies pooled over the
      // same seeds for both (under loss a single stream of 30 frames is too noisy to compare).
      const analyticReps = 200;
      let t = process.hrtime.bigint();
      for (let i = 0; i < analyticReps; i++) simulateAnalytic(net, f, { seed: (i % REPS) + 1 });
      const analyticMs = Number(process.hrtime.bigint() - t) / 1e6 / analyticReps;
      const a: number[] = [];
      const b: number[] = [];
      for (let seed = 1; seed <= REPS; seed++) a.push(...latencies(simulateAnalytic(net, f, { seed })));
      let ns3Ms: number | null = null;
      if (status.available) {
        t = process.hrtime.bigint();
        for (let seed = 1; seed <= REPS; seed++) b.push(...latencies(await simulateNs3(net, f, { cacheDir: cache, seed })));
        ns3Ms = Number(process.hrtime.bigint() - t) / 1e6 / REPS;
      }
      const pa = percentiles(a);
      const pb = percentiles(b);
      rows.push({ network: name, bytes, frames: FRAMES, seeds: REPS, analyticMsPerDesign: analyticMs, ns3MsPerDesign: ns3Ms,
        analytic: { mean: pa.mean, p95: pa.p95 }, ns3: { mean: pb.mean, p95: pb.p95 } });
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
  if (json) {
    process.stdout.write(JSON.stringify({ ns3: status.available ? 'available' : status.reason, compileS, rows }, null, 2) + '\n');
    return;
  }
  const fmt = (v: unknown, d = 2) => (typeof v === 'number' ? v.toFixed(d) : '—');
  console.log(`netsim bench: ${FRAMES} frames per design at 10 frames/s; ns-3 ${status.available ? `compile (cold) ${fmt(compileS, 1)} s` : `unavailable: ${status.reason}`}`);
  console.log(`latencies pooled over ${REPS} seeds`);
  console.log('network            bytes/frame  analytic ms/design  ns-3 ms/design  mean analytic / ns-3 (ms)  p95 analytic / ns-3 (ms)');
  for (const r of rows) {
    const a = r.analytic as { mean: number; p95: number };
    const n = r.ns3 as { mean: number | null; p95: number | null };
    console.log(`${String(r.network).padEnd(18)} ${String(r.bytes).padStart(11)}  ${fmt(r.analyticMsPerDesign, 3).padStart(18)}  ${fmt(r.ns3MsPerDesign, 1).padStart(14)}  ${`${fmt(a.mean)} / ${fmt(n.mean)}`.padStart(25)}  ${fmt(a.p95)} / ${fmt(n.p95)}`);
  }
}

await main();
