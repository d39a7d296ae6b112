// CellRecord fixtures that follow the result shapes of docs/ARCHITECTURE.md: one VGG-like sweep
// (prepare-dataset → train-base → importance → split-retrain × cut × seed → evaluate → validate
// → simulate × network → recommend × requirements block). Numbers are made up but consistent.
import type { CellRecord, CellState } from '../../src/store/types.js';

export const HOSTILE = {
  script: '<script>alert(1)</script>',
  latex: '\\input{/etc/passwd}',
  formula: '=HYPERLINK("http://x")',
  pipe: '| pipe |',
};

export const CUTS = ['block1_pool', 'block2_conv2', 'block2_pool', 'block3_conv3', 'block3_pool', 'block4_pool'];

export interface FixtureOptions {
  pipeline?: string;
  classes?: string[];
  /** Cut names (forward order); defaults to CUTS. */
  cuts?: string[];
  /** Cuts whose retrain/evaluate cells are swept. */
  swept?: string[];
  seeds?: number[];
  /** (cut, seed) pairs whose evaluate cell is still pending. */
  pending?: [string, number][];
  /** (cut, seed) pairs whose retrain cell failed. */
  failed?: [string, number][];
  networks?: string[];
  withRecommend?: boolean;
}

let counter = 0;
function cell(pipeline: string, instance: string, stage: string, coords: Record<string, unknown>, state: CellState,
  metrics: Record<string, unknown> | undefined, params: unknown = {}, extra: Partial<CellRecord> = {}): CellRecord {
  counter++;
  const id = counter.toString(16).padStart(64, '0');
  const rec: CellRecord = {
    id, key: id.replace(/^0/, 'k'), pipeline, instance, stage, coords, params, state, attempts: state === 'pending' ? 0 : 1, ...extra,
  };
  if (state === 'done') {
    rec.metrics = metrics;
    rec.dir = `/store/objects/${id.slice(0, 2)}/${id}`;
    rec.provenance = { commit: 'abc1234', backend: 'wasm', host: 'lab-1', versions: { node: 'v20.19.0', tfjs: '4.22.0' } };
    rec.startedAt = '2026-01-01T00:00:00.000Z';
    rec.endedAt = '2026-01-01T00:00:01.000Z';
    rec.durationMs = 1000;
  }
  return rec;
}

export function sweepFixture(o: FixtureOptions = {}): CellRecord[] {
  const pipeline = o.pipeline ?? 'demo';
  const classes = o.classes ?? ['cat', 'dog', 'ship'];
  const cuts = o.cuts ?? CUTS;
  const swept = o.swept ?? cuts;
  const seeds = o.seeds ?? [0, 1];
  const networks = o.networks ?? ['wifi', 'lte'];
  const isPending = (cut: string, seed: number): boolean => (o.pending ?? []).some(([c, s]) => c === cut && s === seed);
  const isFailed = (cut: string, seed: number): boolean => (o.failed ?? []).some(([c, s]) => c === cut && s === seed);
  const out: CellRecord[] = [];
  const cui = cuts.map((_, i) => [0.02, 0.05, 0.09, 0.04, 0.07, 0.01][i % 6]! * (1 + i * 0.01));
  const raw = cuts.map((_, i) => [262144, 131072, 65536, 65536, 32768, 8192][i % 6]!);
  const accOf = (i: number, seed: number): number => 0.6 + 0.05 * Math.log10(cui[i]! * 100) + seed * 0.004;

  out.push(cell(pipeline, 'data', 'prepare-dataset', {}, 'done', {
    classes, channels: 3, height: 32, width: 32,
    splits: { train: { count: 300, perClass: classes.map(() => 100) }, val: { count: 30, perClass: classes.map(() => 10) }, test: { count: 60, perClass: classes.map(() => 20) } },
    skipped: [], skippedCount: 0, splitProtocol: 'stratified 80/10/10 seed 0',
  }, { dataset: { name: 'synthetic-demo', resolution: 32 } }));
  out.push(cell(pipeline, 'base', 'train-base', {}, 'done', {
    arch: 'vgg16', widthMultiplier: 0.125, inputShape: [32, 32, 3], classes, cutPoints: cuts, testAccuracy: 0.72,
    balancedAccuracy: 0.71, perClassAccuracy: classes.map(() => 0.72), valAccuracy: 0.7, epochs: 2, bestEpoch: 2, stoppedEarly: false,
    history: [], params: 1_840_000, trainSeconds: 12.5, pretrained: null,
  }, { model: { name: 'vgg16-demo', arch: 'vgg16' } }));
  out.push(cell(pipeline, 'importance', 'importance', {}, 'done', {
    cutPoints: cuts, cui, log10Cui: cui.map((x) => Math.log10(x)), candidates: [cuts[2]!, cuts[4]!].filter(Boolean), best: cuts[2] ?? cuts[0],
    cdeBytes: raw, cdeCandidates: [cuts[4]!].filter(Boolean), target: 'label', imagesPerClass: 8, readPoint: 'post-activation', candidateRule: 'strict',
    images: 8 * classes.length, split: 'train', scoredAccuracy: 0.75,
    perClass: classes.map((c, k) => ({ class: c, cui: cui.map((x, i) => x * (1 + 0.3 * Math.sin(i + k))), candidates: [cuts[2]!], best: cuts[(2 + k) % cuts.length] })),
  }));
  const evalDone: { cut: string; seed: number; acc: number }[] = [];
  for (const cut of swept) {
    const i = cuts.indexOf(cut);
    for (const seed of seeds) {
      const coords = { cut, seed };
      const failed = isFailed(cut, seed);
      out.push(cell(pipeline, 'retrain', 'split-retrain', coords, failed ? 'failed' : 'done',
        { cut, ratio: 8, expansion: 2, regime: 'bottleneck', seed, cutShape: [8, 8, 16], codeShape: [8, 8, 2], epochs: 2, bestEpoch: 2, history: [], cachedParts: ['head'] }, { cut, seed },
        failed ? { error: 'out of memory while training' } : {}));
      if (failed) { out.push(cell(pipeline, 'evaluate', 'evaluate', coords, 'pending', undefined)); continue; }
      if (isPending(cut, seed)) { out.push(cell(pipeline, 'evaluate', 'evaluate', coords, 'pending', undefined)); continue; }
      const acc = accOf(i, seed);
      evalDone.push({ cut, seed, acc });
      const be = Math.round(raw[i]! / 4 / 16);
      out.push(cell(pipeline, 'evaluate', 'evaluate', coords, 'done', {
        cut, accuracy: acc, balancedAccuracy: acc - 0.01, perClassAccuracy: classes.map(() => acc), testImages: 60, baseAccuracy: 0.72,
        cutShape: [8, 8, 16], codeShape: [8, 8, 2],
        payload: { rawElements: raw[i]! / 4, bottleneckElements: be,
          bytes: { raw: { fp32: raw[i]!, fp16: raw[i]! / 2, int8: raw[i]! / 4 + 4 }, bottleneck: { fp32: be * 4, fp16: be * 2, int8: be + 4 } } },
        quantizedAccuracy: { fp32: acc, fp16: acc - 0.001, int8: acc - 0.012 },
        device: { flops: 1e6 * (i + 1), params: 1000 * (i + 1), peakActivationBytes: raw[i]!, timeMs: { p50: 2 + i, min: 1.5 + i, max: 3 + i } },
        server: { flops: 1e6 * (6 - i), params: 1000, peakActivationBytes: raw[i]!, timeMs: { p50: 1 + 0.1 * i, min: 0.9, max: 1.4 } },
        network: { flops: 7e6, params: 7000, peakActivationBytes: 262144, timeMs: { p50: 8, min: 7.5, max: 9 } },
      }));
    }
  }
  const doneCuts = [...new Set(evalDone.map((e) => e.cut))];
  const meanAcc = (cut: string): number => { const xs = evalDone.filter((e) => e.cut === cut).map((e) => e.acc); return xs.reduce((a, b) => a + b, 0) / xs.length; };
  if (doneCuts.length >= 2) {
    out.push(cell(pipeline, 'validate', 'validate', {}, 'done', {
      cuts: doneCuts, cui: doneCuts.map((c) => cui[cuts.indexOf(c)]!), accuracy: doneCuts.map(meanAcc),
      seeds, payloadBytes: doneCuts.map((c) => Math.round(raw[cuts.indexOf(c)]! / 64) * 4),
      spearman: { value: 0.83, ci95: [0.41, 1] }, kendall: { value: 0.67, ci95: [0.2, 1] },
      isplitBest: cuts[2], isplitBestOverall: cuts[2], retrainedBest: cuts[2], hit: true, isplitRank: 1,
      regret: { isplit: 0, cde: 0.021, payloadBudgetBytes: 65536, precision: 'fp32', cdeChoice: cuts[4], cdeWithinBudget: true, oracleCut: cuts[2], oracleAccuracy: meanAcc(cuts[2]!) },
      calibration: {
        points: doneCuts.map((c) => ({ cut: c, cui: cui[cuts.indexOf(c)]!, predicted: meanAcc(c) - 0.003, actual: meanAcc(c) })), looMae: 0.0123, baselineLooMae: 0.02,
        fit: { log10Cui: doneCuts.map((c) => Math.log10(cui[cuts.indexOf(c)]!)).sort((a, b) => a - b), accuracy: doneCuts.map(meanAcc).sort((a, b) => a - b) },
      },
    }));
  }
  // simulate: one cell over every network (as the simulate stage does), designs in its shape
  // (src/netsim/designs.ts): one per (evaluate cell × precision × network), plus baselines.
  interface D { id: string; kind: string; cut: string; precision: string; variant: string; network: string; device: string; server: string;
    accuracy: number | null; payloadBytes: number; deviceMs: number; transferMs: Record<string, number>; serverMs: number;
    endToEndMs: { p50: number; p95: number; p99: number; mean: number }; frameLossRate: number;
    deviceMemoryBytes: number; deviceMemoryLimitBytes: number; simulator: string }
  const pct = (x: number) => ({ p50: x, p95: x * 1.3, p99: x * 1.6, mean: x * 1.1 });
  const designs: D[] = [];
  networks.forEach((network, k) => {
    for (const e of evalDone) {
      const i = cuts.indexOf(e.cut);
      for (const precision of ['fp32', 'int8']) {
        const bytes = precision === 'fp32' ? raw[i]! / 16 : raw[i]! / 64;
        const transfer = bytes / (k === 0 ? 5000 : 800);
        designs.push({ id: `${e.cut}[seed=${e.seed}]/${precision}@${network}`, kind: 'split', cut: e.cut, precision, variant: `seed=${e.seed}`, network,
          device: 'raspberry-pi-4', server: 'server-gpu', accuracy: e.acc - (precision === 'int8' ? 0.012 : 0), payloadBytes: bytes, deviceMs: 2 + i,
          transferMs: pct(transfer), serverMs: 1, endToEndMs: pct(2 + i + transfer + 1), frameLossRate: 0,
          deviceMemoryBytes: 4_000_000 + i * 100_000, deviceMemoryLimitBytes: 4 * 2 ** 30, simulator: 'analytic' });
      }
    }
    if (evalDone.length) {
      designs.push({ id: `local@${network}`, kind: 'local', cut: 'all-on-device', precision: 'none', variant: '', network, device: 'raspberry-pi-4', server: 'server-gpu',
        accuracy: 0.72, payloadBytes: 0, deviceMs: 30, transferMs: pct(0), serverMs: 0, endToEndMs: pct(30), frameLossRate: 0,
        deviceMemoryBytes: 60_000_000, deviceMemoryLimitBytes: 4 * 2 ** 30, simulator: 'analytic' });
      const t = 3072 / (k === 0 ? 5000 : 800);
      designs.push({ id: `remote@${network}`, kind: 'remote', cut: 'all-on-server', precision: 'uint8', variant: '', network, device: 'raspberry-pi-4', server: 'server-gpu',
        accuracy: 0.72, payloadBytes: 3072, deviceMs: 0, transferMs: pct(t), serverMs: 2, endToEndMs: pct(t + 2), frameLossRate: 0,
        deviceMemoryBytes: 0, deviceMemoryLimitBytes: 4 * 2 ** 30, simulator: 'analytic' });
    }
  });
  if (networks.length) {
    out.push(cell(pipeline, 'simulate', 'simulate', {}, 'done', {
      network: networks.join(','), device: 'raspberry-pi-4', server: 'server-gpu', networks, devices: ['raspberry-pi-4'], simulator: 'analytic',
      frameRateHz: 10, frames: 30, seed: 0, notes: [], designs,
    }, { networks, devices: ['raspberry-pi-4'], server: 'server-gpu', frames: 30 }));
  }
  if (o.withRecommend !== false && designs.length) {
    const blocks = [
      { name: 'realtime', req: { minAccuracy: 0.6, maxLatencyMs: 9, latencyPercentile: 'p95' as const } },
      { name: HOSTILE.formula, req: { minAccuracy: 0.9, maxLatencyMs: 4, latencyPercentile: 'p50' as const } },
    ];
    for (const { name, req } of blocks) {
      const lat = (d: D) => d.endToEndMs[req.latencyPercentile];
      const front: Record<string, D[]> = {};
      for (const n of networks) {
        const mine = designs.filter((d) => d.network === n).sort((a, b) => lat(a) - lat(b));
        let best = -Infinity;
        front[n] = mine.filter((d) => ((d.accuracy ?? -1) > best ? ((best = d.accuracy ?? -1), true) : false));
      }
      const feasible = designs.filter((d) => (d.accuracy ?? 0) >= req.minAccuracy && lat(d) <= req.maxLatencyMs);
      const chosen = [...feasible].sort((a, b) => lat(a) - lat(b))[0] ?? null;
      const rejected = designs.filter((d) => !feasible.includes(d)).map((d) => ({
        design: d,
        violations: [
          ...((d.accuracy ?? 0) < req.minAccuracy ? [{ constraint: 'min-accuracy', limit: req.minAccuracy, actual: d.accuracy, by: req.minAccuracy - (d.accuracy ?? 0) }] : []),
          ...(lat(d) > req.maxLatencyMs ? [{ constraint: 'max-latency', limit: req.maxLatencyMs, actual: lat(d), by: lat(d) - req.maxLatencyMs }] : []),
        ],
      }));
      out.push(cell(pipeline, 'recommend', 'recommend', { requirements: name }, 'done', {
        requirements: { ...req, objective: 'latency', tieBreak: ['accuracy', 'latency', 'bytes'] },
        chosen, feasible, pareto: front, rejected,
        ...(chosen ? {} : { binding: 'min-accuracy', bindingDetail: [{ constraint: 'min-accuracy', admitsIfRelaxed: 3, relaxTo: 0.72, relaxBy: 0.18, violatedBy: rejected.length }] }),
        summary: chosen ? `chose ${chosen.id} (${feasible.length} of ${designs.length} feasible)` : `no design meets the requirements; binding: min-accuracy`,
      }, { requirements: { ...req, description: name } }));
    }
  }
  return out;
}
