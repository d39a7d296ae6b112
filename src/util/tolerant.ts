// Tolerant readers for stored JSON (results, params). A stored result may be older than the code
// that reads it, or damaged: a value that is absent or malformed reads as null (shown as
// missing), never as zero. Used by the stages' report contributions and by the report itself.

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

export function arr<T>(v: readonly T[] | null | undefined): T[];
export function arr(v: unknown): unknown[];
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

/** The items of a stored list that are objects (a damaged list may hold anything). */
export function objects<T>(v: readonly T[] | null | undefined): NonNullable<T>[] {
  return arr(v).filter((x): x is NonNullable<T> => obj(x) !== null);
}
