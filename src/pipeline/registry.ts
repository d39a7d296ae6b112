// Finds stage definitions: the built-in ones under dist/src/stages/<name>/index.js and any extra
// folders named by SEI_STAGE_PATH (colon-separated folders of <name>/index.js), which is how the
// tests plug in their fast fixture stages.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ReportingStage, StageReport } from '../stages/report.js';
import type { StageDefinition } from '../stages/types.js';
import { UsageError } from '../util/errors.js';

/** dist/ — this file is dist/src/pipeline/registry.js once compiled. */
export const distRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The package root (holds package.json, src/, dist/). */
export const packageRoot = dirname(distRoot);

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export class UnknownStageError extends UsageError {
  constructor(readonly stage: string, readonly known: string[]) {
    super(`unknown stage "${stage}" (known stages: ${known.length ? known.join(', ') : 'none'})`);
    this.name = 'UnknownStageError';
  }
}

/** Folders searched for stages, in order: built-in first, then SEI_STAGE_PATH entries. */
export function stageDirs(): string[] {
  const dirs = [join(distRoot, 'src', 'stages')];
  for (const part of (process.env.SEI_STAGE_PATH ?? '').split(':')) {
    if (part.trim() !== '') dirs.push(isAbsolute(part) ? part : resolve(part));
  }
  return dirs;
}

function stageFile(dir: string, name: string): string | undefined {
  const file = join(dir, name, 'index.js');
  return existsSync(file) ? file : undefined;
}

/** Names of every stage that can be loaded, sorted. */
export function stageNames(): string[] {
  const names = new Set<string>();
  for (const dir of stageDirs()) {
    let entries: string[];
    try { entries = readdirSync(dir); } catch { continue; }
    for (const entry of entries) {
      if (!SAFE_NAME.test(entry)) continue;
      try {
        if (statSync(join(dir, entry)).isDirectory() && stageFile(dir, entry)) names.add(entry);
      } catch { /* vanished while listing */ }
    }
  }
  return [...names].sort();
}

const loaded = new Map<string, Promise<StageDefinition>>();
const moduleFiles = new WeakMap<StageDefinition, string>();

/** The compiled module file a stage was loaded from (its import graph enters the cache key). */
export function stageModuleFile(def: StageDefinition): string | undefined {
  return moduleFiles.get(def);
}

/** Loads a stage's definition (its module's default export); cached per process. */
export function loadStage(name: string): Promise<StageDefinition> {
  const key = `${name}\0${process.env.SEI_STAGE_PATH ?? ''}`;
  let p = loaded.get(key);
  if (!p) {
    p = importStage(name);
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

async function importStage(name: string): Promise<StageDefinition> {
  if (!SAFE_NAME.test(name)) throw new UnknownStageError(name, stageNames());
  let file: string | undefined;
  for (const dir of stageDirs()) {
    file = stageFile(dir, name);
    if (file) break;
  }
  if (!file) throw new UnknownStageError(name, stageNames());
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  const def = mod.default as StageDefinition | undefined;
  const problems = checkDefinition(def, name);
  if (problems.length) throw new Error(`stage module ${file} is not a valid StageDefinition: ${problems.join('; ')}`);
  moduleFiles.set(def!, file);
  return def!;
}

/**
 * A stage's report contribution: the default export of the `report.js` beside its `index.js`
 * (src/stages/report.ts), with the metrics schema of its definition; undefined when it has none.
 */
export async function loadStageReport(name: string): Promise<ReportingStage | undefined> {
  const def = await loadStage(name);
  const file = join(dirname(moduleFiles.get(def)!), 'report.js');
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as { default?: StageReport };
  const report = mod.default;
  if (!report || typeof report !== 'object' || (report.table === undefined && report.part === undefined)) {
    throw new Error(`report module ${file} does not export a StageReport (a table and/or a part)`);
  }
  return { name, ...(def.metrics ? { metrics: def.metrics } : {}), report };
}

function checkDefinition(def: StageDefinition | undefined, name: string): string[] {
  if (!def || typeof def !== 'object') return ['no default export'];
  const problems: string[] = [];
  if (def.name !== name) problems.push(`name is "${String(def.name)}", expected "${name}" (its folder name)`);
  if (!def.params || typeof def.params !== 'object') problems.push('params schema missing');
  if (!def.inputs || typeof def.inputs !== 'object') problems.push('inputs missing');
  else {
    for (const [input, decl] of Object.entries(def.inputs)) {
      if (!decl || (decl.kind !== 'one' && decl.kind !== 'many')) problems.push(`input "${input}" has no kind 'one' | 'many'`);
    }
  }
  if (!Array.isArray(def.codeDeps)) problems.push('codeDeps missing');
  if (typeof def.run !== 'function') problems.push('run() missing');
  return problems;
}
