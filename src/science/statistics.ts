// Rank statistics between the importance curve and retrained accuracy, with bootstrap intervals.
import { randomIndex, rng } from '../util/random.js';

/** Ranks 1..n with ties given the average of the ranks they span. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]![1]] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Pearson correlation; NaN when either side is constant (no ranking to compare). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson correlation of average ranks (the standard treatment of ties). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/** Kendall's τ-b, which corrects for ties on either side; NaN when a side is constant. */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  let concordant = 0, discordant = 0, tiedX = 0, tiedY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = Math.sign(x[i]! - x[j]!), dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiedX++;
      else if (dy === 0) tiedY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiedX) * (concordant + discordant + tiedY));
  return denominator === 0 ? NaN : (concordant - discordant) / denominator;
}

function checkPaired(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new Error(`paired samples differ in length: ${x.length} vs ${y.length}`);
  if (x.length < 2) throw new Error('a correlation needs at least two paired values');
}

/** Percentile of sorted finite values by linear interpolation (type 7, as numpy's default). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Per-image correctness of every cut point: correct[cut][seed] is a 0/1 vector over the same
 * test images (same order for every cut and seed), so resampling images keeps the pairing.
 */
export type CorrectnessByCut = readonly (readonly Uint8Array[])[];

export interface BootstrapOptions { iterations: number; seed: number }
export interface CorrelationWithInterval { value: number; ci95: [number, number]; validIterations: number }

/** Accuracy per cut point averaged over its seeds. */
export function accuracyPerCut(correct: CorrectnessByCut): number[] {
  return correct.map((seeds) => {
    let sum = 0, n = 0;
    for (const c of seeds) { for (let i = 0; i < c.length; i++) sum += c[i]!; n += c.length; }
    return n === 0 ? NaN : sum / n;
  });
}

/**
 * Spearman ρ and Kendall τ between a per-cut predictor (the CUI) and retrained accuracy, with 95 %
 * percentile bootstrap intervals. Each iteration resamples the test images with replacement (one
 * draw shared by every cut, so the comparison stays paired) and the seeds with replacement (one
 * draw of seed positions shared by every cut), recomputes each cut's accuracy and both statistics.
 * Iterations where accuracy is constant across cuts give no ranking and are left out (counted).
 */
export function bootstrapRankCorrelations(
  predictor: readonly number[],
  correct: CorrectnessByCut,
  options: BootstrapOptions,
): { spearman: CorrelationWithInterval; kendall: CorrelationWithInterval } {
  if (predictor.length !== correct.length) throw new Error('one predictor value per cut point is needed');
  const seedCount = correct[0]?.length ?? 0;
  const imageCount = correct[0]?.[0]?.length ?? 0;
  for (const seeds of correct) {
    if (seeds.length !== seedCount) throw new Error('every cut point needs the same number of seeds');
    for (const c of seeds) if (c.length !== imageCount) throw new Error('every evaluation must cover the same test images');
  }
  if (seedCount === 0 || imageCount === 0) throw new Error('no per-image results to bootstrap');
  const accuracy = accuracyPerCut(correct);
  const random = rng(options.seed);
  const rhos: number[] = [], taus: number[] = [];
  const imageDraw = new Int32Array(imageCount);
  const seedDraw = new Int32Array(seedCount);
  const resampled = new Array<number>(correct.length);
  for (let it = 0; it < options.iterations; it++) {
    for (let i = 0; i < imageCount; i++) imageDraw[i] = randomIndex(random, imageCount);
    for (let s = 0; s < seedCount; s++) seedDraw[s] = randomIndex(random, seedCount);
    for (let cut = 0; cut < correct.length; cut++) {
      let sum = 0;
      for (let s = 0; s < seedCount; s++) {
        const c = correct[cut]![seedDraw[s]!]!;
        for (let i = 0; i < imageCount; i++) sum += c[imageDraw[i]!]!;
      }
      resampled[cut] = sum / (seedCount * imageCount);
    }
    const rho = spearman(predictor, resampled), tau = kendallTauB(predictor, resampled);
    if (Number.isFinite(rho)) rhos.push(rho);
    if (Number.isFinite(tau)) taus.push(tau);
  }
  const interval = (values: number[]): [number, number] => {
    const sorted = values.sort((a, b) => a - b);
    return [percentile(sorted, 0.025), percentile(sorted, 0.975)];
  };
  return {
    spearman: { value: spearman(predictor, accuracy), ci95: interval(rhos), validIterations: rhos.length },
    kendall: { value: kendallTauB(predictor, accuracy), ci95: interval(taus), validIterations: taus.length },
  };
}
