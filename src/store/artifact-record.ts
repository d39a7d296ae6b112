// What an artifact folder says about itself (cell.json), so that the folders, not the database,
// are the truth: the database is an index that `rebuildIndex` can recreate from them. Written
// into the finished output folder before it is renamed into objects/, so a folder in objects/
// either has a complete record or (made by an older sei) none at all.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyParts, PlannedInput } from './cell-types.js';
import type { Manifest } from './manifest.js';

export const RECORD_FILE = 'cell.json';
export const RECORD_FORMAT = 'sei-artifact-1';
/** Written last by the worker; holds { metrics, provenance }. */
export const RESULT_JSON = 'result.json';

export interface ArtifactAttempt {
  runId: string;
  /** Attempt number within its run (1 = first try). */
  n: number;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** CPU time of the process that ran it (user + system), when known. */
  cpuMs?: number;
  /** Log file, relative to the store folder. */
  logPath: string;
}

export interface ArtifactRecord {
  format: typeof RECORD_FORMAT;
  cellId: string;
  key: string;
  pipeline: string;
  instance: string;
  stage: string;
  slot: string;
  /** Order of the cell in its run's plan. */
  position: number;
  coords: Record<string, unknown>;
  params: unknown;
  /** sha256 of the canonical params (also in keyParts). */
  paramsDigest: string;
  inputs: Record<string, PlannedInput>;
  keyParts: KeyParts;
  /** Every file of the folder except this record, as the worker fsynced it. */
  manifest: Manifest;
  attempt: ArtifactAttempt;
}

/** Write the record into a finished output folder and fsync it (before the folder is renamed). */
export function writeArtifactRecord(dir: string, record: Omit<ArtifactRecord, 'format'>): void {
  const full: ArtifactRecord = { format: RECORD_FORMAT, ...record };
  const fd = openSync(join(dir, RECORD_FILE), 'w');
  try {
    writeSync(fd, JSON.stringify(full) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export type ReadRecordResult =
  | { ok: true; record: ArtifactRecord; metrics: Record<string, unknown>; provenance: Record<string, unknown> }
  | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What is wrong with a parsed record's fields, if anything; `key` is the folder's own name. */
function recordProblem(r: Record<string, unknown>, key: string): string | undefined {
  const strings = ['cellId', 'key', 'pipeline', 'instance', 'stage', 'slot', 'paramsDigest'] as const;
  for (const f of strings) if (typeof r[f] !== 'string') return `${RECORD_FILE}: field ${f} missing`;
  if (r.key !== key) return `${RECORD_FILE} names key ${String(r.key).slice(0, 12)}, but the folder is ${key.slice(0, 12)}`;
  if (!Array.isArray(r.manifest) || !isObject(r.keyParts) || !isObject(r.inputs) || !isObject(r.coords) || !isObject(r.attempt)) {
    return `${RECORD_FILE}: manifest, keyParts, inputs, coords or attempt missing`;
  }
  return undefined;
}

/** The record's shape as far as the index relies on it (the fields recordProblem checks). */
function isArtifactRecord(v: unknown): v is ArtifactRecord {
  return isObject(v) && v.format === RECORD_FORMAT && recordProblem(v, String(v.key)) === undefined;
}

/** Read and check an artifact folder's record and result; `key` is the folder's own name. */
export function readArtifactRecord(dir: string, key: string): ReadRecordResult {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, RECORD_FILE), 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? `no ${RECORD_FILE} (written by an older sei, or not an artifact)` : `${RECORD_FILE} unreadable: ${(e as Error).message}` };
  }
  if (!isObject(raw) || raw.format !== RECORD_FORMAT) return { ok: false, reason: `${RECORD_FILE} is not a ${RECORD_FORMAT} record` };
  const problem = recordProblem(raw, key);
  if (problem !== undefined) return { ok: false, reason: problem };
  if (!isArtifactRecord(raw)) return { ok: false, reason: `${RECORD_FILE} is not a ${RECORD_FORMAT} record` };
  const r = raw;
  let result: unknown;
  try {
    result = JSON.parse(readFileSync(join(dir, RESULT_JSON), 'utf8'));
  } catch (e) {
    return { ok: false, reason: `${RESULT_JSON} unreadable: ${(e as Error).message}` };
  }
  if (!isObject(result) || !isObject(result.metrics)) return { ok: false, reason: `${RESULT_JSON} has no metrics` };
  return { ok: true, record: r, metrics: result.metrics, provenance: isObject(result.provenance) ? result.provenance : {} };
}
