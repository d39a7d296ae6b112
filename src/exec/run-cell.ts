// One cell of a run, attempt after attempt: room on the disk first, then the executor, then the
// outcome recorded — committed into the store when it succeeded, retried within the cell's
// allowance when it failed, recorded interrupted when the run stopped it or the disk filled.
// Everything a cell shares with the rest of the run is in the RunState it is given.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NotCachedReason, Plan, PlannedCell } from '../pipeline/types.js';
import type { UpstreamOutput } from '../stages/types.js';
import type { Store } from '../store/store.js';
import { diskFullAt, diskReserveBytes, ensureFreeSpace, folderBytes, isOutOfSpace, type DiskFullError } from '../util/disk-space.js';
import { commitCell } from './commit.js';
import type { RunControl } from './run-control.js';
import type { RunEvent, RunSummary } from './run-events.js';
import type { LockWorkers } from './run-lock.js';
import type { CellOutcome } from './schedule.js';
import type { CellFailure, CellSpec, CellSuccess, Executor, FailureKind, SubmitHooks } from './types.js';

/** What the cells of one run share. */
export interface RunState {
  readonly plan: Plan;
  readonly store: Store;
  readonly executor: Executor;
  readonly runId: string;
  /** The run's log folder, relative to the store. */
  readonly logRelDir: string;
  /** Provenance known before any cell runs (git state, versions); the worker adds its own. */
  readonly provenance: Record<string, unknown>;
  /** Bytes a cell of a stage is expected to write. */
  expected(stage: string): number;
  /** Why each cell to run is not cached, recorded with its first start. */
  readonly notCached: Map<string, NotCachedReason[]>;
  /** The outputs of finished cells (cached or done in this run): the inputs of the next ones. */
  readonly outputs: Map<string, UpstreamOutput>;
  /** Depth in the DAG: the executor's priority. */
  readonly depth: Map<string, number>;
  readonly summary: RunSummary;
  readonly control: RunControl;
  readonly workers: LockWorkers;
  /** Another run took the store over: this one records nothing more. */
  lockLost(): boolean;
  /** false: the first failed cell stops the run. */
  readonly keepGoing: boolean;
  emit(event: RunEvent): void;
}

/** One attempt of a cell: where it writes and logs. */
interface Attempt {
  cell: PlannedCell;
  attempt: number;
  logRel: string;
  logPath: string;
  outDir: string;
}

export function toUpstream(cell: PlannedCell, dir: string, metrics: Record<string, unknown>): UpstreamOutput {
  return { cellId: cell.id, stage: cell.stage, instance: cell.instance, coords: cell.coords, params: cell.params, dir, metrics };
}

/** Files-safe fragment of an instance name. */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60);
}

export async function runCell(run: RunState, cell: PlannedCell): Promise<CellOutcome> {
  const logRel = join(run.logRelDir, `${safeName(cell.instance)}-${cell.id.slice(0, 12)}.log`);
  const logPath = run.store.abs(logRel);
  for (let attempt = 1; ; attempt++) {
    if (run.control.stopping) return 'stopped';
    if (!roomFor(run, cell)) return 'stopped';
    const outDir = join(run.store.tmpDir, `${cell.key.slice(0, 16)}-${attempt}-${randomBytes(3).toString('hex')}`);
    const a: Attempt = { cell, attempt, logRel, logPath, outDir };
    const watch = watchAttempt(run, a);
    // Awaited directly, with nothing async in between: when this attempt ends the run must be
    // able to stop (abortAll) before the executor's queue hands the freed worker its next cell.
    const result = await run.executor.submit(cellSpec(run, a), watch.hooks);
    watch.ended();
    if (result.ok) return commitOrFail(run, a, result);
    if (result.failure !== 'aborted' && isOutOfSpace(result.error)) return hitFullDisk(run, a, result.error);
    rmSync(outDir, { recursive: true, force: true });
    if (result.failure === 'aborted') return stopped(run, a, result, watch.started() || result.started);
    if (failed(run, a, result, result.failure) === 'retry') continue;
    return 'failed';
  }
}

/** Room on the disk for what a cell of this stage writes; a full disk stops the run. */
function roomFor(run: RunState, cell: PlannedCell): boolean {
  try {
    ensureFreeSpace(run.store.dir, run.expected(cell.stage) + diskReserveBytes(), `cell ${cell.instance} ${cell.id.slice(0, 12)} (stage ${cell.stage})`);
    return true;
  } catch (e) {
    if (!isOutOfSpace(e)) throw e;
    run.control.stopForDisk(e as DiskFullError);
    return false;
  }
}

/**
 * The settings a cell runs with: the pipeline's, with `backend` replaced by the one in the
 * cell's key (the planner's resolution of `auto`), so a result is never computed on another
 * backend than the one it is stored under.
 */
function cellSettings(plan: Plan, cell: PlannedCell): Record<string, unknown> {
  const backend = cell.keyParts.backend;
  return backend === undefined ? plan.settings : { ...plan.settings, backend };
}

function cellSpec(run: RunState, a: Attempt): CellSpec {
  const { cell } = a;
  const inputs: Record<string, UpstreamOutput | UpstreamOutput[]> = {};
  for (const [name, input] of Object.entries(cell.inputs)) {
    const ups = input.cellIds.map((id) => run.outputs.get(id)!);
    if (input.kind === 'many') inputs[name] = ups;
    else if (ups.length > 0) inputs[name] = ups[0]!; // an optional input left unwired stays absent
  }
  return {
    cellId: cell.id, key: cell.key, stage: cell.stage, instance: cell.instance, params: cell.params, coords: cell.coords,
    inputs, outDir: a.outDir, cacheDir: run.store.cacheDir, logPath: a.logPath, settings: cellSettings(run.plan, cell),
    attempt: a.attempt, provenance: run.provenance,
    ...(cell.timeoutSec !== undefined ? { timeoutSec: cell.timeoutSec } : {}),
  };
}

/** What the executor reports of an attempt: its start is recorded running, its worker kept in the lock meanwhile. */
function watchAttempt(run: RunState, a: Attempt): { hooks: SubmitHooks; started(): boolean; ended(): void } {
  const { cell, attempt, logRel, logPath } = a;
  let started = false;
  let workerPid: number | undefined;
  return {
    hooks: {
      onStart: (info) => {
        started = true;
        const reasons = run.notCached.get(cell.id);
        if (info.pid !== undefined) { workerPid = info.pid; run.workers.add(info.pid); }
        run.control.record(() => run.store.markRunning(cell.key, { runId: run.runId, attempt, logRel, startedAt: info.startedAt, ...(reasons ? { reasons } : {}) }));
        run.emit({ type: 'cell-start', cell, attempt, logPath, ...(info.pid !== undefined ? { pid: info.pid } : {}) });
      },
      onProgress: (event) => run.emit({ type: 'cell-progress', cell, event }),
      priority: run.depth.get(cell.id) ?? 0,
    },
    started: () => started,
    ended: () => { if (workerPid !== undefined) run.workers.delete(workerPid); },
  };
}

/** A successful attempt enters the store; if that fails the cell fails (a full disk stops the run). */
function commitOrFail(run: RunState, a: Attempt, result: CellSuccess): CellOutcome {
  const { cell, attempt, logRel, logPath, outDir } = a;
  try {
    const dirRel = commitCell(run.store, run.plan, cell, result, { runId: run.runId, attempt, logRel, outDir });
    run.outputs.set(cell.id, toUpstream(cell, run.store.abs(dirRel), result.metrics));
    run.summary.done++;
    run.emit({ type: 'cell-done', cell, durationMs: result.durationMs, attempt });
    return 'done';
  } catch (e) {
    // Full between the rename and the row: the folder, complete with its record, is adopted next time.
    if (isOutOfSpace(e)) return hitFullDisk(run, a, (e as Error).message);
    rmSync(outDir, { recursive: true, force: true });
    const error = `could not store the artifact: ${(e as Error).message}`;
    run.store.markFailed(cell.key, { runId: run.runId, failure: 'error', error, endedAt: new Date().toISOString(), final: true });
    run.summary.failed++;
    run.summary.failures.push({ cellId: cell.id, instance: cell.instance, coords: cell.coords, error, logPath });
    run.emit({ type: 'cell-failed', cell, failure: 'error', error, logPath, attempt, willRetry: false });
    if (!run.keepGoing) run.control.stop(`fail-fast: ${cell.instance} failed`);
    return 'failed';
  }
}

/** A full disk met by this cell: it is recorded interrupted (it runs again next time) and nothing new starts. */
function hitFullDisk(run: RunState, a: Attempt, cause: string): CellOutcome {
  const { cell, outDir } = a;
  // What it wrote before the disk filled is a lower bound of what it needs.
  const written = folderBytes(outDir);
  const needed = Math.max(run.expected(cell.stage), written) + diskReserveBytes();
  const e = diskFullAt(run.store.tmpDir, needed, `cell ${cell.instance} ${cell.id.slice(0, 12)}: ${cause}`, needed <= written + diskReserveBytes());
  rmSync(outDir, { recursive: true, force: true });
  run.control.record(() => run.store.markFailed(cell.key, { runId: run.runId, failure: 'interrupted', error: e.message, endedAt: new Date().toISOString(), final: true }));
  run.summary.interrupted++;
  run.control.stopForDisk(e);
  return 'stopped';
}

/** Stopped by the run (cancellation, fail-fast, a takeover): interrupted if it had started. */
function stopped(run: RunState, a: Attempt, result: CellFailure, started: boolean): CellOutcome {
  if (started) {
    // After a takeover the store is the new holder's: it records this cell itself.
    if (!run.lockLost()) run.control.record(() => run.store.markFailed(a.cell.key, { runId: run.runId, failure: 'interrupted', error: result.error, endedAt: result.endedAt, durationMs: result.durationMs, cpuMs: result.cpuMs, final: true }));
    run.summary.interrupted++;
  }
  return 'stopped';
}

/** A failed attempt: retried while the cell's allowance lasts (crashes get one by default), else the cell failed. */
function failed(run: RunState, a: Attempt, result: CellFailure, failure: Exclude<FailureKind, 'aborted'>): 'retry' | 'failed' {
  const { cell, attempt, logPath } = a;
  const allowed = failure === 'crash' ? cell.retries ?? 1 : cell.retries ?? 0;
  const willRetry = attempt <= allowed && !run.control.stopping;
  run.control.record(() => run.store.markFailed(cell.key, { runId: run.runId, failure, error: result.error, endedAt: result.endedAt, durationMs: result.durationMs, cpuMs: result.cpuMs, final: !willRetry }));
  run.emit({ type: 'cell-failed', cell, failure: result.failure, error: result.error, logPath, attempt, willRetry });
  if (willRetry) return 'retry';
  run.summary.failed++;
  run.summary.failures.push({ cellId: cell.id, instance: cell.instance, coords: cell.coords, error: result.error, logPath });
  if (!run.keepGoing) run.control.stop(`fail-fast: ${cell.instance} failed`);
  return 'failed';
}
