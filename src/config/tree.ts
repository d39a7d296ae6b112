// Plain JSON values whose containers remember where each child was written. The origins live in
// a WeakMap beside the values, so the resolved document stays an ordinary JSON object while every
// merge, substitution and override keeps each value's source position.
import type { Origin } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Where a child of a container was written: its key (maps only) and its value. */
export interface ChildOrigin { key?: Origin; value?: Origin }

const childOrigins = new WeakMap<object, Map<string | number, ChildOrigin>>();

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function originsOf(container: object): Map<string | number, ChildOrigin> {
  let m = childOrigins.get(container);
  if (!m) {
    m = new Map();
    childOrigins.set(container, m);
  }
  return m;
}

export function childOrigin(container: object, key: string | number): ChildOrigin | undefined {
  return childOrigins.get(container)?.get(key);
}

export function setChild(container: JsonObject, key: string, value: Json, origin: ChildOrigin | undefined): void {
  container[key] = value;
  if (origin) originsOf(container).set(key, origin);
}

/** Deep copy keeping origins. */
export function cloneTree<T extends Json>(value: T): T {
  if (Array.isArray(value)) {
    const out = value.map((v) => cloneTree(v));
    copyOrigins(value, out);
    return out as T;
  }
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = cloneTree(v);
    copyOrigins(value, out);
    return out as T;
  }
  return value;
}

function copyOrigins(from: object, to: object): void {
  const m = childOrigins.get(from);
  if (m) childOrigins.set(to, new Map(m));
}

/** Marks a whole (new) value as coming from one place, e.g. a --set argument. */
export function stampOrigin(value: Json, origin: Origin): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => { originsOf(value).set(i, { key: origin, value: origin }); stampOrigin(v, origin); });
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      originsOf(value).set(k, { key: origin, value: origin });
      stampOrigin(v, origin);
    }
  }
}

/**
 * Deep merge: maps merge key by key, everything else (scalars, lists) in `over` replaces `base`.
 * Returns a new tree; inputs are not modified.
 */
export function deepMerge(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return cloneTree(over);
  const out: JsonObject = {};
  const baseOrigins = childOrigins.get(base);
  const overOrigins = childOrigins.get(over);
  for (const [k, v] of Object.entries(base)) setChild(out, k, cloneTree(v), baseOrigins?.get(k));
  for (const [k, v] of Object.entries(over)) {
    const merged = k in out ? deepMerge(out[k], v) : cloneTree(v);
    setChild(out, k, merged, overOrigins?.get(k));
  }
  return out;
}

/** Walks the tree, recording every value's (and key's) origin by JSON pointer. */
export function collectPositions(root: Json, rootOrigin: Origin | undefined): Map<string, ChildOrigin> {
  const out = new Map<string, ChildOrigin>();
  out.set('', { value: rootOrigin });
  const walk = (value: Json, pointer: string) => {
    if (Array.isArray(value) || isObject(value)) {
      const m = childOrigins.get(value);
      const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
      for (const [k, v] of entries) {
        const p = `${pointer}/${escapePointer(String(k))}`;
        const o = m?.get(k);
        if (o) out.set(p, o);
        walk(v, p);
      }
    }
  };
  walk(root, '');
  return out;
}

export function escapePointer(seg: string): string {
  return seg.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function toPointer(path: readonly (string | number)[]): string {
  return path.map((s) => `/${escapePointer(String(s))}`).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
