// The orchestrator: takes the store's run lock, works out what is cached, then runs the other
// cells in dependency order (parallel where the DAG allows) through an Executor, moving each
// finished output folder into the store before recording it done. Running the same plan again
// finishes whatever is missing: failed and interrupted cells run again, done ones are reused.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import type { NotCachedReason, Plan, PlannedCell } from '../pipeline/types.js';
import type { UpstreamOutput } from '../stages/types.js';
import { diskFullAt, diskReserveBytes, ensureFreeSpace, folderBytes, isDiskFullError, isOutOfSpace, type DiskFullError } from '../util/disk-space.js';
import { cleanTmp } from '../store/promote.js';
import { openStore, type Store } from '../store/store.js';
import { hashJson } from '../util/hash.js';
import { commitCell } from './commit.js';
import { dependencyGraph } from './dependencies.js';
import { LocalExecutor } from './local.js';
import { runProvenance } from './provenance.js';
import { recoverAndAssess } from './recover.js';
import { holdLock } from './run-lock.js';
import type { CellResult, CellSpec, Executor } from './types.js';

export { StoreBusyError } from './run-lock.js';

export type { RunEvent, RunSummary } from './run-events.js';
import type { RunEvent, RunSummary } from './run-events.js';

export interface RunPlanOptions {
  /** An open, writable store, or the folder of one (opened and closed here). */
  store?: Store | string;
  /** Same as `store: '<folder>'`. */
  storeDir?: string;
  /** Parallel cells for the default local executor (default: available cores). */
  jobs?: number;
  /** Continue past failed cells (default true); false = fail fast. */
  keepGoing?: boolean;
  /** Executor to use instead of the local process pool (closed by the caller). */
  executor?: Executor;
  /** Extra environment for local workers. */
  workerEnv?: NodeJS.ProcessEnv;
  onEvent?: (event: RunEvent) => void;
  /** Folder whose git state goes into provenance (default: cwd). */
  projectRoot?: string;
  /** Cancel the run: running cells are stopped and recorded interrupted. */
  signal?: AbortSignal;
  /** A lock whose heartbeat is older than this is taken over even if its pid seems alive. */
  staleMs?: number;
  heartbeatMs?: number;
  /** Re-hash every reused artifact instead of trusting unchanged size and mtime. */
  verify?: boolean;
}

function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

/** Files-safe fragment of an instance name. */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60);
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

function toUpstream(cell: PlannedCell, dir: string, metrics: Record<string, unknown>): UpstreamOutput {
  return { cellId: cell.id, stage: cell.stage, instance: cell.instance, coords: cell.coords, params: cell.params, dir, metrics };
}

export async function runPlan(plan: Plan, options: RunPlanOptions): Promise<RunSummary> {
  const given = options.store ?? options.storeDir;
  if (given === undefined) throw new Error('runPlan needs a store (options.store or options.storeDir)');
  // A dry-run plan may hold cells blocked by missing external inputs: nothing of it runs.
  const missing = [...new Set(plan.cells.flatMap((c) => c.blocked?.missing ?? []))].sort();
  if (missing.length > 0) throw new UsageError(`cannot run ${plan.pipeline.name}: external input${missing.length === 1 ? '' : 's'} ${missing.join(', ')} missing`);
  const ownStore = typeof given === 'string';
  const store = typeof given === 'string' ? openStore(given) : given;
  try {
    return await runWithStore(plan, store, options);
  } catch (e) {
    // A full disk met outside a cell (the log folder, the run's first rows) is the same clean failure.
    if (isOutOfSpace(e) && !isDiskFullError(e)) throw diskFullAt(store.dir, undefined, (e as Error).message);
    throw e;
  } finally {
    if (ownStore) store.close();
  }
}

async function runWithStore(plan: Plan, store: Store, options: RunPlanOptions): Promise<RunSummary> {
  const t0 = Date.now();
  const emit = (e: RunEvent): void => { try { options.onEvent?.(e); } catch { /* a display bug never stops a run */ } };
  const runId = newRunId();
  const startedAt = new Date().toISOString();
  const held = holdLock(store, { runId, pid: process.pid, host: hostname(), pipeline: plan.pipeline.name, startedAt }, options);

  const executor: Executor = options.executor ?? new LocalExecutor({
    ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
    ...(options.workerEnv ? { env: options.workerEnv } : {}),
  });
  try {
    const { assessments, expected } = await recoverAndAssess(plan, store, held.replaced, options.verify === true, emit);
    // A cluster executor names its jobs after the run and keeps its files in the store folder.
    await executor.begin?.({ runId, storeDir: store.dir, startedAt });
    const logRelDir = join('logs', runId);
    mkdirSync(store.abs(logRelDir), { recursive: true });
    store.beginRun({
      id: runId, pipeline: plan.pipeline.name, file: plan.pipeline.file, planHash: plan.pipeline.hash || hashJson(plan.cells.map((c) => c.key)),
      pid: process.pid, host: hostname(), jobs: executor.concurrency, total: plan.cells.length, startedAt,
    }, plan.cells);

    const provenance = runProvenance(options.projectRoot ?? process.cwd());
    const byId = new Map(plan.cells.map((c) => [c.id, c]));
    const outputs = new Map<string, UpstreamOutput>();
    const reasonsById = new Map<string, NotCachedReason[]>();
    let cached = 0;
    for (const a of assessments) {
      if (a.cached && a.record?.dir) {
        outputs.set(a.cell.id, toUpstream(a.cell, a.record.dir, a.record.metrics ?? {}));
        cached++;
      } else {
        reasonsById.set(a.cell.id, a.reasons);
      }
    }
    const toRun = plan.cells.filter((c) => !outputs.has(c.id));
    const { depth, waitingOn, dependents } = dependencyGraph(plan, toRun, byId, outputs);
    emit({ type: 'start', runId, pipeline: plan.pipeline.name, total: plan.cells.length, cached, toRun: toRun.length, jobs: executor.concurrency, logDir: store.abs(logRelDir) });

    const summary: RunSummary = {
      runId, pipeline: plan.pipeline.name, total: plan.cells.length, cached, done: 0, failed: 0, blocked: 0,
      interrupted: 0, notStarted: 0, failures: [], durationMs: 0, exitCode: 0,
    };
    let stopping = false;
    const stopAll = (reason: string): void => {
      if (stopping) return;
      stopping = true;
      executor.abortAll(reason);
    };
    // A full disk stops the scheduling of new cells; the first report of it is the one shown.
    let diskFull: DiskFullError | undefined;
    const stopForDisk = (e: DiskFullError): void => {
      diskFull ??= e;
      stopAll('disk full');
    };
    /** A write to the database; a full disk stops the run instead of failing the engine. */
    const record = (write: () => void): boolean => {
      try {
        write();
        return true;
      } catch (e) {
        if (!isOutOfSpace(e)) throw e;
        stopForDisk(diskFullAt(store.dir, undefined, (e as Error).message));
        return false;
      }
    };
    // Pids of the workers busy with a cell, kept in the lock for a run that takes over.
    const busyPids = new Set<number>();
    const noteWorkers = (): void => { try { store.setLockWorkers(runId, [...busyPids]); } catch { /* busy or full: next change */ } };
    held.onLost(() => stopAll('another run took over the store'));
    const onAbort = (): void => stopAll('run cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) stopAll('run cancelled');

    const inFlight = new Set<Promise<void>>();
    const settledIds = new Set<string>();

    const block = (failedId: string): void => {
      // Everything downstream of a failed cell cannot run in this run.
      const stack = [...(dependents.get(failedId) ?? [])];
      while (stack.length > 0) {
        const id = stack.pop()!;
        if (settledIds.has(id)) continue;
        settledIds.add(id);
        summary.blocked++;
        emit({ type: 'cell-blocked', cell: byId.get(id)!, blockedBy: byId.get(failedId)! });
        stack.push(...(dependents.get(id) ?? []));
      }
    };

    const launch = (cell: PlannedCell): void => {
      const p = runCell(cell).then((outcome) => {
        settledIds.add(cell.id);
        if (outcome === 'done') {
          for (const d of dependents.get(cell.id) ?? []) {
            const deps = waitingOn.get(d)!;
            deps.delete(cell.id);
            // Once stopping, ready cells stay unlaunched and are counted as not started.
            if (deps.size === 0 && !settledIds.has(d) && !stopping) launch(byId.get(d)!);
          }
        } else if (outcome === 'failed') {
          block(cell.id);
        }
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };

    const runCell = async (cell: PlannedCell): Promise<'done' | 'failed' | 'stopped'> => {
      const logRel = join(logRelDir, `${safeName(cell.instance)}-${cell.id.slice(0, 12)}.log`);
      const logPath = store.abs(logRel);
      const maxErrorRetries = cell.retries ?? 0;
      const maxCrashRetries = cell.retries ?? 1;
      for (let attempt = 1; ; attempt++) {
        if (stopping) return 'stopped';
        try {
          ensureFreeSpace(store.dir, expected(cell.stage) + diskReserveBytes(), `cell ${cell.instance} ${cell.id.slice(0, 12)} (stage ${cell.stage})`);
        } catch (e) {
          if (!isOutOfSpace(e)) throw e;
          stopForDisk(e as DiskFullError);
          return 'stopped';
        }
        const outDir = join(store.tmpDir, `${cell.key.slice(0, 16)}-${attempt}-${randomBytes(3).toString('hex')}`);
        const inputs: Record<string, UpstreamOutput | UpstreamOutput[]> = {};
        for (const [name, input] of Object.entries(cell.inputs)) {
          const ups = input.cellIds.map((id) => outputs.get(id)!);
          if (input.kind === 'many') inputs[name] = ups;
          else if (ups.length > 0) inputs[name] = ups[0]!; // an optional input left unwired stays absent
        }
        const spec: CellSpec = {
          cellId: cell.id, key: cell.key, stage: cell.stage, instance: cell.instance, params: cell.params, coords: cell.coords,
          inputs, outDir, cacheDir: store.cacheDir, logPath, settings: cellSettings(plan, cell), attempt, provenance,
          ...(cell.timeoutSec !== undefined ? { timeoutSec: cell.timeoutSec } : {}),
        };
        let started = false;
        let workerPid: number | undefined;
        const result: CellResult = await executor.submit(spec, {
          onStart: (info) => {
            started = true;
            const reasons = reasonsById.get(cell.id);
            if (info.pid !== undefined) { workerPid = info.pid; busyPids.add(info.pid); noteWorkers(); }
            record(() => store.markRunning(cell.key, { runId, attempt, logRel, startedAt: info.startedAt, ...(reasons ? { reasons } : {}) }));
            emit({ type: 'cell-start', cell, attempt, logPath, ...(info.pid !== undefined ? { pid: info.pid } : {}) });
          },
          onProgress: (event) => emit({ type: 'cell-progress', cell, event }),
          priority: depth.get(cell.id) ?? 0,
        });
        if (workerPid !== undefined) { busyPids.delete(workerPid); noteWorkers(); }
        /** A full disk met by this cell: it is recorded interrupted (it runs again next time) and nothing new starts. */
        const cellHitFullDisk = (cause: string): 'stopped' => {
          // What it wrote before the disk filled is a lower bound of what it needs.
          const written = folderBytes(outDir);
          const needed = Math.max(expected(cell.stage), written) + diskReserveBytes();
          const e = diskFullAt(store.tmpDir, needed, `cell ${cell.instance} ${cell.id.slice(0, 12)}: ${cause}`, needed <= written + diskReserveBytes());
          rmSync(outDir, { recursive: true, force: true });
          record(() => store.markFailed(cell.key, { runId, failure: 'interrupted', error: e.message, endedAt: new Date().toISOString(), final: true }));
          summary.interrupted++;
          stopForDisk(e);
          return 'stopped';
        };
        if (result.ok) {
          try {
            const dirRel = commitCell(store, plan, cell, result, { runId, attempt, logRel, outDir });
            outputs.set(cell.id, toUpstream(cell, store.abs(dirRel), result.metrics));
            summary.done++;
            emit({ type: 'cell-done', cell, durationMs: result.durationMs, attempt });
            return 'done';
          } catch (e) {
            // Full between the rename and the row: the folder, complete with its record, is adopted next time.
            if (isOutOfSpace(e)) return cellHitFullDisk((e as Error).message);
            rmSync(outDir, { recursive: true, force: true });
            const error = `could not store the artifact: ${(e as Error).message}`;
            store.markFailed(cell.key, { runId, failure: 'error', error, endedAt: new Date().toISOString(), final: true });
            summary.failed++;
            summary.failures.push({ cellId: cell.id, instance: cell.instance, coords: cell.coords, error, logPath });
            emit({ type: 'cell-failed', cell, failure: 'error', error, logPath, attempt, willRetry: false });
            if (options.keepGoing === false) stopAll(`fail-fast: ${cell.instance} failed`);
            return 'failed';
          }
        }
        if (result.failure !== 'aborted' && isOutOfSpace(result.error)) return cellHitFullDisk(result.error);
        rmSync(outDir, { recursive: true, force: true });
        if (result.failure === 'aborted') {
          if (started || result.started) {
            // After a takeover the store is the new holder's: it records this cell itself.
            if (!held.lost()) record(() => store.markFailed(cell.key, { runId, failure: 'interrupted', error: result.error, endedAt: result.endedAt, durationMs: result.durationMs, final: true }));
            summary.interrupted++;
          }
          return 'stopped';
        }
        const failure = result.failure;
        const allowed = failure === 'crash' ? maxCrashRetries : maxErrorRetries;
        const willRetry = attempt <= allowed && !stopping;
        record(() => store.markFailed(cell.key, { runId, failure, error: result.error, endedAt: result.endedAt, durationMs: result.durationMs, final: !willRetry }));
        emit({ type: 'cell-failed', cell, failure: result.failure, error: result.error, logPath, attempt, willRetry });
        if (willRetry) continue;
        summary.failed++;
        summary.failures.push({ cellId: cell.id, instance: cell.instance, coords: cell.coords, error: result.error, logPath });
        if (options.keepGoing === false) stopAll(`fail-fast: ${cell.instance} failed`);
        return 'failed';
      }
    };

    try {
      for (const cell of toRun) if (!stopping && waitingOn.get(cell.id)!.size === 0) launch(cell);
      while (inFlight.size > 0) await Promise.race(inFlight);
    } catch (e) {
      // An engine fault (not a cell's): stop the workers, let the cells settle, then report it.
      stopAll(`engine error: ${(e as Error).message}`);
      await Promise.allSettled([...inFlight]);
      throw e;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }

    // Cells never reached (fail-fast or cancellation stopped the run before their inputs were done).
    summary.notStarted = summary.total - summary.cached - summary.done - summary.failed - summary.blocked - summary.interrupted;
    if (held.lost()) throw new Error('the run lost its store lock (its heartbeat stalled and another run took over)');
    summary.durationMs = Date.now() - t0;
    const complete = summary.cached + summary.done === summary.total;
    summary.exitCode = complete ? 0 : 1;
    if (diskFull && !complete) {
      summary.exitCode = 3;
      summary.diskFull = {
        message: diskFull.message, path: diskFull.path,
        ...(diskFull.neededBytes !== undefined ? { neededBytes: diskFull.neededBytes } : {}),
        ...(diskFull.freeBytes !== undefined ? { freeBytes: diskFull.freeBytes } : {}),
      };
    }
    record(() => store.finishRun(runId, complete ? 'done' : stopping && summary.failed === 0 ? 'interrupted' : 'failed', cached));
    emit({ type: 'end', summary });
    return summary;
  } finally {
    held.stopHeartbeat();
    if (!options.executor) await executor.close();
    try { cleanTmp(store); } catch { /* best effort */ }
    try {
      if (!held.lost()) store.releaseLock(runId);
    } catch (e) {
      // A full disk can refuse even this: the lock names a dead process, which the next run replaces.
      if (!isOutOfSpace(e)) throw e;
    }
    store.checkpoint();
  }
}
