// Validation of I-SPLIT's prediction against retrained accuracy, across the cut points of one
// (model, dataset, class subset, bottleneck, regime) sweep. Pure: reads the upstream results it
// is given and returns the metrics; the stage wrapper only does the file reading.
import { bootstrapRankCorrelations, calibrate, regretAtEqualPayload, type CorrelationWithInterval } from '../../science/index.js';

export interface ImportanceResult {
  cutPoints: string[];
  cui: number[];
  candidates: string[];
  best: string;
  cdeCandidates: string[];
  /** Bytes of the raw tensor at each cut point (the CDE curve). */
  cdeBytes: number[];
}

export interface EvaluationInput {
  /** The evaluate cell's cell id (for error messages). */
  cellId: string;
  cut: string;
  /** Retrain seed (coordinate `seed`; 0 when the sweep has one seed). */
  seed: number;
  accuracy: number;
  payloadBytes: number;
  /** Per-test-image correctness (1 = correct), same image order in every evaluation. */
  correct: Uint8Array;
}

export interface ValidateOptions {
  bootstrapIterations: number;
  bootstrapSeed: number;
  payloadPrecision: 'fp32' | 'fp16' | 'int8';
  /** A fixed payload budget for the regret comparison (default: the payload of I-SPLIT's choice). */
  payloadBudgetBytes?: number;
}

export interface ValidateMetrics {
  cuts: string[];
  cui: number[];
  accuracy: number[];
  accuracyBySeed: number[][];
  seeds: number[];
  payloadBytes: number[];
  testImages: number;
  spearman: CorrelationWithInterval;
  kendall: CorrelationWithInterval;
  /** The cut with the highest CUI among the retrained ones (I-SPLIT's choice in this sweep). */
  isplitBest: string;
  /** I-SPLIT's best over the whole curve (may lie outside the sweep). */
  isplitBestOverall: string;
  retrainedBest: string;
  hit: boolean;
  /** Rank (1 = best) of I-SPLIT's choice among the retrained accuracies. */
  isplitRank: number;
  regret: {
    isplit: number; cde: number | null; payloadBudgetBytes: number; precision: string;
    cdeChoice: string | null; cdeWithinBudget: boolean; oracleCut: string; oracleAccuracy: number;
  };
  /** I-SPLIT candidates (local maxima) inside the sweep, and their retrained accuracies. */
  candidatesInSweep: { cut: string; accuracy: number }[];
  calibration: { points: { cut: string; cui: number; predicted: number; actual: number }[]; looMae: number;
    /** Mean absolute error of the trivial predictor (the mean accuracy of the other cuts), for scale. */
    baselineLooMae: number; fit: { log10Cui: number[]; accuracy: number[] } };
}

export const MIN_CUTS = 3;

/** Errors of a sweep that cannot be validated, named by what the user controls. */
export class ValidationInputError extends Error {}

export function validateSweep(importance: ImportanceResult, evaluations: EvaluationInput[], options: ValidateOptions): ValidateMetrics {
  const byCut = new Map<string, EvaluationInput[]>();
  for (const e of evaluations) {
    if (!importance.cutPoints.includes(e.cut)) {
      throw new ValidationInputError(`evaluation ${e.cellId} is at cut '${e.cut}', which the importance curve does not have (${importance.cutPoints.join(', ')})`);
    }
    if (!byCut.has(e.cut)) byCut.set(e.cut, []);
    byCut.get(e.cut)!.push(e);
  }
  // Forward order of the network, whatever order the cells arrived in.
  const cuts = importance.cutPoints.filter((c) => byCut.has(c));
  if (cuts.length < MIN_CUTS) {
    throw new ValidationInputError(
      `validation needs retrained results at ${MIN_CUTS} or more distinct cut points, got ${cuts.length}` +
        (cuts.length ? ` (${cuts.join(', ')})` : '') + ': sweep split-retrain over more cut points');
  }
  const seedLists = cuts.map((c) => byCut.get(c)!.map((e) => e.seed).sort((a, b) => a - b));
  const seeds = seedLists[0]!;
  for (let i = 1; i < cuts.length; i++) {
    if (seedLists[i]!.join(',') !== seeds.join(',')) {
      throw new ValidationInputError(`cut ${cuts[i]} was retrained with seeds [${seedLists[i]}] but ${cuts[0]} with [${seeds}]: every cut needs the same seeds`);
    }
  }
  if (new Set(seeds).size !== seeds.length) {
    throw new ValidationInputError(`cut ${cuts[0]} has several evaluations with the same seed (${seeds}); gather over the seed axis only once`);
  }
  const ordered = cuts.map((c) => [...byCut.get(c)!].sort((a, b) => a.seed - b.seed));
  const testImages = ordered[0]![0]!.correct.length;
  for (const group of ordered) for (const e of group) {
    if (e.correct.length !== testImages) {
      throw new ValidationInputError(`evaluation ${e.cellId} covers ${e.correct.length} test images, others ${testImages}: all must use the same test split`);
    }
  }
  const cuiAll = new Map(importance.cutPoints.map((c, i) => [c, importance.cui[i]!]));
  const cui = cuts.map((c) => cuiAll.get(c)!);
  const accuracyBySeed = ordered.map((g) => g.map((e) => e.accuracy));
  const accuracy = accuracyBySeed.map((a) => a.reduce((s, v) => s + v, 0) / a.length);
  const payloadBytes = ordered.map((g) => g[0]!.payloadBytes);
  const correlations = bootstrapRankCorrelations(cui, ordered.map((g) => g.map((e) => e.correct)), {
    iterations: options.bootstrapIterations, seed: options.bootstrapSeed,
  });
  const cde = new Set(importance.cdeCandidates);
  const layerBytes = new Map(importance.cutPoints.map((c, i) => [c, importance.cdeBytes[i]!]));
  const regret = regretAtEqualPayload(cuts.map((cut, i) => ({
    cut, cui: cui[i]!, accuracy: accuracy[i]!, payloadBytes: payloadBytes[i]!, cdeCandidate: cde.has(cut), layerBytes: layerBytes.get(cut)!,
  })), options.payloadBudgetBytes);
  const bestIndex = accuracy.reduce((b, v, i) => (v > accuracy[b]! ? i : b), 0);
  const isplitIndex = cuts.indexOf(regret.isplitChoice);
  const isplitRank = 1 + accuracy.filter((a) => a > accuracy[isplitIndex]!).length;
  const calibration = calibrate(cui, accuracy);
  const baselineLooMae = accuracy.reduce((s, a, i) => {
    const others = accuracy.filter((_, j) => j !== i);
    return s + Math.abs(others.reduce((t, v) => t + v, 0) / others.length - a);
  }, 0) / accuracy.length;
  return {
    cuts, cui, accuracy, accuracyBySeed, seeds, payloadBytes, testImages,
    spearman: correlations.spearman,
    kendall: correlations.kendall,
    isplitBest: regret.isplitChoice,
    isplitBestOverall: importance.best,
    retrainedBest: cuts[bestIndex]!,
    hit: accuracy[isplitIndex] === accuracy[bestIndex],
    isplitRank,
    regret: {
      isplit: regret.isplit, cde: regret.cde, payloadBudgetBytes: regret.payloadBudgetBytes, precision: options.payloadPrecision,
      cdeChoice: regret.cdeChoice, cdeWithinBudget: regret.cdeWithinBudget, oracleCut: regret.oracleCut, oracleAccuracy: regret.oracleAccuracy,
    },
    candidatesInSweep: importance.candidates.filter((c) => byCut.has(c)).map((c) => ({ cut: c, accuracy: accuracy[cuts.indexOf(c)]! })),
    calibration: {
      points: calibration.points.map((p, i) => ({ cut: cuts[i]!, ...p })),
      looMae: calibration.looMae,
      baselineLooMae,
      fit: { log10Cui: calibration.fit.x, accuracy: calibration.fit.y },
    },
  };
}
