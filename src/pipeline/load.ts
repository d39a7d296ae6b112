// loadPipeline: a pipeline file (plus --set overrides) → a resolved, fully validated pipeline:
// every stage's params checked against its schema with defaults filled in, sweeps expanded,
// inputs wired and ordered. Anything wrong is reported at once as a ConfigError, each problem
// with file:line:col, field path and what was expected.
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import type { PlanContext, StageDefinition } from '../stages/types.js';
import { canonicalJson, hashJson } from '../util/hash.js';
import { loadStage, UnknownStageError } from './registry.js';
import { wireInputs, topoOrder, type RawInput, type WiredInput, type WiringProblem } from './dag.js';
import { coordText, entryTexts, expandSweep, matchesEntry, setAtPath, type Coords } from './sweep.js';
import { ConfigError, Problems, type Origin } from '../config/errors.js';
import { resolvePipeline, describeValue } from '../config/resolve.js';
import { collectPositions, fromPointer, isObject, toPointer, type ChildOrigin, type JsonObject } from '../config/tree.js';
import { PipelineSchema, SAFE_NAME, checkSchema, keysAt, subSchemaAt, type SchemaIssue } from '../config/schema.js';
import { formatCoords } from '../util/coords.js';

export { ConfigError } from '../config/errors.js';
export type { WiredInput } from './dag.js';

/** One cell of an instance's own sweep (before joining with upstream cells). */
export interface OwnCell {
  /** Own sweep coordinates, e.g. { cut: 'block3_pool', seed: 0 }. */
  coords: Coords;
  /** Canonical params: schema defaults filled in, sweep values applied. */
  params: Record<string, unknown>;
}

export interface LoadedInstance {
  name: string;
  stageName: string;
  stage: StageDefinition;
  inputs: Record<string, WiredInput>;
  /** Own sweep keys, in order. */
  ownAxes: string[];
  /** Own axes plus those inherited from upstream cells (gathered axes excluded). */
  axes: string[];
  cells: OwnCell[];
  /** Exclusions naming inherited coordinates: applied when the plan joins upstream cells. */
  lateExcludes: { entry: Record<string, unknown>; index: number }[];
  timeoutSec?: number;
  retries?: number;
}

export interface LoadedPipeline {
  /** Absolute path of the pipeline file. */
  file: string;
  projectRoot: string;
  pipelineDir: string;
  name: string;
  /** The resolved document (extends/include/vars/use/--set applied). */
  doc: JsonObject;
  /** Source position of every value (and key) of `doc`, by JSON pointer. */
  positions: Map<string, ChildOrigin>;
  /** Instance names, every instance after the ones it consumes. */
  order: string[];
  instances: Record<string, LoadedInstance>;
  /** settings of the pipeline (backend defaults to 'auto'), plus `requirements` when given. */
  settings: Record<string, unknown>;
  /** sha256 of the resolved document. */
  hash: string;
}

export interface LoadOptions {
  /** `path=value` overrides, as given to --set. */
  sets?: string[];
  /** Where configs/ lives; default: the nearest folder above the pipeline holding package.json. */
  projectRoot?: string;
}

/** Where the value (or key) at `path` of the resolved document was written. */
export function originAt(positions: Map<string, ChildOrigin>, path: (string | number)[], atKey = false): Origin | undefined {
  for (let n = path.length; n >= 0; n--) {
    const o = positions.get(toPointer(path.slice(0, n)));
    if (!o) continue;
    if (n === path.length) return atKey ? o.key ?? o.value : o.value ?? o.key;
    return o.value ?? o.key;
  }
  return undefined;
}

export function findProjectRoot(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Cap on per-cell problems reported per instance (a bad base param fails every cell). */
const MAX_CELL_PROBLEMS = 20;

export async function loadPipeline(file: string, opts: LoadOptions = {}): Promise<LoadedPipeline> {
  const abs = resolve(file);
  const pipelineDir = dirname(abs);
  const projectRoot = resolve(opts.projectRoot ?? findProjectRoot(pipelineDir) ?? pipelineDir);
  const problems = new Problems();

  // 1. Read and resolve the layers.
  const resolved = resolvePipeline(abs, { projectRoot, sets: opts.sets ?? [] }, problems);
  problems.throwIfAny();
  const doc = resolved!.doc;
  const positions = collectPositions(doc, resolved!.rootOrigin);
  const at = (path: (string | number)[], atKey = false) => originAt(positions, path, atKey);
  const report = (base: (string | number)[], issues: SchemaIssue[]) => {
    for (const issue of issues) {
      const path = [...base, ...fromPointer(issue.pointer)];
      problems.add(at(path, issue.atKey), path, issue.message);
    }
  };

  // 2. The pipeline's own shape. Instances with shape problems are left out of the later
  // checks, the others are still checked so that one pass reports everything.
  const shapeIssues = checkSchema(PipelineSchema, doc, false);
  report([], shapeIssues);
  if (!isObject(doc.stages) || shapeIssues.some((i) => i.pointer === '/stages')) problems.throwIfAny();
  const misshapen = new Set(shapeIssues.filter((i) => i.pointer.startsWith('/stages/')).map((i) => fromPointer(i.pointer)[1]));

  const name = typeof doc.name === 'string' ? doc.name : basename(abs, extname(abs));
  if (!SAFE_NAME.test(name)) {
    problems.add(at(['name']), ['name'], `the pipeline needs a name made of letters, digits, "_", "." and "-" (starting with a letter or digit); the file name "${name}" is not one: add name: <name>`);
  }
  const stagesDoc = doc.stages as Record<string, JsonObject>;
  const allInstances = Object.keys(stagesDoc);
  const instanceNames = allInstances.filter((n) => !misshapen.has(n));
  for (const inst of allInstances) {
    if (!SAFE_NAME.test(inst)) {
      problems.add(at(['stages', inst], true), ['stages', inst], `instance name "${inst}" must be made of letters, digits, "_", "." and "-", starting with a letter or digit`);
    }
  }

  // 3. Stage definitions.
  const stages = new Map<string, StageDefinition>();
  await Promise.all(instanceNames.map(async (inst) => {
    const stageName = stagesDoc[inst].stage as string;
    try {
      stages.set(inst, await loadStage(stageName));
    } catch (e) {
      if (e instanceof UnknownStageError) {
        problems.add(at(['stages', inst, 'stage']), ['stages', inst, 'stage'], e.message);
      } else throw e;
    }
  }));
  const checked = instanceNames.filter((n) => stages.has(n));

  // 4. Wiring and order.
  const wiring = new Map<string, Record<string, WiredInput>>();
  const known = new Set(allInstances);
  const incomplete = new Set<string>();
  for (const inst of checked) {
    const wp: WiringProblem[] = [];
    const raw = (stagesDoc[inst].inputs ?? {}) as Record<string, RawInput>;
    wiring.set(inst, wireInputs(stages.get(inst)!, raw, known, wp));
    if (wp.length) incomplete.add(inst);
    for (const p of wp) {
      const path = ['stages', inst, ...p.path];
      problems.add(at(path, p.atKey), path, p.message);
    }
  }
  const topo = topoOrder(checked, (n) => Object.values(wiring.get(n) ?? {}).map((w) => w.from));
  if ('cycle' in topo) {
    const first = topo.cycle[0];
    problems.add(at(['stages', first, 'inputs']), ['stages', first, 'inputs'], `dependency cycle: ${topo.cycle.join(' → ')}`);
  }
  // Wiring problems do not stop the params checks: every problem is reported in one pass.
  const order = 'order' in topo ? topo.order : checked;

  // 5. Sweeps, params and axes, in dependency order.
  const ctx: PlanContext = { pipelineDir, projectRoot };
  const instances: Record<string, LoadedInstance> = {};
  for (const inst of order) {
    // Downstream of a wiring problem the coordinates are unknown: skip the checks that need them.
    if (Object.values(wiring.get(inst)!).some((w) => incomplete.has(w.from) || !instances[w.from])) incomplete.add(inst);
    const loaded = loadInstance(inst, stagesDoc[inst], stages.get(inst)!, wiring.get(inst)!, instances, ctx, problems, at, incomplete.has(inst), doc.requirements);
    if (loaded) instances[inst] = loaded;
  }
  problems.throwIfAny();

  const settings: Record<string, unknown> = { backend: 'auto', ...((doc.settings as JsonObject | undefined) ?? {}) };
  if (doc.requirements !== undefined) settings.requirements = doc.requirements;
  return { file: abs, projectRoot, pipelineDir, name, doc, positions, order, instances, settings, hash: hashJson(doc) };
}

type At = (path: (string | number)[], atKey?: boolean) => Origin | undefined;

/** What every step of loading one instance reads: its spec, stage, schema and where to report. */
interface InstanceScope {
  inst: string;
  base: (string | number)[];
  spec: JsonObject;
  stage: StageDefinition;
  schema: TSchema;
  sweep: SweepSpec;
  problems: Problems;
  at: At;
}

type SweepSpec = { grid?: Record<string, unknown[]>; zip?: Record<string, unknown[]>; exclude?: Record<string, unknown>[] };
type Exclusion = { entry: Record<string, unknown>; index: number };

/**
 * One instance: its coordinates (axes), its sweep keys and exclusions checked, its own cells
 * expanded and each cell's params validated. Undefined when it has problems (reported).
 */
function loadInstance(
  inst: string,
  spec: JsonObject,
  stage: StageDefinition,
  inputs: Record<string, WiredInput>,
  upstream: Record<string, LoadedInstance>,
  ctx: PlanContext,
  problems: Problems,
  at: At,
  axesUnknown: boolean,
  topLevelRequirements: unknown,
): LoadedInstance | undefined {
  const before = problems.size;
  const scope: InstanceScope = {
    inst, base: ['stages', inst], spec, stage, schema: stage.params as TSchema, sweep: (spec.sweep ?? {}) as SweepSpec, problems, at,
  };
  const { ownAxes, axes } = instanceAxes(scope, inputs, upstream, axesUnknown);
  checkSweepKeys(scope);
  const { ownExcludes, lateExcludes } = sortExclusions(scope, axes, ownAxes, axesUnknown);
  if (problems.size > before) return undefined;
  const coordsList = expandOwnCoords(scope, ownExcludes);
  if (problems.size > before) return undefined;
  const cells = ownCells(scope, coordsList, ownAxes, ctx, topLevelRequirements);
  if (problems.size > before) return undefined;
  return {
    name: inst,
    stageName: stage.name,
    stage,
    inputs,
    ownAxes,
    axes: [...axes],
    cells,
    lateExcludes,
    timeoutSec: spec.timeoutSec as number | undefined,
    retries: spec.retries as number | undefined,
  };
}

/** Axes: own sweep keys plus upstream ones, minus gathered axes (which must be upstream axes). */
function instanceAxes(s: InstanceScope, inputs: Record<string, WiredInput>, upstream: Record<string, LoadedInstance>, axesUnknown: boolean): { ownAxes: string[]; axes: Set<string> } {
  const ownAxes = [...Object.keys(s.sweep.grid ?? {}), ...Object.keys(s.sweep.zip ?? {})];
  const axes = new Set(ownAxes);
  for (const [input, w] of Object.entries(inputs)) {
    const up = upstream[w.from];
    if (!up) continue; // a cycle, or the upstream has problems of its own (already reported)
    w.gather.forEach((axis, i) => {
      if (!axesUnknown && !up.axes.includes(axis)) {
        const path = [...s.base, 'inputs', input, 'gather', i];
        s.problems.add(s.at(path), path, `"${axis}" is not a coordinate of ${w.from} (${up.axes.length ? `its coordinates: ${up.axes.join(', ')}` : 'it is not swept'})`);
      }
    });
    for (const axis of up.axes) if (!w.gather.includes(axis)) axes.add(axis);
  }
  return { ownAxes, axes };
}

/** Sweep keys: valid param paths, non-empty lists, equal zip lengths, values valid for their param. */
function checkSweepKeys(s: InstanceScope): void {
  const { base, problems, at, schema, stage, sweep } = s;
  const seen = new Set<string>();
  let zipLength: number | undefined;
  for (const kind of ['grid', 'zip'] as const) {
    for (const [key, values] of Object.entries(sweep[kind] ?? {})) {
      const path = [...base, 'sweep', kind, key];
      if (seen.has(key)) {
        problems.add(at(path, true), path, `"${key}" is swept twice (in grid and zip)`);
        continue;
      }
      seen.add(key);
      const segs = key.split('.');
      const sub = segs.every((x) => x !== '') ? subSchemaAt(schema, segs) : undefined;
      if (!sub) {
        const parent = subSchemaAt(schema, segs.slice(0, -1));
        const options = keysAt(parent);
        problems.add(at(path, true), path, `"${key}" is not a param of stage ${stage.name}${options.length ? ` (expected one of: ${options.map((o) => [...segs.slice(0, -1), o].join('.')).join(', ')})` : ''}`);
        continue;
      }
      if (values.length === 0) {
        problems.add(at(path), path, 'empty sweep: this list has no values, so the stage would have no cells');
        continue;
      }
      if (kind === 'zip') {
        if (zipLength === undefined) zipLength = values.length;
        else if (values.length !== zipLength) {
          problems.add(at(path), path, `zip lists must have equal lengths: this one has ${values.length} values, the first has ${zipLength}`);
        }
      }
      values.forEach((v, i) => {
        // On a copy with defaults filled in: the coordinate keeps the value as written.
        for (const issue of checkSchema(sub, structuredClone(v), true)) {
          const p = [...path, i, ...fromPointer(issue.pointer)];
          problems.add(at(p, issue.atKey), p, issue.message);
        }
      });
    }
  }
}

/**
 * Exclusions: partial coordinate maps over known axes. Those over own axes only apply while
 * expanding; the others once the upstream cells are joined (at plan time).
 */
function sortExclusions(s: InstanceScope, axes: Set<string>, ownAxes: string[], axesUnknown: boolean): { ownExcludes: Exclusion[]; lateExcludes: Exclusion[] } {
  const ownExcludes: Exclusion[] = [];
  const lateExcludes: Exclusion[] = [];
  (axesUnknown ? [] : s.sweep.exclude ?? []).forEach((entry, index) => {
    const path = [...s.base, 'sweep', 'exclude', index];
    const keys = Object.keys(entry);
    if (keys.length === 0) {
      s.problems.add(s.at(path), path, 'an empty exclusion would exclude every cell');
      return;
    }
    const bad = keys.filter((k) => !axes.has(k));
    for (const k of bad) {
      s.problems.add(s.at([...path, k], true), [...path, k], `"${k}" is not a coordinate of ${s.inst} (${axes.size ? `its coordinates: ${[...axes].join(', ')}` : 'it has none'})`);
    }
    if (bad.length) return;
    (keys.every((k) => ownAxes.includes(k)) ? ownExcludes : lateExcludes).push({ entry, index });
  });
  return { ownExcludes, lateExcludes };
}

/** The own sweep expanded, minus the own exclusions (each of which must match a cell). */
function expandOwnCoords(s: InstanceScope, ownExcludes: Exclusion[]): Coords[] {
  let coordsList = expandSweep(s.sweep);
  if (ownExcludes.length) {
    const texts = ownExcludes.map((e) => entryTexts(e.entry));
    const used = new Set<number>();
    coordsList = coordsList.filter((c) => {
      for (let i = 0; i < ownExcludes.length; i++) {
        if (matchesEntry(c, ownExcludes[i].entry, texts[i])) { used.add(i); return false; }
      }
      return true;
    });
    ownExcludes.forEach((e, i) => {
      if (!used.has(i)) {
        const path = [...s.base, 'sweep', 'exclude', e.index];
        s.problems.add(s.at(path), path, `this exclusion matches no cell of ${s.inst} (check its values against the sweep)`);
      }
    });
    if (coordsList.length === 0) {
      const path = [...s.base, 'sweep', 'exclude'];
      s.problems.add(s.at(path), path, `empty sweep: the exclusions remove every cell of ${s.inst}`);
    }
  }
  return coordsList;
}

/** Each own cell's params (defaults filled), checked by the schema and the stage's validate. */
function ownCells(s: InstanceScope, coordsList: Coords[], ownAxes: string[], ctx: PlanContext, topLevelRequirements: unknown): OwnCell[] {
  const { base, problems, at, schema, stage, sweep, spec } = s;
  const baseParams = { ...((spec.params ?? {}) as Record<string, unknown>) };
  // The pipeline's top-level `requirements:` block is handed to every stage that takes a
  // `requirements` param and does not set its own: so the stage's schema checks it and it
  // enters the cells' keys (a changed requirement re-runs the recommendation).
  const injectRequirements = topLevelRequirements !== undefined && !('requirements' in baseParams)
    && !ownAxes.includes('requirements') && subSchemaAt(schema, ['requirements']) !== undefined;
  if (injectRequirements) baseParams.requirements = topLevelRequirements;
  const baseText = JSON.stringify(baseParams);
  const axisPaths = ownAxes.map((k) => k.split('.'));
  const cells: OwnCell[] = [];
  const seenParams = new Map<string, Coords>();
  let cellProblems = 0;
  const messages = new Set<string>();
  const addCellProblem = (origin: Origin | undefined, path: (string | number)[], message: string): void => {
    const key = `${path.join('\0')}\0${message}`;
    if (messages.has(key)) return;
    messages.add(key);
    cellProblems++;
    if (cellProblems <= MAX_CELL_PROBLEMS) problems.add(origin, path, message);
  };
  for (const coords of coordsList) {
    const params = JSON.parse(baseText) as Record<string, unknown>;
    ownAxes.forEach((k, i) => setAtPath(params, axisPaths[i], structuredClone(coords[k])));
    const issues = checkSchema(schema, params, true);
    const cellNote = ownAxes.length ? ` (in the cell ${describeCoords(coords)})` : '';
    for (const issue of issues) {
      const segs = fromPointer(issue.pointer);
      const swept = ownAxes.findIndex((k, i) => axisPaths[i].every((x, j) => segs[j] === x));
      const path = injectRequirements && segs[0] === 'requirements' ? segs : [...base, 'params', ...segs];
      const origin = swept >= 0 ? sweepValueOrigin(at, base, sweep, ownAxes[swept], coords[ownAxes[swept]]) : at(path, issue.atKey);
      addCellProblem(origin, path, issue.message + (swept >= 0 ? cellNote : ''));
    }
    if (issues.length === 0 && stage.validate) {
      for (const msg of stage.validate(params, ctx)) {
        // Messages written "<param path>: what is wrong" are placed at that param (or at the
        // sweep value that set it).
        const m = /^([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*): (.+)$/s.exec(msg);
        const segs = m ? m[1].split('.') : [];
        if (m && hasPath(params, segs)) {
          const swept = ownAxes.findIndex((k, i) => axisPaths[i].every((x, j) => segs[j] === x));
          const path = injectRequirements && segs[0] === 'requirements' ? segs : [...base, 'params', ...segs];
          const origin = swept >= 0 ? sweepValueOrigin(at, base, sweep, ownAxes[swept], coords[ownAxes[swept]]) : at(path);
          addCellProblem(origin, path, m[2] + cellNote);
        } else {
          addCellProblem(at([...base, 'params']), [...base, 'params'], msg + cellNote);
        }
      }
    }
    const text = canonicalJson(params);
    const dup = seenParams.get(text);
    if (dup) {
      problems.add(at([...base, 'sweep']), [...base, 'sweep'], `the cells ${describeCoords(dup)} and ${describeCoords(coords)} have identical params (a value repeats in the sweep)`);
      break;
    }
    seenParams.set(text, coords);
    cells.push({ coords, params });
  }
  if (cellProblems > MAX_CELL_PROBLEMS) {
    problems.add(at([...base, 'params']), [...base, 'params'], `… and ${cellProblems - MAX_CELL_PROBLEMS} more problems in other cells`);
  }
  return cells;
}

function sweepValueOrigin(at: At, base: (string | number)[], sweep: { grid?: Record<string, unknown[]>; zip?: Record<string, unknown[]> }, key: string, value: unknown): Origin | undefined {
  const kind = sweep.grid && key in sweep.grid ? 'grid' : 'zip';
  const list = sweep[kind]?.[key] ?? [];
  const text = coordText(value);
  const i = list.findIndex((v) => coordText(v) === text);
  return at([...base, 'sweep', kind, key, ...(i >= 0 ? [i] : [])]);
}

function hasPath(value: unknown, segs: string[]): boolean {
  let cur = value;
  for (const seg of segs) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return false;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return segs.length > 0;
}

export function describeCoords(coords: Coords): string {
  // Mappings and lists (e.g. a class subset) read as their shortened items; scalars keep quotes
  // where needed so that a value with spaces or line breaks stays visible.
  const parts = Object.entries(coords).map(([k, v]) => v !== null && typeof v === 'object'
    ? formatCoords({ [k]: v })
    : `${k}=${typeof v === 'string' && /^[\w./:@+-]+$/.test(v) ? v : describeValue(v)}`);
  return parts.length ? `{${parts.join(', ')}}` : '{}';
}
