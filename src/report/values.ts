// Tolerant readers for stored metrics. The report must survive partial or older result shapes:
// a value that is absent or malformed reads as null (shown as missing), never as zero.

export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function strArr(v: unknown): string[] {
  return arr(v).filter((x): x is string => typeof x === 'string');
}

/** Numbers of an array, keeping positions: a non-number becomes null. */
export function numArr(v: unknown): (number | null)[] {
  return arr(v).map(num);
}

/** Walk a dotted path through nested objects. */
export function at(v: unknown, path: string): unknown {
  let cur: unknown = v;
  for (const part of path.split('.')) {
    const o = obj(cur);
    if (!o) return undefined;
    cur = o[part];
  }
  return cur;
}

export function numAt(v: unknown, path: string): number | null {
  return num(at(v, path));
}

export function strAt(v: unknown, path: string): string | null {
  return str(at(v, path));
}

/** log10 of a positive number; zero, negative or missing values have no logarithm (null). */
export function log10OrNull(v: number | null): number | null {
  return v !== null && v > 0 ? Math.log10(v) : null;
}

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
