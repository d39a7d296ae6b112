// The local executor: a bounded queue (p-queue) in front of persistent worker processes, one cell
// per worker at a time. A worker that crashes, is killed or runs out of memory fails only its
// own cell; it is dropped and a fresh one is forked for the next cell.
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import { RELAXED_SIMD_FLAG, relaxedSimdBehindFlag } from '../ml/kernels/simd-module.js';
import type { CellFailure, CellResult, CellSpec, Executor, FailureKind, FromWorker, SubmitHooks } from './types.js';

export const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');

export interface LocalExecutorOptions {
  /** Parallel cells (default: os.availableParallelism()). */
  jobs?: number;
  /** Extra environment for the workers. */
  env?: NodeJS.ProcessEnv;
  /** Grace between asking a timed-out cell to abort and killing its worker. */
  killGraceMs?: number;
  /** Node flags for the workers (e.g. --max-old-space-size=4096). */
  execArgv?: string[];
  /**
   * A worker whose resident memory exceeds this after a cell is retired rather than reused, so
   * memory a stage leaks (tensors not disposed) does not pile up over a sweep. Default: 3 GiB or
   * SEI_WORKER_MAX_RSS_MB.
   */
  maxRssBytes?: number;
}

/**
 * V8 flags every worker gets: relaxed SIMD where it is not on by default (Node 20), so the SIMD
 * kernels' fused multiply-add build validates from the worker's first compile.
 */
export function withWorkerFlags(execArgv: string[]): string[] {
  const needed = relaxedSimdBehindFlag() ? [RELAXED_SIMD_FLAG] : [];
  return [...execArgv, ...needed.filter((f) => !execArgv.includes(f))];
}

/** How much of a dead worker's stderr to quote in the cell's error. */
const STDERR_TAIL = 2000;

class WorkerProcess {
  readonly child: ChildProcess;
  /** Spec of the cell running now. */
  spec: CellSpec | undefined;
  private stderrTail = '';
  private readyPromise: Promise<void>;
  exited = false;
  /** Resident memory reported after its last cell. */
  lastRss = 0;

  constructor(options: LocalExecutorOptions) {
    this.child = fork(WORKER_SCRIPT, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // The worker's parent-death watch compares against this pid from its first instruction on.
      env: { ...process.env, ...options.env, SEI_ORCHESTRATOR_PID: String(process.pid) },
      // Node flags given to sei (e.g. --max-old-space-size) apply to its workers too; a debugger's do not.
      execArgv: withWorkerFlags(options.execArgv ?? process.execArgv.filter((a) => !a.startsWith('--inspect'))),
    });
    // Output written past the worker's own redirection (native code, a crash report) still lands
    // in the log of the cell it was running.
    const capture = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
      if (this.spec) {
        try { appendFileSync(this.spec.logPath, text); } catch { /* log folder gone */ }
      }
    };
    this.child.stdout?.on('data', capture);
    this.child.stderr?.on('data', capture);
    this.readyPromise = new Promise((resolve, reject) => {
      const onMsg = (m: FromWorker): void => {
        if (m.type === 'ready') { this.child.off('message', onMsg); resolve(); }
      };
      this.child.on('message', onMsg);
      this.child.once('exit', (code, signal) => reject(new Error(`worker exited before it was ready (code ${code}, signal ${signal}): ${this.stderrTail.trim()}`)));
    });
    this.readyPromise.catch(() => undefined);
    this.child.once('exit', () => { this.exited = true; });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  takeStderrTail(): string {
    const t = this.stderrTail.trim();
    this.stderrTail = '';
    return t;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

export class LocalExecutor implements Executor {
  readonly concurrency: number;
  private readonly queue: PQueue;
  private readonly idle: WorkerProcess[] = [];
  private readonly busy = new Set<WorkerProcess>();
  private readonly abortListeners = new Set<(reason: string) => void>();
  private closed = false;
  private abortGeneration = 0;

  private readonly maxRss: number;

  constructor(private readonly options: LocalExecutorOptions = {}) {
    this.concurrency = Math.max(1, options.jobs ?? availableParallelism());
    const envMb = Number(process.env.SEI_WORKER_MAX_RSS_MB);
    this.maxRss = options.maxRssBytes ?? (Number.isFinite(envMb) && envMb > 0 ? envMb * 2 ** 20 : 3 * 2 ** 30);
    this.queue = new PQueue({ concurrency: this.concurrency });
  }

  submit(spec: CellSpec, hooks: SubmitHooks = {}): Promise<CellResult> {
    const generation = this.abortGeneration;
    const queuedAt = new Date().toISOString();
    return this.queue.add(async () => {
      if (this.closed || generation !== this.abortGeneration) {
        return unstarted('aborted', 'cancelled before it started', queuedAt);
      }
      return this.runOnWorker(spec, hooks, generation);
    }, { priority: hooks.priority ?? 0 }) as Promise<CellResult>;
  }

  private async takeWorker(): Promise<WorkerProcess> {
    while (this.idle.length > 0) {
      const w = this.idle.pop()!;
      if (!w.exited) return w;
    }
    const w = new WorkerProcess(this.options);
    await w.ready();
    return w;
  }

  private async runOnWorker(spec: CellSpec, hooks: SubmitHooks, generation: number): Promise<CellResult> {
    const startedAt = new Date().toISOString();
    let worker: WorkerProcess;
    try {
      worker = await this.takeWorker();
    } catch (e) {
      return { ...unstarted('crash', (e as Error).message, startedAt), started: true };
    }
    if (this.closed || generation !== this.abortGeneration) {
      // Cancelled while a worker was being started.
      if (this.closed) worker.kill(); else this.idle.push(worker);
      return unstarted('aborted', 'cancelled before it started', startedAt);
    }
    this.busy.add(worker);
    worker.spec = spec;
    const t0 = Date.now();
    hooks.onStart?.({ ...(worker.pid !== undefined ? { pid: worker.pid } : {}), startedAt });

    const result = await new Promise<CellResult>((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      let failureOverride: { kind: FailureKind; message: string } | undefined;
      const finish = (r: CellResult): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        worker.child.off('message', onMessage);
        worker.child.off('exit', onExit);
        this.abortListeners.delete(onAbort);
        resolve(r);
      };
      const fail = (kind: FailureKind, message: string): CellFailure => ({
        ok: false, failure: kind, error: message, started: true, startedAt, endedAt: new Date().toISOString(), durationMs: Date.now() - t0,
      });
      const stop = (kind: FailureKind, message: string): void => {
        // Ask the stage to stop (it may own child processes), then kill the worker for sure.
        failureOverride = { kind, message };
        worker.child.send({ type: 'abort', reason: message }, () => undefined);
        killTimer = setTimeout(() => worker.kill(), this.options.killGraceMs ?? 1500);
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'progress' && m.key === spec.key) {
          hooks.onProgress?.(m.event);
        } else if ((m.type === 'done' || m.type === 'error') && m.key === spec.key) {
          worker.lastRss = m.rssBytes;
        }
        if (m.type === 'done' && m.key === spec.key) {
          if (failureOverride) { worker.kill(); finish(fail(failureOverride.kind, failureOverride.message)); return; }
          finish({ ok: true, metrics: m.metrics, provenance: m.provenance, manifest: m.manifest, startedAt: m.startedAt, endedAt: m.endedAt, durationMs: m.durationMs, cpuMs: m.cpuMs });
        } else if (m.type === 'error' && m.key === spec.key) {
          if (failureOverride) { worker.kill(); finish(fail(failureOverride.kind, failureOverride.message)); return; }
          finish({ ok: false, failure: 'error', error: m.error, started: true, startedAt: m.startedAt, endedAt: m.endedAt, durationMs: m.durationMs, cpuMs: m.cpuMs });
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (failureOverride) { finish(fail(failureOverride.kind, failureOverride.message)); return; }
        const how = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory, or killed)' : ''}` : `exited with code ${code}`;
        const tail = worker.takeStderrTail();
        finish(fail('crash', `worker process ${worker.pid} ${how} while running the cell${tail ? `; its last output: ${lastLines(tail, 5)}` : ''}`));
      };
      const onAbort = (reason: string): void => stop('aborted', reason);
      worker.child.on('message', onMessage);
      worker.child.on('exit', onExit);
      this.abortListeners.add(onAbort);
      if (spec.timeoutSec !== undefined && spec.timeoutSec > 0) {
        timer = setTimeout(() => stop('timeout', `timed out after ${spec.timeoutSec} s`), spec.timeoutSec * 1000);
      }
      worker.child.send({ type: 'run', spec }, (err) => {
        if (err) finish(fail('crash', `could not send the cell to worker ${worker.pid}: ${err.message}`));
      });
    });

    this.busy.delete(worker);
    worker.spec = undefined;
    if (!result.ok && (result.failure === 'crash' || result.failure === 'timeout' || result.failure === 'aborted')) {
      worker.kill();
      if (result.failure === 'crash') {
        try { appendFileSync(spec.logPath, `[${new Date().toISOString()}] ${result.error}\n`); } catch { /* ignore */ }
      } else {
        try { appendFileSync(spec.logPath, `[${new Date().toISOString()}] ${result.failure}: ${result.error}\n`); } catch { /* ignore */ }
      }
    } else if (!this.closed && !worker.exited && worker.lastRss <= this.maxRss) {
      this.idle.push(worker);
    } else {
      worker.kill();
    }
    return result;
  }

  abortAll(reason: string): void {
    // Queued cells see the new generation when they come up and resolve 'aborted' at once
    // (clearing the queue instead would leave their promises pending forever).
    this.abortGeneration++;
    for (const listener of [...this.abortListeners]) listener(reason);
  }

  /** The pids of workers running a cell now (tests and progress). */
  busyPids(): number[] {
    return [...this.busy].map((w) => w.pid).filter((p): p is number => p !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.onIdle();
    const all = [...this.idle, ...this.busy];
    this.idle.length = 0;
    await Promise.all(all.map((w) => new Promise<void>((resolve) => {
      if (w.exited) return resolve();
      w.child.once('exit', () => resolve());
      // Disconnecting lets an idle worker exit by itself; kill to be sure.
      try { w.child.disconnect(); } catch { /* already gone */ }
      setTimeout(() => w.kill(), 500).unref();
    })));
  }
}

function unstarted(kind: FailureKind, message: string, at: string): CellFailure {
  return { ok: false, failure: kind, error: message, started: false, startedAt: at, endedAt: new Date().toISOString(), durationMs: 0 };
}

function lastLines(text: string, n: number): string {
  return text.split('\n').filter((l) => l.trim() !== '').slice(-n).join(' | ');
}
