// "Why is this cell not cached?": compares the key parts last seen for a slot with the current
// ones and names what changed — a param (with both values), a code folder, an upstream
// instance, an external input.
import type { KeyParts, NotCachedReason } from './types.js';
import { canonicalJson } from '../util/hash.js';

const MAX_PARAM_REASONS = 10;

export function explainChange(prev: KeyParts | undefined, cur: KeyParts): NotCachedReason[] {
  if (!prev) return [{ kind: 'new' }];
  const reasons: NotCachedReason[] = [];
  if (prev.paramsHash !== cur.paramsHash) {
    const diffs: { path: string; before: unknown; after: unknown }[] = [];
    diffValues(prev.params, cur.params, '', diffs);
    if (diffs.length === 0) diffs.push({ path: '(params)', before: prev.params, after: cur.params });
    for (const d of diffs.slice(0, MAX_PARAM_REASONS)) reasons.push({ kind: 'param-changed', ...d });
  }
  const before = prev.codeHashes ?? {};
  for (const folder of changedKeys(before, cur.codeHashes ?? {})) {
    const now = cur.codeHashes ?? {};
    if (!(folder in before)) reasons.push({ kind: 'code-changed', folder, added: true });
    else if (!(folder in now)) reasons.push({ kind: 'code-changed', folder, removed: true });
    else reasons.push({ kind: 'code-changed', folder });
  }
  if (prev.codeHash !== cur.codeHash && !reasons.some((r) => r.kind === 'code-changed')) {
    reasons.push({ kind: 'code-changed', folder: Object.keys(cur.codeHashes ?? {}).join(', ') || '(stage code)' });
  }
  if (prev.backend !== cur.backend) reasons.push({ kind: 'backend-changed', before: prev.backend, after: cur.backend });
  for (const path of changedKeys(prev.externalHashes ?? {}, cur.externalHashes ?? {})) {
    if (path in (cur.externalHashes ?? {})) reasons.push({ kind: 'input-file-changed', path });
  }
  for (const input of changedKeys(prev.upstreamKeys ?? {}, cur.upstreamKeys ?? {})) {
    if (!(input in (cur.upstreamKeys ?? {}))) continue;
    reasons.push({ kind: 'upstream-changed', input, instance: cur.upstreamInstances?.[input] ?? input });
  }
  return reasons;
}

/** Keys whose values differ (or exist on one side only). */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k]));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function diffValues(a: unknown, b: unknown, path: string, out: { path: string; before: unknown; after: unknown }[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diffValues(a[k], b[k], join(path, k), out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((v, i) => diffValues(v, b[i], join(path, i), out));
    return;
  }
  if (canonicalJson(a) !== canonicalJson(b)) out.push({ path: path || '(params)', before: a, after: b });
}

function show(v: unknown): string {
  if (v === undefined) return '(unset)';
  if (typeof v === 'string') return /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function formatReason(r: NotCachedReason): string {
  switch (r.kind) {
    case 'new': return 'new';
    case 'param-changed': return `param ${r.path} changed: ${show(r.before)} → ${show(r.after)}`;
    case 'code-changed': {
      const what = r.folder.startsWith('imports:') ? `code of ${r.folder.slice('imports:'.length)} (imported by the stage)` : `code of ${r.folder}`;
      // A folder the key did not cover when the cell was computed: the key grew (e.g. assets
      // loaded through new URL(..., import.meta.url) are now followed), not necessarily the code.
      if (r.added) return `${what} is now part of the key (not covered when this cell was computed)`;
      if (r.removed) return `${what} is no longer part of the key (the stage does not load it now)`;
      return `${what} changed`;
    }
    case 'backend-changed':
      if (r.before === undefined) return `backend ${r.after} is now part of the key (results are reproducible to the bit only on one backend; this cell was computed before backends were keyed)`;
      if (r.after === undefined) return `backend ${r.before} is no longer part of the key`;
      return `backend changed: ${r.before} → ${r.after} (results are reproducible to the bit only on one backend)`;
    case 'upstream-changed': return r.input === r.instance ? `upstream ${r.instance} changed` : `upstream ${r.instance} changed (input ${r.input})`;
    case 'input-file-changed': return `input file ${r.path} changed`;
    case 'artifact-damaged': return `artifact damaged: ${r.detail}`;
    case 'failed-before': return `failed before: ${r.error}`;
    case 'interrupted': return 'interrupted before it finished';
  }
}
