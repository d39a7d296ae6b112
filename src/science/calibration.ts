// A calibrated predictor: a monotone (non-decreasing) fit of retrained accuracy on the importance
// curve, which turns a CUI value into a predicted accuracy, judged leave-one-cut-out.

export interface IsotonicFit {
  /** Sorted distinct x values (here log10 CUI) and the fitted, non-decreasing y at each. */
  x: number[];
  y: number[];
}

/** Pool-adjacent-violators on (x, y) pairs with equal weights; equal x values are pooled first. */
export function fitIsotonic(xs: readonly number[], ys: readonly number[]): IsotonicFit {
  if (xs.length !== ys.length || xs.length === 0) throw new Error('isotonic fit needs paired, non-empty samples');
  const order = xs.map((_, i) => i).filter((i) => Number.isFinite(xs[i]) && Number.isFinite(ys[i]))
    .sort((a, b) => xs[a]! - xs[b]!);
  if (order.length === 0) throw new Error('isotonic fit needs at least one finite pair');
  // Blocks of (x, sum of y, weight); a block's value is its mean.
  const bx: number[][] = [], sum: number[] = [], weight: number[] = [];
  for (const i of order) {
    const last = bx.length - 1;
    if (last >= 0 && bx[last]![bx[last]!.length - 1] === xs[i]) { sum[last]! += ys[i]!; weight[last]! += 1; }
    else { bx.push([xs[i]!]); sum.push(ys[i]!); weight.push(1); }
    // Merge backwards while the order is violated.
    while (sum.length > 1) {
      const k = sum.length - 1;
      if (sum[k - 1]! / weight[k - 1]! <= sum[k]! / weight[k]!) break;
      bx[k - 1]!.push(...bx[k]!); sum[k - 1]! += sum[k]!; weight[k - 1]! += weight[k]!;
      bx.pop(); sum.pop(); weight.pop();
    }
  }
  const x: number[] = [], y: number[] = [];
  for (let b = 0; b < bx.length; b++) {
    for (const v of new Set(bx[b])) { x.push(v); y.push(sum[b]! / weight[b]!); }
  }
  return { x, y };
}

/** The fit at x: linear between fitted points, constant beyond the ends (still monotone). */
export function predictIsotonic(fit: IsotonicFit, x: number): number {
  const { x: fx, y: fy } = fit;
  if (x <= fx[0]!) return fy[0]!;
  if (x >= fx[fx.length - 1]!) return fy[fy.length - 1]!;
  let hi = 1;
  while (fx[hi]! < x) hi++;
  const lo = hi - 1;
  const t = (x - fx[lo]!) / (fx[hi]! - fx[lo]!);
  return fy[lo]! + t * (fy[hi]! - fy[lo]!);
}

export interface CalibrationResult {
  /** Per cut point: its CUI, the accuracy predicted for it by a fit on the other cuts, the actual. */
  points: { cui: number; predicted: number; actual: number }[];
  /** Mean absolute error of those leave-one-cut-out predictions. */
  looMae: number;
  /** The fit on all cut points (x = log10 CUI), for predicting cuts that were never retrained. */
  fit: IsotonicFit;
}

/** Isotonic regression of accuracy on log10 CUI, judged by leave-one-cut-out prediction. */
export function calibrate(cui: readonly number[], accuracy: readonly number[]): CalibrationResult {
  if (cui.length !== accuracy.length) throw new Error('one accuracy per CUI value is needed');
  if (cui.length < 2) throw new Error('leave-one-cut-out calibration needs at least two cut points');
  const logCui = cui.map((v) => Math.log10(v));
  const points = cui.map((value, held) => {
    const xs = logCui.filter((_, i) => i !== held), ys = accuracy.filter((_, i) => i !== held);
    return { cui: value, predicted: predictIsotonic(fitIsotonic(xs, ys), logCui[held]!), actual: accuracy[held]! };
  });
  const looMae = points.reduce((s, p) => s + Math.abs(p.predicted - p.actual), 0) / points.length;
  return { points, looMae, fit: fitIsotonic(logCui, accuracy) };
}
