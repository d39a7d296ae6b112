// Reading a curve over the ordered cut points: I-SPLIT candidates (local maxima of the
// importance curve) and the layer-size (CDE) candidates (the points where the tensor shrinks).

/**
 * Strict local maxima of a curve: indices whose value is greater than both neighbours.
 * The first and last points have one neighbour only and are never candidates (METHOD.md).
 * Non-finite values (log10 of a zero CUI is -Infinity) compare like numbers; NaN never wins.
 */
export function strictLocalMaxima(values: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < values.length - 1; i++) {
    if (values[i]! > values[i - 1]! && values[i]! > values[i + 1]!) out.push(i);
  }
  return out;
}

/**
 * The reference I-SPLIT code's candidates: it prepends a copy of the first value and marks every
 * index where the sign of the first difference decreases (+ → 0, 0 → −, + → −). So the first
 * point is a candidate when the curve falls after it, both edges of a plateau at a peak are, and
 * the last point never is. As in numpy, a NaN difference (-Infinity − -Infinity: two zero
 * importances in a row) has sign NaN, and a NaN never marks a candidate.
 */
export function referenceCandidates(values: readonly number[]): number[] {
  const sign = (d: number) => (d > 0 ? 1 : d < 0 ? -1 : d === 0 ? 0 : NaN);
  const padded = [values[0]!, ...values];
  const signs = padded.slice(1).map((v, i) => sign(v - padded[i]!));
  const out: number[] = [];
  for (let j = 0; j + 1 < signs.length; j++) if (signs[j + 1]! - signs[j]! < 0) out.push(j);
  return out;
}

export type CandidateRule = 'strict' | 'reference';

/** Candidates of a log10 curve by the chosen rule. */
export function candidatesOf(values: readonly number[], rule: CandidateRule): number[] {
  return rule === 'reference' ? referenceCandidates(values) : strictLocalMaxima(values);
}

/** Index of the global maximum (the first one on ties); -1 for an empty or all-NaN curve. */
export function argMax(values: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    if (best < 0 || values[i]! > values[best]!) best = i;
  }
  return best;
}

/**
 * Layer-size (CDE) candidates: the points where the tensor at the cut drops below the previous
 * point and does not grow at the next one — the bottom (or the start of a flat bottom) of each
 * valley. For VGG16 these are the five pooling outputs, the last one included (it is smaller than
 * its predecessor and has no successor to exceed it); for ResNet-50 the max-pool output and the
 * first block of each stage whose stride halves the map. The first point has no predecessor and
 * is never a candidate.
 */
export function cdeCandidates(bytes: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    const dropsHere = bytes[i]! < bytes[i - 1]!;
    const staysLow = i === bytes.length - 1 || bytes[i]! <= bytes[i + 1]!;
    if (dropsHere && staysLow) out.push(i);
  }
  return out;
}

/** log10 of each value; a zero importance maps to -Infinity and is kept as such (JSON: null). */
export function log10Curve(values: readonly number[]): number[] {
  return values.map((v) => Math.log10(v));
}
