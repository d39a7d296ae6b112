// Sweep expansion: grid (cartesian product) × zip (lists walked together), minus exclusions.
// Coordinates are named by their sweep key (a dotted path into the stage's params).
import { canonicalJson } from '../util/hash.js';

export type Coords = Record<string, unknown>;

export interface SweepSpec {
  grid?: Record<string, unknown[]>;
  zip?: Record<string, unknown[]>;
  exclude?: Record<string, unknown>[];
}

/** Own sweep cells of one instance in a stable order: grid keys as written (first outermost), then zip rows. */
export function expandSweep(spec: SweepSpec | undefined): Coords[] {
  const grid = Object.entries(spec?.grid ?? {});
  const zip = Object.entries(spec?.zip ?? {});
  let rows: Coords[] = [{}];
  for (const [key, values] of grid) {
    const next: Coords[] = [];
    for (const row of rows) for (const v of values) next.push({ ...row, [key]: v });
    rows = next;
  }
  if (zip.length) {
    const n = zip[0][1].length;
    const next: Coords[] = [];
    for (const row of rows) {
      for (let i = 0; i < n; i++) {
        const r: Coords = { ...row };
        for (const [key, values] of zip) r[key] = values[i];
        next.push(r);
      }
    }
    rows = next;
  }
  return rows;
}

/** Canonical text of a coordinate value, for equality tests and join keys. */
export function coordText(v: unknown): string {
  return typeof v === 'string' ? `s${v}` : canonicalJson(v);
}

/** True when every key of `entry` has the same value in `coords`. */
export function matchesEntry(coords: Coords, entry: Record<string, unknown>, entryTexts?: Map<string, string>): boolean {
  for (const [k, v] of Object.entries(entry)) {
    if (!(k in coords)) return false;
    const want = entryTexts?.get(k) ?? coordText(v);
    if (coordText(coords[k]) !== want) return false;
  }
  return true;
}

/** Precomputes the canonical texts of an exclude entry. */
export function entryTexts(entry: Record<string, unknown>): Map<string, string> {
  return new Map(Object.entries(entry).map(([k, v]) => [k, coordText(v)]));
}

/** Sets `value` at a dotted path inside `target`, creating mappings on the way. */
export function setAtPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = target;
  for (let i = 0; i < path.length - 1; i++) {
    const next = cur[path[i]];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[path[i]] = {};
    cur = cur[path[i]] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

/** The slot of a cell: its instance plus canonical coordinates (stable across runs). */
export function slotName(instance: string, coords: Coords): string {
  return Object.keys(coords).length ? `${instance}${canonicalJson(coords)}` : instance;
}
