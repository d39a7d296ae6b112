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
    arch: 'vgg16', cutPoints: cuts, testAccuracy: 0.72, valAccuracy: 0.7, epochs: 2, history: [],
  }, { model: { name: 'vgg16-demo', arch: 'vgg16' } }));
  out.push(cell(pipeline, 'importance', 'importance', {}, 'done', {
    cutPoints: cuts, cui, log10Cui: cui.map((x) => Math.log10(x)), candidates: [cuts[2]!, cuts[4]!].filter(Boolean), best: cuts[2] ?? cuts[0],
    cdeBytes: raw, cdeCandidates: [cuts[4]!].filter(Boolean), target: 'label', imagesPerClass: 8,
    perClass: classes.map((c, k) => ({ class: c, cui: cui.map((x, i) => x * (1 + 0.3 * Math.sin(i + k))), candidates: [cuts[2]!], best: cuts[(2 + k) % cuts.length] })),
  }));
  const evalDone: { cut: string; seed: number; acc: number }[] = [];
  for (const cut of swept) {
    const i = cuts.indexOf(cut);
    for (const seed of seeds) {
      const coords = { cut, seed };
      const failed = isFailed(cut, seed);
      out.push(cell(pipeline, 'retrain', 'split-retrain', coords, failed ? 'failed' : 'done',
        { cut, ratio: 8, expansion: 2, regime: 'bottleneck', seed, epochs: 2, history: [] }, { cut, seed },
        failed ? { error: 'out of memory while training' } : {}));
      if (failed) { out.push(cell(pipeline, 'evaluate', 'evaluate', coords, 'pending', undefined)); continue; }
      if (isPending(cut, seed)) { out.push(cell(pipeline, 'evaluate', 'evaluate', coords, 'pending', undefined)); continue; }
      const acc = accOf(i, seed);
      evalDone.push({ cut, seed, acc });
      const be = Math.round(raw[i]! / 4 / 16);
      out.push(cell(pipeline, 'evaluate', 'evaluate', coords, 'done', {
        cut, accuracy: acc, balancedAccuracy: acc - 0.01, perClassAccuracy: classes.map(() => acc), baseAccuracy: 0.72,
        payload: { rawElements: raw[i]! / 4, bottleneckElements: be,
          bytes: { raw: { fp32: raw[i]!, fp16: raw[i]! / 2, int8: raw[i]! / 4 + 4 }, bottleneck: { fp32: be * 4, fp16: be * 2, int8: be + 4 } } },
        quantizedAccuracy: { fp32: acc, fp16: acc - 0.001, int8: acc - 0.012 },
        device: { flops: 1e6 * (i + 1), params: 1000 * (i + 1), peakActivationBytes: raw[i]!, timeMs: { p50: 2 + i, min: 1.5 + i, max: 3 + i } },
        server: { flops: 1e6 * (6 - i), params: 1000, timeMs: { p50: 1 + 0.1 * i, min: 0.9, max: 1.4 } },
      }));
    }
  }
  const doneCuts = [...new Set(evalDone.map((e) => e.cut))];
  const meanAcc = (cut: string): number => { const xs = evalDone.filter((e) => e.cut === cut).map((e) => e.acc); return xs.reduce((a, b) => a + b, 0) / xs.length; };
  if (doneCuts.length >= 2) {
    out.push(cell(pipeline, 'validate', 'validate', {}, 'done', {
      cuts: doneCuts, cui: doneCuts.map((c) => cui[cuts.indexOf(c)]!), accuracy: doneCuts.map(meanAcc),
      spearman: { value: 0.83, ci95: [0.41, 1] }, kendall: { value: 0.67, ci95: [0.2, 1] },
      isplitBest: cuts[2], retrainedBest: cuts[2], hit: true,
      regret: { isplit: 0, cde: 0.021, payloadBudgetBytes: 65536 },
      calibration: { points: doneCuts.map((c) => ({ cui: cui[cuts.indexOf(c)]!, predicted: meanAcc(c) - 0.003, actual: meanAcc(c) })), looMae: 0.0123 },
    }));
  }
  interface D { cut: string; precision: string; payloadBytes: number; deviceMs: number; transferMs: Record<string, number>;
    serverMs: number; endToEndMs: { p50: number; p95: number; p99: number; mean: number }; frameLossRate: number; simulator: string }
  const designsFor = (network: string, k: number): D[] => doneCuts.flatMap((cut) => ['fp32', 'int8'].map((precision) => {
    const i = cuts.indexOf(cut);
    const bytes = precision === 'fp32' ? raw[i]! / 16 : raw[i]! / 64;
    const transfer = bytes / (k === 0 ? 5000 : 800);
    const e2e = 2 + i + transfer + 1;
    return { cut, precision, payloadBytes: bytes, deviceMs: 2 + i, transferMs: { p50: transfer, p95: transfer * 1.5, p99: transfer * 2, mean: transfer * 1.1 },
      serverMs: 1, endToEndMs: { p50: e2e, p95: e2e * 1.3, p99: e2e * 1.6, mean: e2e * 1.1 }, frameLossRate: 0, simulator: 'analytic' };
  }));
  networks.forEach((network, k) => {
    out.push(cell(pipeline, 'simulate', 'simulate', { network }, 'done', { network, device: 'jetson-nano', designs: designsFor(network, k) as unknown[] }, { network: { name: network } }));
  });
  if (o.withRecommend !== false && doneCuts.length) {
    const all = networks.flatMap((n, k) => designsFor(n, k).map((d) => ({ ...d, network: n, accuracy: meanAcc(d.cut) - (d.precision === 'int8' ? 0.012 : 0) })));
    const front: Record<string, unknown[]> = {};
    for (const n of networks) {
      const mine = all.filter((d) => d.network === n).sort((a, b) => (a.endToEndMs.p50 - b.endToEndMs.p50));
      let best = -Infinity;
      front[n] = mine.filter((d) => (d.accuracy > best ? ((best = d.accuracy), true) : false));
    }
    const blocks = [
      { name: 'realtime', minAccuracy: 0.6, maxLatencyMs: 9 },
      { name: HOSTILE.formula, minAccuracy: 0.9, maxLatencyMs: 4 },
    ];
    for (const req of blocks) {
      const feasible = all.filter((d) => d.accuracy >= req.minAccuracy && d.endToEndMs.p50 <= req.maxLatencyMs);
      const chosen = [...feasible].sort((a, b) => b.accuracy - a.accuracy)[0] ?? null;
      const rejected = all.filter((d) => !feasible.includes(d)).map((d) => ({
        design: d,
        violations: [
          ...(d.accuracy < req.minAccuracy ? [{ constraint: 'minAccuracy', limit: req.minAccuracy, actual: d.accuracy, by: req.minAccuracy - d.accuracy }] : []),
          ...(d.endToEndMs.p50 > req.maxLatencyMs ? [{ constraint: 'maxLatencyMs', limit: req.maxLatencyMs, actual: d.endToEndMs.p50, by: d.endToEndMs.p50 - req.maxLatencyMs }] : []),
        ],
      }));
      out.push(cell(pipeline, 'recommend', 'recommend', { requirements: req.name }, 'done', {
        requirements: req, chosen, feasible, pareto: front, rejected, binding: chosen ? 'maxLatencyMs' : undefined,
      }, { requirements: req }));
    }
  }
  return out;
}
