// Network simulation benchmark: wall time per simulated design (a stream of frames through one
// network) with ns-3 and with the analytic model, plus the one-off ns-3 compile.
//   npm run build && node dist/bench/netsim.bench.js [--frames 30] [--reps 5] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateAnalytic } from '../src/netsim/analytic.js';
import { ensureScenario, ns3Status, simulateNs3 } from '../src/netsim/ns3.js';
import { loadNetwork } from '../src/netsim/profiles.js';
import type { FrameIn } from '../src/netsim/types.js';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const FRAMES = arg('frames', 30);
const REPS = arg('reps', 5);
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
      const analyticReps = 200;
      let t = process.hrtime.bigint();
      for (let i = 0; i < analyticReps; i++) simulateAnalytic(net, f, { seed: i + 1 });
      const analyticMs = Number(process.hrtime.bigint() - t) / 1e6 / analyticReps;
      let ns3Ms: number | null = null;
      if (status.available) {
        t = process.hrtime.bigint();
        for (let i = 0; i < REPS; i++) await simulateNs3(net, f, { cacheDir: cache, seed: i + 1 });
        ns3Ms = Number(process.hrtime.bigint() - t) / 1e6 / REPS;
      }
      const a = simulateAnalytic(net, f, { seed: 1 }).frames.map((x) => x.latencyMs).filter((x): x is number => x !== null);
      const b = status.available ? (await simulateNs3(net, f, { cacheDir: cache, seed: 1 })).frames.map((x) => x.latencyMs).filter((x): x is number => x !== null) : [];
      const mean = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : null);
      rows.push({ network: name, bytes, frames: FRAMES, analyticMsPerDesign: analyticMs, ns3MsPerDesign: ns3Ms,
        meanLatencyAnalyticMs: mean(a), meanLatencyNs3Ms: mean(b) });
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
  console.log('network            bytes/frame  analytic ms/design  ns-3 ms/design  mean latency analytic / ns-3 (ms)');
  for (const r of rows) {
    console.log(`${String(r.network).padEnd(18)} ${String(r.bytes).padStart(11)}  ${fmt(r.analyticMsPerDesign, 3).padStart(18)}  ${fmt(r.ns3MsPerDesign, 1).padStart(14)}  ${fmt(r.meanLatencyAnalyticMs)} / ${fmt(r.meanLatencyNs3Ms)}`);
  }
}

await main();
