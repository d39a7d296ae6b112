// The orchestrator: takes the store's run lock, works out what is cached, then runs the other
// cells in dependency order (parallel where the DAG allows) through an Executor, moving each
// finished output folder into the store before recording it done. Running the same plan again
// finishes whatever is missing: failed and interrupted cells run again, done ones are reused.
// runWithStore is the sequence of steps; each step's work is in a module of its own:
// run-lock (lock, heartbeat) → recover (takeover, index, cached cells, disk room) →
// dependencies (order) → schedule (cells in dependency order) → run-cell (one cell's attempts) →
// commit (into the store); run-control holds whether and why the run is stopping.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import type { NotCachedReason, Plan } from '../pipeline/types.js';
import type { UpstreamOutput } from '../stages/types.js';
import { diskFullAt, isDiskFullError, isOutOfSpace } from '../util/disk-space.js';
import { cleanTmp } from '../store/promote.js';
import { openStore, type Store } from '../store/store.js';
import { hashJson } from '../util/hash.js';
import type { CellAssessment } from './assess.js';
import { dependencyGraph } from './dependencies.js';
import { LocalExecutor } from './local.js';
import { runProvenance } from './provenance.js';
import { recoverAndAssess } from './recover.js';
import { runCell, toUpstream, type RunState } from './run-cell.js';
import { RunControl } from './run-control.js';
import { closeSummary, newSummary } from './run-events.js';
import { holdLock, LockWorkers, type HeldLock } from './run-lock.js';
import { scheduleCells } from './schedule.js';
import type { Executor } from './types.js';

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
    const logRelDir = await beginRun(plan, store, executor, runId, startedAt);
    const provenance = runProvenance(options.projectRoot ?? process.cwd());
    const { outputs, notCached, cached } = reuseCached(assessments);
    const byId = new Map(plan.cells.map((c) => [c.id, c]));
    const toRun = plan.cells.filter((c) => !outputs.has(c.id));
    const graph = dependencyGraph(plan, toRun, byId, outputs);
    emit({ type: 'start', runId, pipeline: plan.pipeline.name, total: plan.cells.length, cached, toRun: toRun.length, jobs: executor.concurrency, logDir: store.abs(logRelDir) });

    const control = new RunControl(executor, store.dir);
    const run: RunState = {
      plan, store, executor, runId, logRelDir, provenance, expected, notCached, outputs, depth: graph.depth,
      summary: newSummary(runId, plan.pipeline.name, plan.cells.length, cached), control,
      workers: new LockWorkers(store, runId), lockLost: held.lost, keepGoing: options.keepGoing !== false, emit,
    };
    held.onLost(() => control.stop('another run took over the store'));
    const detach = control.stopOn(options.signal);
    try {
      await scheduleCells(toRun, graph, byId, {
        run: (cell) => runCell(run, cell),
        stopping: () => control.stopping,
        stop: (reason) => control.stop(reason),
        blocked: (cell, by) => { run.summary.blocked++; emit({ type: 'cell-blocked', cell, blockedBy: by }); },
      });
    } finally {
      detach();
    }
    return finishRun(run, held, Date.now() - t0);
  } finally {
    await releaseStore(store, held, runId, options.executor ? undefined : executor);
  }
}

/** The run's log folder (relative to the store) and its row; a cluster executor learns the run. */
async function beginRun(plan: Plan, store: Store, executor: Executor, runId: string, startedAt: string): Promise<string> {
  // A cluster executor names its jobs after the run and keeps its files in the store folder.
  await executor.begin?.({ runId, storeDir: store.dir, startedAt });
  const logRelDir = join('logs', runId);
  mkdirSync(store.abs(logRelDir), { recursive: true });
  store.beginRun({
    id: runId, pipeline: plan.pipeline.name, file: plan.pipeline.file, planHash: plan.pipeline.hash || hashJson(plan.cells.map((c) => c.key)),
    pid: process.pid, host: hostname(), jobs: executor.concurrency, total: plan.cells.length, startedAt,
  }, plan.cells);
  return logRelDir;
}

/** The cached cells' outputs (the inputs of the others), and why each other cell has to run. */
function reuseCached(assessments: CellAssessment[]): { outputs: Map<string, UpstreamOutput>; notCached: Map<string, NotCachedReason[]>; cached: number } {
  const outputs = new Map<string, UpstreamOutput>();
  const notCached = new Map<string, NotCachedReason[]>();
  for (const a of assessments) {
    if (a.cached && a.record?.dir) outputs.set(a.cell.id, toUpstream(a.cell, a.record.dir, a.record.metrics ?? {}));
    else notCached.set(a.cell.id, a.reasons);
  }
  return { outputs, notCached, cached: outputs.size };
}

/** Every cell has settled: the summary completed, the run's row closed, the end announced. */
function finishRun(run: RunState, held: HeldLock, durationMs: number): RunSummary {
  const { summary, control } = run;
  if (held.lost()) throw new Error('the run lost its store lock (its heartbeat stalled and another run took over)');
  const complete = closeSummary(summary, durationMs, control.diskFull);
  control.record(() => run.store.finishRun(run.runId, complete ? 'done' : control.stopping && summary.failed === 0 ? 'interrupted' : 'failed', summary.cached));
  run.emit({ type: 'end', summary });
  return summary;
}

/** Whatever happened: the heartbeat stopped, an own executor closed, tmp/ cleaned, the lock given back. */
async function releaseStore(store: Store, held: HeldLock, runId: string, ownExecutor: Executor | undefined): Promise<void> {
  held.stopHeartbeat();
  if (ownExecutor) await ownExecutor.close();
  try { cleanTmp(store); } catch { /* best effort */ }
  try {
    if (!held.lost()) store.releaseLock(runId);
  } catch (e) {
    // A full disk can refuse even this: the lock names a dead process, which the next run replaces.
    if (!isOutOfSpace(e)) throw e;
  }
  store.checkpoint();
}
