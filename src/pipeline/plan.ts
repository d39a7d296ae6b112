// buildPlan: a loaded pipeline → every cell to run, in dependency order, each with its content
// id, Merkle cache key and the key's parts. Downstream cells are joined to upstream cells on the
// coordinates they share (map) or receive groups of them (gather).
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { canonicalJson, sha256 } from '../util/hash.js';
import type { LoadedInstance, LoadedPipeline, OwnCell } from './load.js';
import { originAt } from './load.js';
import { Problems } from '../config/errors.js';
import type { PlanContext } from '../stages/types.js';
import type { BlockedBy, KeyParts, Plan, PlannedCell, PlannedInput } from './types.js';
import { stageCodeHash } from './code-hash.js';
import { FileIndex, MissingInputError } from '../store/file-index.js';
import { coordText, entryTexts, matchesEntry, slotName, type Coords } from './sweep.js';
import { formatCoords } from '../util/coords.js';
import { plannedBackend } from '../ml/planned-backend.js';

export interface PlanOptions {
  /** The store folder; external-input hashes are indexed in <storeDir>/cache. */
  storeDir: string;
  /** Overrides of the pipeline's settings (e.g. { backend: 'wasm' } from --backend). */
  settings?: Record<string, unknown>;
  /**
   * A dry run (`sei plan`): a missing external input does not stop the plan; the cells that
   * need it (and every cell downstream) are planned as blocked, keyed with a placeholder hash.
   * Without it a missing external input is a ConfigError (`sei run` refuses to start).
   */
  allowMissingInputs?: boolean;
}

/** External-input hash recorded for a path that does not exist (dry runs only). */
export const MISSING_INPUT_HASH = 'missing';

/** Problems reported per gathered input whose groups are smaller than the stage's minItems. */
const MAX_MIN_ITEMS_PROBLEMS = 5;

interface Row {
  coords: Coords;
  own: OwnCell;
  upstream: Record<string, PlannedCell | PlannedCell[]>;
}

interface Candidate {
  coords: Coords;
  value: PlannedCell | PlannedCell[];
}

export async function buildPlan(loaded: LoadedPipeline, opts: PlanOptions): Promise<Plan> {
  const problems = new Problems();
  // Planning never creates a store: without one, external inputs are hashed without the index.
  const storeDir = resolve(opts.storeDir);
  const index = new FileIndex(join(storeDir, 'cache'), existsSync(storeDir));
  const ctx: PlanContext = { pipelineDir: loaded.pipelineDir, projectRoot: loaded.projectRoot };
  const cellsOf = new Map<string, PlannedCell[]>();
  const all: PlannedCell[] = [];
  const settings = { ...loaded.settings, ...(opts.settings ?? {}) };
  // Resolved once, and only when a stage computes on a backend (resolving `auto` may load one).
  const backend = loaded.order.some((name) => loaded.instances[name].stage.usesBackend === true)
    ? await plannedBackend(settings.backend) : undefined;
  try {
    for (const name of loaded.order) {
      const inst = loaded.instances[name];
      const rows = joinRows(inst, cellsOf, loaded, problems);
      if (!rows) continue;
      const before = problems.size;
      const cells = planCells(inst, rows, loaded, ctx, index, problems, opts.allowMissingInputs === true, inst.stage.usesBackend === true ? backend : undefined);
      // With problems of its own, the instance's downstream is not planned (and not blamed).
      if (problems.size > before) continue;
      cellsOf.set(name, cells);
      for (const c of cells) all.push(c);
    }
    // Only a plan without problems keeps its new hashes: a config error writes nothing.
    if (problems.size === 0) index.flush();
  } finally {
    index.close();
  }
  problems.throwIfAny();
  return {
    pipeline: { name: loaded.name, file: loaded.file, hash: loaded.hash },
    cells: all,
    settings,
    ...(loaded.doc.executor !== undefined ? { executor: loaded.doc.executor } : {}),
  };
}

/** Joins an instance's own cells with its upstream cells; applies late exclusions. */
function joinRows(inst: LoadedInstance, cellsOf: Map<string, PlannedCell[]>, loaded: LoadedPipeline, problems: Problems): Row[] | undefined {
  let rows: Row[] = inst.cells.map((own) => ({ coords: { ...own.coords }, own, upstream: {} }));
  const rowAxes = new Set(inst.ownAxes);
  for (const input of Object.keys(inst.inputs).sort()) {
    const w = inst.inputs[input];
    const upCells = cellsOf.get(w.from);
    if (!upCells) return undefined; // upstream failed to plan; its problem is reported
    const upAxes = loaded.instances[w.from].axes;
    let candidates: Candidate[];
    let candAxes: string[];
    if (w.kind === 'many') {
      const gathered = new Set(w.gather);
      candAxes = upAxes.filter((a) => !gathered.has(a));
      const groups = new Map<string, Candidate>();
      for (const cell of upCells) {
        const residual: Coords = {};
        for (const a of candAxes) if (a in cell.coords) residual[a] = cell.coords[a];
        const k = canonicalJson(residual);
        let g = groups.get(k);
        if (!g) groups.set(k, g = { coords: residual, value: [] });
        (g.value as PlannedCell[]).push(cell);
      }
      candidates = [...groups.values()];
    } else {
      candAxes = upAxes;
      candidates = upCells.map((cell) => ({ coords: cell.coords, value: cell }));
    }
    const shared = candAxes.filter((a) => rowAxes.has(a)).sort();
    const keyOf = (c: Coords) => shared.map((a) => coordText(c[a])).join('\0');
    const byKey = new Map<string, Candidate[]>();
    for (const c of candidates) {
      const k = keyOf(c.coords);
      const list = byKey.get(k);
      if (list) list.push(c); else byKey.set(k, [c]);
    }
    const next: Row[] = [];
    for (const row of rows) {
      for (const c of byKey.get(keyOf(row.coords)) ?? []) {
        next.push({ coords: { ...row.coords, ...c.coords }, own: row.own, upstream: { ...row.upstream, [input]: c.value } });
      }
    }
    rows = next;
    for (const a of candAxes) rowAxes.add(a);
  }
  const base = ['stages', inst.name];
  if (rows.length === 0) {
    problems.add(originAt(loaded.positions, [...base, 'inputs']), [...base, 'inputs'],
      `${inst.name} has no cells: the cells of its inputs (${Object.values(inst.inputs).map((w) => w.from).join(', ')}) never agree on their shared coordinates`);
    return undefined;
  }
  if (inst.lateExcludes.length) {
    const texts = inst.lateExcludes.map((e) => entryTexts(e.entry));
    const used = new Set<number>();
    rows = rows.filter((r) => {
      for (let i = 0; i < texts.length; i++) {
        if (matchesEntry(r.coords, inst.lateExcludes[i].entry, texts[i])) { used.add(i); return false; }
      }
      return true;
    });
    inst.lateExcludes.forEach((e, i) => {
      if (used.has(i)) return;
      const path = [...base, 'sweep', 'exclude', e.index];
      problems.add(originAt(loaded.positions, path), path, `this exclusion matches no cell of ${inst.name} (check its values against the coordinates)`);
    });
    if (rows.length === 0) {
      const path = [...base, 'sweep', 'exclude'];
      problems.add(originAt(loaded.positions, path), path, `empty sweep: the exclusions remove every cell of ${inst.name}`);
      return undefined;
    }
  }
  return rows;
}

function planCells(inst: LoadedInstance, rows: Row[], loaded: LoadedPipeline, ctx: PlanContext, index: FileIndex, problems: Problems, allowMissing: boolean, backend: string | undefined): PlannedCell[] {
  const { codeHash, codeHashes } = stageCodeHash(inst.stage);
  const paramsText = new Map<OwnCell, { text: string; hash: string; external: ExternalHashes | undefined }>();
  checkMinItems(inst, rows, loaded, problems);
  const inputNames = Object.keys(inst.inputs).sort();
  const upstreamInstances: Record<string, string> = {};
  for (const input of inputNames) upstreamInstances[input] = inst.inputs[input].from;
  const out: PlannedCell[] = [];
  for (const row of rows) {
    let own = paramsText.get(row.own);
    if (!own) {
      const text = canonicalJson(row.own.params);
      own = { text, hash: sha256(text), external: externalHashes(inst, row.own, loaded, ctx, index, problems, allowMissing) };
      paramsText.set(row.own, own);
    }
    if (!own.external) continue;
    const upstreamIds: Record<string, string | string[]> = {};
    const upstreamKeys: Record<string, string | string[]> = {};
    const inputs: Record<string, PlannedInput> = {};
    const missing = new Set(own.external.missing);
    let blockedVia: string | undefined;
    for (const input of inputNames) {
      const up = row.upstream[input];
      const from = inst.inputs[input].from;
      for (const c of Array.isArray(up) ? up : [up]) {
        if (!c.blocked) continue;
        for (const m of c.blocked.missing) missing.add(m);
        blockedVia ??= c.blocked.reason.startsWith('upstream ') ? c.blocked.reason : `upstream ${from}: ${c.blocked.reason}`;
      }
      if (Array.isArray(up)) {
        upstreamIds[input] = up.map((c) => c.id);
        upstreamKeys[input] = up.map((c) => c.key);
        inputs[input] = { from, kind: 'many', cellIds: up.map((c) => c.id) };
      } else {
        upstreamIds[input] = up.id;
        upstreamKeys[input] = up.key;
        inputs[input] = { from, kind: 'one', cellIds: [up.id] };
      }
    }
    const id = sha256('sei-cell-v1', inst.stageName, inst.name, own.text, canonicalJson(upstreamIds));
    const keyed = [id, codeHash, canonicalJson(own.external.hashes), canonicalJson(upstreamKeys)];
    // Only stages that compute on a backend have it in their key: the others keep theirs.
    if (backend !== undefined) keyed.push(`backend\0${backend}`);
    const key = sha256('sei-key-v1', ...keyed);
    const keyParts: KeyParts = {
      paramsHash: own.hash,
      params: row.own.params,
      codeHash,
      codeHashes,
      externalHashes: own.external.hashes,
      upstreamKeys,
      upstreamInstances,
      ...(backend !== undefined ? { backend } : {}),
    };
    const cell: PlannedCell = {
      id,
      key,
      instance: inst.name,
      stage: inst.stageName,
      params: row.own.params,
      coords: row.coords,
      slot: slotName(inst.name, row.coords),
      inputs,
      keyParts,
    };
    if (inst.timeoutSec !== undefined) cell.timeoutSec = inst.timeoutSec;
    if (inst.retries !== undefined) cell.retries = inst.retries;
    if (missing.size > 0) {
      const blocked: BlockedBy = {
        missing: [...missing].sort(),
        reason: own.external.missing.length > 0
          ? own.external.missing.map((m) => `input ${m} missing`).join('; ')
          : blockedVia!,
      };
      cell.blocked = blocked;
    }
    out.push(cell);
  }
  return out;
}

interface ExternalHashes {
  hashes: Record<string, string>;
  /** Paths that do not exist (each hashed as MISSING_INPUT_HASH); empty unless allowMissing. */
  missing: string[];
}

/**
 * Content hashes of the stage's external inputs for one own cell. A missing path is a problem
 * (undefined is returned) unless `allowMissing`, where it gets the placeholder hash.
 */
function externalHashes(inst: LoadedInstance, own: OwnCell, loaded: LoadedPipeline, ctx: PlanContext, index: FileIndex, problems: Problems, allowMissing: boolean): ExternalHashes | undefined {
  if (!inst.stage.externalInputs) return { hashes: {}, missing: [] };
  const hashes: Record<string, string> = {};
  const missing: string[] = [];
  let ok = true;
  for (const raw of inst.stage.externalInputs(own.params, ctx)) {
    const path = isAbsolute(raw) ? raw : resolve(loaded.projectRoot, raw);
    try {
      hashes[path] = index.hashPath(path).hash;
    } catch (e) {
      if (!(e instanceof MissingInputError)) throw e;
      if (allowMissing) {
        hashes[path] = MISSING_INPUT_HASH;
        missing.push(path);
        continue;
      }
      const where = findValue(loaded, inst.name, raw, path);
      const hint = inst.stage.missingInputHint?.(path, own.params);
      problems.add(originAt(loaded.positions, where), where, `external input ${path} does not exist${hint ? ` (${hint})` : ''}`);
      ok = false;
    }
  }
  return ok ? { hashes, missing } : undefined;
}

/**
 * A gathered input with `minItems` in the stage's declaration: every group of upstream cells
 * must be at least that large, or the stage would fail only at run time after all its upstream
 * work (e.g. a rank correlation over two cut points).
 */
function checkMinItems(inst: LoadedInstance, rows: Row[], loaded: LoadedPipeline, problems: Problems): void {
  for (const input of Object.keys(inst.inputs).sort()) {
    const min = inst.stage.inputs[input]?.minItems;
    const distinctBy = inst.stage.inputs[input]?.distinctBy;
    const w = inst.inputs[input];
    if (min === undefined || w.kind !== 'many') continue;
    const path = ['stages', inst.name, 'inputs', input];
    const seen = new Set<string>();
    let reported = 0;
    let more = 0;
    for (const row of rows) {
      const up = row.upstream[input];
      if (!Array.isArray(up)) continue;
      const count = distinctBy === undefined ? up.length
        : new Set(up.map((c) => JSON.stringify(c.coords[distinctBy] ?? c.id))).size;
      if (count >= min) continue;
      const text = up.map((c) => gatheredText(c, w.gather)).join(', ');
      const inCell = Object.keys(row.coords).length > 0 && rows.length > 1
        ? ` (in the cell {${Object.entries(row.coords).map(([k, v]) => coordPair(k, v)).join(', ')}})` : '';
      const counted = distinctBy === undefined
        ? `${up.length} cell${up.length === 1 ? '' : 's'}`
        : `${count} distinct ${distinctBy} value${count === 1 ? '' : 's'} in ${up.length} cell${up.length === 1 ? '' : 's'}`;
      const message = `gathers ${counted} from '${w.from}'${text ? ` (${text})` : ''} but stage '${inst.stageName}' needs at least ${min}${distinctBy === undefined ? '' : ` distinct ${distinctBy} values`}`;
      if (seen.has(message)) continue;
      seen.add(message);
      if (reported < MAX_MIN_ITEMS_PROBLEMS) {
        problems.add(originAt(loaded.positions, path), path, message + inCell);
        reported++;
      } else more++;
    }
    if (more > 0) problems.add(originAt(loaded.positions, path), path, `… and ${more} more cells of ${inst.name} with too few '${w.from}' cells`);
  }
}

/** `cut=block1_pool` (the gathered coordinates of one upstream cell). */
function gatheredText(cell: PlannedCell, axes: string[]): string {
  const parts = axes.filter((a) => a in cell.coords).map((a) => coordPair(a, cell.coords[a]));
  return parts.length ? parts.join(' ') : cell.id.slice(0, 12);
}

/** `cut=block1_pool`, `dataset.classes={"names":["A","B"]}` (long values shortened). */
function coordPair(axis: string, v: unknown): string {
  if (v !== null && typeof v === 'object') return formatCoords({ [axis]: v });
  const text = typeof v === 'string' && /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  return `${axis}=${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/** The path of the param (or sweep value) holding `raw` or `abs`, for the error position. */
function findValue(loaded: LoadedPipeline, inst: string, raw: string, abs: string): (string | number)[] {
  const base = ['stages', inst];
  let found: (string | number)[] | undefined;
  const walk = (v: unknown, path: (string | number)[]) => {
    if (found) return;
    if (typeof v === 'string') {
      if (v === raw || v === abs || resolve(loaded.projectRoot, v) === abs || resolve(v) === abs) found = path;
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  const spec = (loaded.doc.stages as Record<string, unknown>)[inst] as Record<string, unknown>;
  walk(spec.params, [...base, 'params']);
  walk(spec.sweep, [...base, 'sweep']);
  return found ?? [...base, 'params'];
}
