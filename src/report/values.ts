// Values of the report model: the tolerant readers of stored JSON (src/util/tolerant.ts), summary
// statistics and coordinate labels.

export { type Json, obj, num, str, bool, arr, strArr, numArr, at, numAt, strAt, log10OrNull } from '../util/tolerant.js';

export interface Stat {
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation (0 with one value). */
  sd: number;
  n: number;
}

export function stat(values: (number | null)[]): Stat | null {
  const xs = values.filter((x): x is number => x !== null);
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, min: Math.min(...xs), max: Math.max(...xs), sd, n: xs.length };
}

/** A short, stable, human label for a coordinate value. */
export function coordText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '∅';
  return JSON.stringify(v);
}

export function coordsText(coords: Record<string, unknown>): string {
  const keys = Object.keys(coords).sort();
  return keys.map((k) => `${k}=${coordText(coords[k])}`).join(', ');
}

/** Two coordinate sets agree on every axis they share. */
export function compatible(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  for (const k of Object.keys(a)) {
    if (k in b && JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  }
  return true;
}

export function pick(coords: Record<string, unknown>, keys: Iterable<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in coords) out[k] = coords[k];
  return out;
}

export function sortedKeyJson(coords: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(coords).sort().map((k) => [k, coords[k]]));
}
