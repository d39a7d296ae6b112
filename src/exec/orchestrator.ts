// The orchestrator: takes the store's run lock, works out what is cached, then runs the other
// cells in dependency order (parallel where the DAG allows) through an Executor, moving each
// finished output folder into the store before recording it done. Running the same plan again
// finishes whatever is missing: failed and interrupted cells run again, done ones are reused.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../util/errors.js';
import type { NotCachedReason, Plan, PlannedCell } from '../pipeline/types.js';
import type { ProgressEvent, UpstreamOutput } from '../stages/types.js';
import { writeArtifactRecord } from '../store/artifact-record.js';
import { diskFullAt, diskReserveBytes, ensureFreeSpace, folderBytes, isDiskFullError, isOutOfSpace, type DiskFullError } from '../util/disk-space.js';
import type { Manifest } from '../store/manifest.js';
import { adoptArtifacts, listArtifactFolders, rebuildIndex, type RebuildResult } from '../store/rebuild.js';
import { describeLock, openStore, type LockInfo, type Store } from '../store/store.js';
import { fsyncDir } from '../util/atomic.js';
import { hashJson } from '../util/hash.js';
import { assessPlan } from './assess.js';
import { LocalExecutor } from './local.js';
import { awaitOrphanedWorkers } from './orphans.js';
import { runProvenance } from './provenance.js';
import type { CellResult, CellSpec, Executor } from './types.js';

/** Another live run holds the store. */
export class StoreBusyError extends UsageError {
  constructor(readonly holder: LockInfo, storeDir: string) {
    super(`the store ${storeDir} is in use by ${describeLock(holder)}; wait for it to finish, or use another --store`);
    this.name = 'StoreBusyError';
  }
}

export type RunEvent =
  | { type: 'start'; runId: string; pipeline: string; total: number; cached: number; toRun: number; jobs: number; logDir: string }
  | { type: 'takeover'; previous: LockInfo; interrupted: number }
  /** The database had lost cells whose artifact folders were there: indexed from the folders. */
  | { type: 'reindexed'; rebuilt?: RebuildResult; adopted: number }
  | { type: 'damaged'; cell: PlannedCell; detail: string }
  | { type: 'cell-start'; cell: PlannedCell; attempt: number; logPath: string; pid?: number }
  | { type: 'cell-progress'; cell: PlannedCell; event: ProgressEvent }
  | { type: 'cell-done'; cell: PlannedCell; durationMs: number; attempt: number }
  | { type: 'cell-failed'; cell: PlannedCell; failure: string; error: string; logPath: string; attempt: number; willRetry: boolean }
  | { type: 'cell-blocked'; cell: PlannedCell; blockedBy: PlannedCell }
  | { type: 'end'; summary: RunSummary };

export interface RunSummary {
  runId: string;
  pipeline: string;
  total: number;
  cached: number;
  /** Cells completed in this run. */
  done: number;
  failed: number;
  /** Not run because an upstream cell failed. */
  blocked: number;
  /** Started and then stopped (fail-fast, cancellation). */
  interrupted: number;
  /** Never started (fail-fast, cancellation). */
  notStarted: number;
  failures: { cellId: string; instance: string; coords: Record<string, unknown>; error: string; logPath: string }[];
  durationMs: number;
  /** Set when a full disk stopped the run: where, and how much room was needed. */
  diskFull?: { message: string; path: string; neededBytes?: number; freeBytes?: number };
  /** 0 every cell done, 1 otherwise, 3 (DISK_FULL_EXIT_CODE) stopped by a full disk. */
  exitCode: 0 | 1 | 3;
}

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

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 2_000;

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

/** Remove whatever a dead run left in tmp/ (we hold the lock, so nobody is writing there). */
function cleanTmp(store: Store): void {
  if (!existsSync(store.tmpDir)) return;
  for (const entry of readdirSync(store.tmpDir)) rmSync(join(store.tmpDir, entry), { recursive: true, force: true });
}

/** Atomically move a finished output folder to its content-addressed place. */
function promote(store: Store, outDir: string, key: string): string {
  const rel = store.objectRel(key);
  const final = store.abs(rel);
  if (existsSync(final)) {
    // A damaged or unrecorded copy from before: move it aside first, so the rename stays atomic.
    const trash = join(store.tmpDir, `trash-${key.slice(0, 12)}-${randomBytes(3).toString('hex')}`);
    renameSync(final, trash);
    rmSync(trash, { recursive: true, force: true });
  }
  mkdirSync(dirname(final), { recursive: true });
  renameSync(outDir, final);
  fsyncDir(dirname(final));
  return rel;
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
  const lock = store.acquireLock({ runId, pid: process.pid, host: hostname(), pipeline: plan.pipeline.name, startedAt }, options.staleMs ?? DEFAULT_STALE_MS);
  if (!lock.ok) throw new StoreBusyError(lock.holder, store.dir);

  let lostLock = false;
  let onLockLost = (): void => undefined;
  const heartbeat = setInterval(() => {
    try {
      if (!lostLock && !store.heartbeat(runId)) {
        // Another run judged this one dead (its heartbeat stalled) and took over: stop at once.
        lostLock = true;
        onLockLost();
      }
    } catch { /* busy database: next beat */ }
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();

  const executor: Executor = options.executor ?? new LocalExecutor({
    ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
    ...(options.workerEnv ? { env: options.workerEnv } : {}),
  });
  try {
    // The dead run's workers go first: nothing of theirs may still write into tmp/.
    if (lock.replaced?.workers && lock.replaced.host === hostname()) await awaitOrphanedWorkers(lock.replaced.workers);
    const interrupted = store.interruptStale();
    if (lock.replaced) emit({ type: 'takeover', previous: lock.replaced, interrupted });
    cleanTmp(store);
    // The artifacts are the truth: a database that lost them (its WAL deleted, a copy without
    // it) is rebuilt from objects/, and a finished folder it never recorded is adopted, so a
    // finished cell never runs again.
    const rebuilt = store.isIndexEmpty() && listArtifactFolders(store).length > 0 ? await rebuildIndex(store) : undefined;
    const adopted = await adoptArtifacts(store, plan.cells.map((c) => c.key));
    if (rebuilt || adopted.length > 0) emit({ type: 'reindexed', ...(rebuilt ? { rebuilt } : {}), adopted: adopted.length });

    const assessments = await assessPlan(plan, store, { verify: options.verify === true });
    for (const a of assessments) {
      if (a.damaged !== undefined) {
        store.markDamaged(a.cell.key, a.damaged);
        emit({ type: 'damaged', cell: a.cell, detail: a.damaged });
      } else if (a.refreshed && a.record?.manifest) {
        const fresh = new Map(a.refreshed.map((e) => [e.path, e]));
        store.refreshManifest(a.cell.key, a.record.manifest.map((e) => fresh.get(e.path) ?? e));
      }
    }
    // Room for at least the largest cell still to run, before anything is started.
    const expectedBytes = store.largestArtifactByStage();
    const expected = (stage: string): number => expectedBytes.get(stage) ?? 0;
    const pending = assessments.filter((a) => !a.cached);
    if (pending.length > 0) {
      const largest = Math.max(...pending.map((a) => expected(a.cell.stage)));
      ensureFreeSpace(store.dir, largest + diskReserveBytes(), `the run of ${plan.pipeline.name} (${pending.length} cells to run)`);
    }
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
    // Depth in the DAG: queued cells deeper down go first, so finished results (an evaluation,
    // not just another trained model) appear early in a long sweep.
    const depth = new Map<string, number>();
    for (const c of plan.cells) {
      let d = 0;
      for (const input of Object.values(c.inputs)) for (const id of input.cellIds) d = Math.max(d, (depth.get(id) ?? 0) + 1);
      depth.set(c.id, d);
    }
    emit({ type: 'start', runId, pipeline: plan.pipeline.name, total: plan.cells.length, cached, toRun: toRun.length, jobs: executor.concurrency, logDir: store.abs(logRelDir) });

    // Dependency bookkeeping over the cells still to run.
    const waitingOn = new Map<string, Set<string>>();
    const dependents = new Map<string, string[]>();
    for (const cell of toRun) {
      const deps = new Set<string>();
      for (const input of Object.values(cell.inputs)) {
        for (const id of input.cellIds) {
          if (!byId.has(id)) throw new Error(`plan error: cell ${cell.id.slice(0, 12)} (${cell.instance}) needs ${id.slice(0, 12)}, which is not in the plan`);
          if (!outputs.has(id)) deps.add(id);
        }
      }
      waitingOn.set(cell.id, deps);
      for (const d of deps) {
        const list = dependents.get(d) ?? [];
        list.push(cell.id);
        dependents.set(d, list);
      }
    }

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
    onLockLost = () => stopAll('another run took over the store');
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
            // The folder describes itself (cell.json) before it enters objects/: the database
            // can always be rebuilt from the artifacts.
            writeArtifactRecord(outDir, {
              cellId: cell.id, key: cell.key, pipeline: plan.pipeline.name, instance: cell.instance, stage: cell.stage,
              slot: cell.slot, position: plan.cells.indexOf(cell), coords: cell.coords, params: cell.params,
              paramsDigest: cell.keyParts.paramsHash, inputs: cell.inputs, keyParts: cell.keyParts, manifest: result.manifest,
              attempt: { runId, n: attempt, startedAt: result.startedAt, endedAt: result.endedAt, durationMs: result.durationMs, logPath: logRel },
            });
            const dirRel = promote(store, outDir, cell.key);
            store.markDone(cell.key, {
              runId, dirRel, manifest: result.manifest as Manifest, metrics: result.metrics, provenance: result.provenance,
              startedAt: result.startedAt, endedAt: result.endedAt, durationMs: result.durationMs,
            });
            // The main database file holds every finished cell: losing the WAL loses no result.
            store.checkpoint();
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
            if (!lostLock) record(() => store.markFailed(cell.key, { runId, failure: 'interrupted', error: result.error, endedAt: result.endedAt, durationMs: result.durationMs, final: true }));
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
    if (lostLock) throw new Error('the run lost its store lock (its heartbeat stalled and another run took over)');
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
    clearInterval(heartbeat);
    if (!options.executor) await executor.close();
    try { cleanTmp(store); } catch { /* best effort */ }
    try {
      if (!lostLock) store.releaseLock(runId);
    } catch (e) {
      // A full disk can refuse even this: the lock names a dead process, which the next run replaces.
      if (!isOutOfSpace(e)) throw e;
    }
    store.checkpoint();
  }
}
