// How the best cut moves between class subsets (I-SPLIT's second claim): per subset, I-SPLIT's
// best cut and the best retrained one; across pairs of subsets, whether each moved, and whether
// the curve predicted the move (it moved under I-SPLIT exactly when it moved after retraining).
import { spearman } from '../../science/index.js';

export interface SubsetValidation {
  /** A readable name of the subset: the sweep coordinates that tell the subsets apart. */
  label: string;
  cuts: string[];
  cui: number[];
  accuracy: number[];
  isplitBest: string;
  retrainedBest: string;
  spearman: number;
}

export interface SubsetComparison {
  subsets: { label: string; isplitBest: string; retrainedBest: string; hit: boolean; spearman: number }[];
  /** Distinct best cuts over the subsets, by each criterion. */
  isplitBestCuts: string[];
  retrainedBestCuts: string[];
  isplitBestMoves: boolean;
  retrainedBestMoves: boolean;
  pairs: { a: string; b: string; isplitMoved: boolean; retrainedMoved: boolean; agree: boolean;
    /** Spearman ρ between the two subsets' CUI curves over their common cuts. */
    cuiCurveSpearman: number | null }[];
  /** Share of subset pairs whose best-cut movement I-SPLIT predicted. */
  moveAgreement: number | null;
  hitRate: number;
}

export function compareSubsets(subsets: SubsetValidation[]): SubsetComparison {
  if (subsets.length < 2) throw new Error(`comparing class subsets needs at least 2 subsets, got ${subsets.length}`);
  const pairs: SubsetComparison['pairs'] = [];
  for (let i = 0; i < subsets.length; i++) {
    for (let j = i + 1; j < subsets.length; j++) {
      const a = subsets[i]!, b = subsets[j]!;
      const common = a.cuts.filter((c) => b.cuts.includes(c));
      const rho = common.length >= 2
        ? spearman(common.map((c) => a.cui[a.cuts.indexOf(c)]!), common.map((c) => b.cui[b.cuts.indexOf(c)]!)) : NaN;
      const isplitMoved = a.isplitBest !== b.isplitBest, retrainedMoved = a.retrainedBest !== b.retrainedBest;
      pairs.push({ a: a.label, b: b.label, isplitMoved, retrainedMoved, agree: isplitMoved === retrainedMoved,
        cuiCurveSpearman: Number.isFinite(rho) ? rho : null });
    }
  }
  const distinct = (xs: string[]) => [...new Set(xs)];
  // A hit: I-SPLIT's best cut does as well as the best retrained one.
  const hit = (s: SubsetValidation) => s.accuracy[s.cuts.indexOf(s.isplitBest)] === s.accuracy[s.cuts.indexOf(s.retrainedBest)];
  const isplitBestCuts = distinct(subsets.map((s) => s.isplitBest));
  const retrainedBestCuts = distinct(subsets.map((s) => s.retrainedBest));
  return {
    subsets: subsets.map((s) => ({ label: s.label, isplitBest: s.isplitBest, retrainedBest: s.retrainedBest,
      hit: hit(s), spearman: s.spearman })),
    isplitBestCuts,
    retrainedBestCuts,
    isplitBestMoves: isplitBestCuts.length > 1,
    retrainedBestMoves: retrainedBestCuts.length > 1,
    pairs,
    moveAgreement: pairs.length ? pairs.filter((p) => p.agree).length / pairs.length : null,
    hitRate: subsets.filter(hit).length / subsets.length,
  };
}

/** Names each subset by the coordinates that differ between the gathered cells. */
export function subsetLabels(coords: Record<string, unknown>[]): string[] {
  const keys = [...new Set(coords.flatMap((c) => Object.keys(c)))].sort();
  const varying = keys.filter((k) => new Set(coords.map((c) => JSON.stringify(c[k]))).size > 1);
  return coords.map((c, i) => (varying.length ? varying.map((k) => `${k}=${labelOf(c[k])}`).join(' ') : `subset ${i + 1}`));
}

function labelOf(v: unknown): string {
  if (v && typeof v === 'object' && Array.isArray((v as { names?: unknown[] }).names)) return (v as { names: unknown[] }).names.join('+');
  return typeof v === 'string' ? v : JSON.stringify(v);
}
