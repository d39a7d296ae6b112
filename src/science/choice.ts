// Which cut each heuristic picks among the retrained cut points, and what that choice costs.
import { argMax } from './curves.js';

export interface EvaluatedCut {
  cut: string;
  /** Importance (CUI) of the cut point. */
  cui: number;
  /** Retrained test accuracy (mean over seeds). */
  accuracy: number;
  /** Bytes sent per image at this cut (the bottleneck's output, fp32). */
  payloadBytes: number;
  /** Whether the layer-size heuristic lists this point as a candidate. */
  cdeCandidate: boolean;
  /** Bytes of the raw tensor at the cut (the CDE curve's value): the CDE heuristic's tie-break. */
  layerBytes: number;
}

export interface RegretResult {
  isplitChoice: string;
  cdeChoice: string | null;
  /** Whether the CDE choice fits the budget (false: no CDE candidate did; its smallest one is used). */
  cdeWithinBudget: boolean;
  /** The budget both heuristics get: the one given, else the payload of I-SPLIT's choice. */
  payloadBudgetBytes: number;
  /** Best retrained accuracy among the cut points that fit the budget. */
  oracleCut: string;
  oracleAccuracy: number;
  /** Accuracy lost to that best cut by each heuristic's choice (≥ 0 unless CDE exceeded the budget). */
  isplit: number;
  cde: number | null;
}

/**
 * I-SPLIT picks the retrained cut with the highest CUI. Its payload is the budget (or, when
 * `payloadBudgetBytes` is given, I-SPLIT picks the highest CUI among the cuts within it). The layer-size
 * (CDE) heuristic picks, among its candidates that fit the budget, the one that spends the most of
 * it (the same bandwidth as I-SPLIT's choice); on equal payloads, the one its own curve prefers
 * (the smaller tensor at the cut), then the earlier; when none fits, its cheapest candidate. The oracle is the most accurate retrained cut within the budget; regret is the
 * accuracy each choice loses to it.
 */
export function regretAtEqualPayload(cuts: readonly EvaluatedCut[], payloadBudgetBytes?: number): RegretResult {
  if (cuts.length === 0) throw new Error('no evaluated cut points');
  // With a given budget, I-SPLIT picks the highest CUI among the cuts that fit it.
  const fitting = payloadBudgetBytes === undefined ? cuts : cuts.filter((c) => c.payloadBytes <= payloadBudgetBytes);
  if (fitting.length === 0) {
    throw new RangeError(`payload budget ${payloadBudgetBytes} B: no retrained cut sends that little (the smallest sends ${Math.min(...cuts.map((c) => c.payloadBytes))} B)`);
  }
  const isplit = fitting[argMax(fitting.map((c) => c.cui))]!;
  const budget = payloadBudgetBytes ?? isplit.payloadBytes;
  const within = cuts.filter((c) => c.payloadBytes <= budget);
  const oracle = within.reduce((best, c) => (c.accuracy > best.accuracy ? c : best));
  const cdeAll = cuts.filter((c) => c.cdeCandidate);
  const cdeWithin = cdeAll.filter((c) => c.payloadBytes <= budget);
  let cde: EvaluatedCut | null = null;
  const preferred = (a: EvaluatedCut, b: EvaluatedCut) =>
    a.payloadBytes > b.payloadBytes || (a.payloadBytes === b.payloadBytes && a.layerBytes < b.layerBytes);
  if (cdeWithin.length > 0) cde = cdeWithin.reduce((best, c) => (preferred(c, best) ? c : best));
  else if (cdeAll.length > 0) cde = cdeAll.reduce((best, c) => (c.payloadBytes < best.payloadBytes ? c : best));
  return {
    isplitChoice: isplit.cut,
    cdeChoice: cde?.cut ?? null,
    cdeWithinBudget: cdeWithin.length > 0,
    payloadBudgetBytes: budget,
    oracleCut: oracle.cut,
    oracleAccuracy: oracle.accuracy,
    isplit: oracle.accuracy - isplit.accuracy,
    cde: cde ? oracle.accuracy - cde.accuracy : null,
  };
}
