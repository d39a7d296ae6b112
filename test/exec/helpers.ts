// Builds small plans by hand (the same shape the planner produces) over the fixture stages.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeyParts, Plan, PlannedCell, PlannedInput } from '../../src/pipeline/types.js';
import { canonicalJson, hashJson, sha256 } from '../../src/util/hash.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/fixtures/stages: where the compiled fixture stages live. */
export const FIXTURE_STAGES = resolve(here, '..', 'fixtures', 'stages');

export function tempDir(prefix = 'sei-exec-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const WRITE_TEXT_DEFAULTS = { repeat: 1, sleepMs: 0, failTimes: 0, crash: 'none', style: { upper: false, prefix: '' }, output: 'text.txt' };

export interface CellInit {
  instance: string;
  stage: string;
  params: Record<string, unknown>;
  coords?: Record<string, unknown>;
  inputs?: Record<string, { from: PlannedCell | PlannedCell[]; kind?: 'one' | 'many' }>;
  timeoutSec?: number;
  retries?: number;
  /** Stand-in for the code hash, to simulate a code change. */
  code?: string;
}

export function cell(init: CellInit): PlannedCell {
  const inputs: Record<string, PlannedInput> = {};
  const upstreamKeys: Record<string, string | string[]> = {};
  for (const [name, inp] of Object.entries(init.inputs ?? {})) {
    const list = Array.isArray(inp.from) ? inp.from : [inp.from];
    const kind = inp.kind ?? (Array.isArray(inp.from) ? 'many' : 'one');
    inputs[name] = { from: list[0]!.instance, kind, cellIds: list.map((c) => c.id) };
    upstreamKeys[name] = kind === 'many' ? list.map((c) => c.key) : list[0]!.key;
  }
  const coords = init.coords ?? {};
  const id = sha256(init.stage, init.instance, canonicalJson(init.params), ...Object.values(inputs).flatMap((i) => i.cellIds));
  const codeHash = sha256(init.code ?? 'code-v1');
  const keyParts: KeyParts = {
    paramsHash: hashJson(init.params), params: init.params, codeHash, codeHashes: { [`stages/${init.stage}`]: codeHash },
    externalHashes: {}, upstreamKeys,
  };
  const key = sha256(id, codeHash, canonicalJson(upstreamKeys));
  const c: PlannedCell = {
    id, key, instance: init.instance, stage: init.stage, params: init.params, coords,
    slot: `${init.instance}${canonicalJson(coords)}`, inputs, keyParts,
  };
  if (init.timeoutSec !== undefined) c.timeoutSec = init.timeoutSec;
  if (init.retries !== undefined) c.retries = init.retries;
  return c;
}

export function writeText(instance: string, text: string, extra: Record<string, unknown> = {}, more: Partial<CellInit> = {}): PlannedCell {
  return cell({ instance, stage: 'write-text', params: { ...WRITE_TEXT_DEFAULTS, text, ...extra }, coords: { text }, ...more });
}

export function concat(instance: string, parts: PlannedCell[], more: Partial<CellInit> = {}): PlannedCell {
  return cell({ instance, stage: 'concat', params: { separator: '+', sleepMs: 0, output: 'text.txt' }, inputs: { parts: { from: parts, kind: 'many' } }, ...more });
}

export function plan(name: string, cells: PlannedCell[], settings: Record<string, unknown> = {}): Plan {
  return { pipeline: { name, file: `${name}.yaml`, hash: hashJson(cells.map((c) => c.key)) }, cells, settings };
}

export function readJournalSync(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Number of completed executions per text in a write-text journal. */
export function doneCounts(journal: string, stage = 'write-text'): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of readJournalSync(journal)) {
    if (e.stage === stage && e.event === 'done') m.set(String(e.text), (m.get(String(e.text)) ?? 0) + 1);
  }
  return m;
}
