// The Slurm executor: each cell is a batch job (several ready cells of one stage and the same
// resources: one job array), named after the run. One status query per poll interval covers
// every job of the run (sacct with an explicit --starttime when accounting is on, squeue -t all
// when it is off). A finished job's outcome is read from the shared store folder — waiting for it
// to appear, since shared filesystems lag — its manifest verified on this host, and the folder
// handed to the orchestrator exactly like a local worker's. A job killed at its time limit or
// preempted is requeued (a training cell resumes from its per-epoch checkpoint); a job still
// queued or running when an earlier orchestrator died is re-attached instead of submitted again.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyManifest } from '../../store/manifest.js';
import { writeFileAtomic } from '../../util/atomic.js';
import type { ProgressEvent } from '../../stages/types.js';
import type { CellFailure, CellResult, CellSpec, Executor, FailureKind, SubmitHooks } from '../types.js';
import { SlurmTools, sleep } from './commands.js';
import { resourceArgs, resourcesFor, type SlurmConfig } from './config.js';
import { cellDirOf, logSubmission, readJobRecord, readStarts, slurmDir, writeJobRecord, type JobRecord } from './records.js';

export const JOB_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'job.js');

export interface SlurmExecutorOptions {
  config: SlurmConfig;
  /** Whether sacct works (from the preflight); without it squeue answers. */
  accounting: boolean;
  /** Largest job array the cluster takes (MaxArraySize − 1). */
  maxArrayTasks?: number;
  /** Extra environment for sbatch (the job inherits it). */
  env?: NodeJS.ProcessEnv;
  tools?: SlurmTools;
}

/** States after which Slurm runs nothing more of the job. */
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT', 'REVOKED']);
/** States the executor answers with a requeue: the job did nothing wrong, it ran out of time or place. */
const REQUEUE_STATES = new Set(['TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL']);
/** End states in which Slurm itself killed the job's processes (the requeue states aside). */
const KILLED_BY_SLURM = new Set(['CANCELLED', 'OUT_OF_MEMORY', 'DEADLINE', 'REVOKED']);

/** How a job left the queue, in words, from its final state (undefined: no state known). */
function howItEnded(state: string | undefined): string {
  if (state === undefined) return 'left the queue';
  if (state === 'CANCELLED') return 'was cancelled (scancel, or by an administrator)';
  if (state === 'OUT_OF_MEMORY') return 'ran out of memory (--mem)';
  return `ended ${state}`;
}
/** Seconds between a requeue and the job's new start: past the second its old credential was revoked. */
const REQUEUE_START_DELAY_S = 3;
/**
 * How long `scontrol requeue` may refuse a job that just ended before its cell fails: Slurm refuses
 * while the job is still torn down (it waits KillWait, 30 s by default, before its last kill).
 */
const REQUEUE_REFUSED_MS = 60_000;
/** A job Slurm has not shown us yet right after sbatch (sacct goes through slurmdbd). */
const SUBMIT_GRACE_MS = 15_000;
/** How much of a failed job's own output goes into the cell log. */
const OUTPUT_TAIL = 8000;

interface Tracked {
  spec: CellSpec;
  hooks: SubmitHooks;
  resolve(result: CellResult): void;
  cellDir: string;
  /** The spec the job runs (its outDir and checkpoint folder are in cellDir). */
  jobSpec: CellSpec;
  jobId?: string;
  jobName: string;
  record?: JobRecord;
  submittedAt: number;
  startedAt: string;
  /** Seen in a status answer at least once. */
  seen: boolean;
  adopted: boolean;
  cancelledByUs: boolean;
  cancelReason?: string;
  requeues: number;
  /** Since when a finished job's outcome has been awaited on the shared filesystem. */
  awaitingSince?: number;
  endState?: string;
  progressMtime?: number;
  lastReason?: string;
  pendingSince?: number;
  /** Since when scontrol requeue has refused the ended job (asked again each poll). */
  requeueRefusedSince?: number;
}

export class SlurmExecutor implements Executor {
  readonly concurrency: number;
  readonly tools: SlurmTools;
  /** Status queries made (squeue or sacct), for the benchmark. */
  statusQueries = 0;
  /** Poll rounds run (each makes one status query). */
  polls = 0;
  private runId = '';
  private storeDir = '';
  private runStartedAt = new Date();
  private readonly waiting: Tracked[] = [];
  private readonly active = new Map<string, Tracked>();
  private flushTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  private aborting = false;
  private abortedAt = 0;
  private batchNo = 0;
  private readonly maxArrayTasks: number;

  constructor(private readonly options: SlurmExecutorOptions) {
    this.concurrency = options.config.maxQueued;
    this.tools = options.tools ?? new SlurmTools(options.env ? { env: options.env } : {});
    this.maxArrayTasks = Math.max(1, options.maxArrayTasks ?? 1000);
  }

  begin(run: { runId: string; storeDir: string; startedAt: string }): void {
    this.runId = run.runId;
    this.storeDir = run.storeDir;
    this.runStartedAt = new Date(run.startedAt);
    mkdirSync(join(slurmDir(this.storeDir), 'cells'), { recursive: true });
    mkdirSync(join(slurmDir(this.storeDir), 'runs', this.runId), { recursive: true });
  }

  submit(spec: CellSpec, hooks: SubmitHooks = {}): Promise<CellResult> {
    return new Promise<CellResult>((resolve) => {
      if (!this.runId) throw new Error('SlurmExecutor.submit before begin(): the orchestrator names the jobs after its run');
      const cellDir = cellDirOf(this.storeDir, spec.key);
      const t: Tracked = {
        spec, hooks, resolve, cellDir,
        jobSpec: { ...spec, outDir: join(cellDir, 'out'), checkpointDir: join(cellDir, 'checkpoint') },
        jobName: this.runId, submittedAt: Date.now(), startedAt: new Date().toISOString(),
        seen: false, adopted: false, cancelledByUs: false, requeues: 0,
      };
      if (this.closed || this.aborting) return resolve(unstarted('aborted', 'cancelled before it was submitted'));
      if (this.reattach(t)) return;
      this.waiting.push(t);
      this.scheduleFlush();
    });
  }

  /** A job of this cell left by an earlier run, still queued, running or finished unread: take it over. */
  private reattach(t: Tracked): boolean {
    const rec = readJobRecord(this.storeDir, t.spec.key);
    if (!rec || rec.final || rec.jobName === this.runId || !existsSync(join(t.cellDir, 'spec.json'))) return false;
    t.jobId = rec.jobId;
    t.jobName = rec.jobName;
    t.record = rec;
    t.adopted = true;
    t.requeues = rec.requeues;
    t.submittedAt = Date.parse(rec.submittedAt) || Date.now();
    t.jobSpec = JSON.parse(readFileSync(join(t.cellDir, 'spec.json'), 'utf8')) as CellSpec;
    this.note(t, `re-attached to Slurm job ${rec.jobId} (submitted by run ${rec.jobName}, ${rec.state}); its log: ${t.jobSpec.logPath}`);
    this.active.set(rec.jobId, t);
    t.hooks.onStart?.({ startedAt: t.startedAt });
    this.schedulePoll(0);
    return true;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    // Cells made ready by one event arrive in one tick: gather them so they share a job array.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, 50);
  }

  private async flush(): Promise<void> {
    if (this.aborting || this.closed) {
      for (const t of this.waiting.splice(0)) t.resolve(unstarted('aborted', 'cancelled before it was submitted'));
      return;
    }
    const room = this.options.config.maxQueued - this.active.size;
    if (room <= 0 || this.waiting.length === 0) return;
    this.waiting.sort((a, b) => (b.hooks.priority ?? 0) - (a.hooks.priority ?? 0));
    const take = this.waiting.splice(0, room);
    const groups = new Map<string, { args: string[]; cells: Tracked[] }>();
    for (const t of take) {
      const args = resourceArgs(resourcesFor(this.options.config, t.spec.stage, t.spec.instance, t.spec.settings.backend));
      const sig = `${t.spec.stage}\0${args.join('\0')}`;
      const g = groups.get(sig) ?? { args, cells: [] };
      g.cells.push(t);
      groups.set(sig, g);
    }
    for (const g of groups.values()) {
      const size = this.options.config.arrays ? this.maxArrayTasks : 1;
      for (let i = 0; i < g.cells.length; i += size) await this.submitBatch(g.cells.slice(i, i + size), g.args);
    }
    this.schedulePoll();
  }

  private async submitBatch(cells: Tracked[], resourceArgsList: string[]): Promise<void> {
    const batchDir = join(slurmDir(this.storeDir), 'runs', this.runId, `b${++this.batchNo}`);
    mkdirSync(batchDir, { recursive: true });
    for (const t of cells) {
      mkdirSync(t.cellDir, { recursive: true });
      for (const f of ['outcome.json', 'progress.json']) rmSync(join(t.cellDir, f), { force: true });
      rmSync(join(t.cellDir, 'out'), { recursive: true, force: true });
      writeFileAtomic(join(t.cellDir, 'spec.json'), JSON.stringify(t.jobSpec) + '\n');
    }
    writeFileAtomic(join(batchDir, 'cells.json'), JSON.stringify(cells.map((t) => t.cellDir)) + '\n');
    const array = cells.length > 1;
    const pattern = array ? 'job-%A_%a' : 'job-%j';
    const script = join(batchDir, 'job.sh');
    writeFileAtomic(script, `#!/bin/sh\n# ${cells.length} cell(s) of run ${this.runId}\nexec "${this.options.config.node}" "${JOB_SCRIPT}" "${batchDir}"\n`);
    const args = [
      '--parsable', `--job-name=${this.runId}`, `--chdir=${batchDir}`,
      `--output=${join(batchDir, `${pattern}.out`)}`, `--error=${join(batchDir, `${pattern}.err`)}`,
      '--open-mode=append', '--requeue', '--kill-on-invalid-dep=yes',
      ...resourceArgsList,
      ...(array ? [`--array=0-${cells.length - 1}`] : []),
      script,
    ];
    const r = await this.tools.submit(args);
    if (r.code !== 0) {
      const error = `sbatch refused the job (${cells[0]!.spec.stage}): ${(r.stderr || r.stdout).trim()}`;
      for (const t of cells) {
        this.note(t, error);
        t.resolve({ ...unstarted('error', error), started: false });
      }
      return;
    }
    const base = r.stdout.trim().split(';')[0]!.trim();
    const submittedAt = new Date().toISOString();
    cells.forEach((t, i) => {
      const jobId = array ? `${base}_${i}` : base;
      const out = join(batchDir, array ? `job-${base}_${i}` : `job-${base}`);
      const previous = readJobRecord(this.storeDir, t.spec.key);
      t.jobId = jobId;
      t.submittedAt = Date.now();
      t.record = {
        jobId, jobName: this.runId, key: t.spec.key, cellId: t.spec.cellId, instance: t.spec.instance, stage: t.spec.stage,
        attempt: t.spec.attempt, state: 'PENDING', stdout: `${out}.out`, stderr: `${out}.err`, batchDir,
        submittedAt, updatedAt: submittedAt, requeues: 0, final: false,
        previous: previous ? [...previous.previous, { jobId: previous.jobId, state: previous.state, ...(previous.node ? { node: previous.node } : {}) }] : [],
      };
      writeJobRecord(this.storeDir, t.record);
      logSubmission(this.storeDir, { jobId, key: t.spec.key, runId: this.runId, instance: t.spec.instance });
      this.active.set(jobId, t);
      this.note(t, `submitted as Slurm job ${jobId}; its output: ${t.record.stdout}`);
      t.hooks.onStart?.({ startedAt: submittedAt });
    });
  }

  // ---- polling -----------------------------------------------------------------------------

  private schedulePoll(delay = this.options.config.pollMs): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll().finally(() => {
        if (this.active.size > 0 || this.waiting.length > 0) this.schedulePoll();
      });
    }, delay);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.active.size === 0) return;
    this.polling = true;
    this.polls++;
    try {
      const rows = await this.queryStates();
      if (rows === undefined) return; // the controller did not answer: ask again next interval
      for (const [jobId, t] of [...this.active]) {
        const row = rows.get(jobId);
        if (row) {
          t.seen = true;
          this.update(t, row);
          if (TERMINAL.has(row.state)) await this.ended(t, row.state);
          else this.live(t, row);
        } else if (Date.now() - t.submittedAt > SUBMIT_GRACE_MS || t.seen || !this.options.accounting) {
          // Gone from the controller's memory (and from accounting): the job's own files tell.
          await this.ended(t, undefined);
        }
      }
      if (this.aborting && this.active.size > 0 && Date.now() - this.abortedAt > 60_000) {
        for (const t of [...this.active.values()]) this.finish(t, failure('aborted', t.cancelReason ?? 'run cancelled'));
      }
    } finally {
      this.polling = false;
    }
    if (!this.aborting) await this.flush();
  }

  /** One query for every job of the run (and of the runs it re-attached to). */
  private async queryStates(): Promise<Map<string, { state: string; node: string; reason: string }> | undefined> {
    const names = [...new Set([...this.active.values()].map((t) => t.jobName))].join(',');
    this.statusQueries++;
    const out = new Map<string, { state: string; node: string; reason: string }>();
    if (this.options.accounting) {
      // --starttime: without it sacct shows only jobs since midnight, and a job that ended before
      // then would vanish. The earliest submission of any tracked job (re-attached ones included).
      const since = new Date(Math.min(this.runStartedAt.getTime(), ...[...this.active.values()].map((t) => t.submittedAt)) - 60_000);
      const r = await this.tools.run('sacct', ['-n', '-X', '-P', `--name=${names}`, `--starttime=${slurmDate(since)}`, '--format=JobID,State,NodeList,Reason']);
      if (r.code !== 0) return undefined;
      for (const line of r.stdout.split('\n')) {
        const [id, state, node, reason] = line.split('|');
        if (!id || !state) continue;
        for (const jobId of expandArrayIds(id)) out.set(jobId, { state: state.split(' ')[0]!, node: node ?? '', reason: reason ?? '' });
      }
      // Still queued or running jobs: squeue knows their reason and node better than accounting.
      return out;
    }
    const r = await this.tools.run('squeue', ['-h', '-r', '-t', 'all', `--name=${names}`, '-o', '%i|%T|%N|%r']);
    if (r.code !== 0) return undefined;
    for (const line of r.stdout.split('\n')) {
      const [id, state, node, reason] = line.trim().split('|');
      if (!id || !state) continue;
      out.set(id, { state, node: node ?? '', reason: reason ?? '' });
    }
    return out;
  }

  private update(t: Tracked, row: { state: string; node: string; reason: string }): void {
    const rec = t.record;
    if (!rec) return;
    const node = row.node && row.node !== '(null)' && row.node !== 'None assigned' ? row.node : rec.node;
    if (rec.state === row.state && rec.node === node && rec.reason === row.reason) return;
    rec.state = row.state;
    if (node) rec.node = node;
    rec.reason = row.reason;
    rec.updatedAt = new Date().toISOString();
    writeJobRecord(this.storeDir, rec);
  }

  /** A job still queued or running: its progress, and why it waits. */
  private live(t: Tracked, row: { state: string; reason: string }): void {
    if (row.state === 'PENDING') {
      t.pendingSince ??= Date.now();
      if (row.reason !== t.lastReason) {
        t.lastReason = row.reason;
        t.hooks.onProgress?.({ phase: 'queued', message: `Slurm job ${t.jobId} pending: ${row.reason}` });
      }
      const max = this.options.config.maxPendingMs;
      if (max > 0 && Date.now() - t.pendingSince > max && !t.cancelledByUs) {
        const why = `Slurm job ${t.jobId} still pending after ${Math.round(max / 1000)} s (reason: ${row.reason}); cancelled`;
        this.note(t, why);
        void this.tools.run('scancel', [t.jobId!]);
        this.finish(t, failure('timeout', why));
      }
      return;
    }
    t.pendingSince = undefined;
    if (row.state === 'RUNNING' && t.lastReason !== 'RUNNING') {
      t.lastReason = 'RUNNING';
      t.hooks.onProgress?.({ phase: 'running', message: `Slurm job ${t.jobId} running on ${t.record?.node ?? '?'}` });
    }
    const file = join(t.cellDir, 'progress.json');
    try {
      const mtime = statSync(file).mtimeMs;
      if (mtime !== t.progressMtime) {
        t.progressMtime = mtime;
        t.hooks.onProgress?.(JSON.parse(readFileSync(file, 'utf8')) as ProgressEvent);
      }
    } catch { /* no progress yet */ }
  }

  /** The job ran to an end (state known, or gone from the controller without a trace). */
  private async ended(t: Tracked, state: string | undefined): Promise<void> {
    const id = t.jobId!;
    if (t.cancelledByUs) {
      this.finish(t, failure('aborted', t.cancelReason ?? 'run cancelled'));
      return;
    }
    if (state !== undefined && REQUEUE_STATES.has(state)) {
      if (t.requeues < this.options.config.maxRequeues) {
        if (await this.requeue(t, state)) return;
        // Refused: still torn down, or Slurm requeues it itself (preemption with PreemptMode=REQUEUE).
        // Ask again at the next polls, for a while.
        t.requeueRefusedSince ??= Date.now();
        if (Date.now() - t.requeueRefusedSince < REQUEUE_REFUSED_MS) return;
      }
      const why = t.requeues < this.options.config.maxRequeues ? `Slurm refused to requeue it for ${REQUEUE_REFUSED_MS / 1000} s` : `it was requeued ${t.requeues} time(s) already`;
      const error = `Slurm job ${id} ended ${state}${state === 'TIMEOUT' ? ' (its time limit)' : ''} and ${why}`;
      this.appendJobOutput(t, error);
      this.finish(t, failure(state === 'TIMEOUT' ? 'timeout' : 'crash', error));
      return;
    }
    const outcomeFile = join(t.cellDir, 'outcome.json');
    const outcome = readOutcome(outcomeFile);
    if (!outcome) {
      // A requeued job that failed before its program ran (no start line for this restart): the
      // launch failed (slurmd refuses a credential revoked within the same second), not the cell.
      if (state === 'FAILED' && t.requeues > 0 && t.requeues < this.options.config.maxRequeues && !this.startedSinceRequeue(t)) {
        this.note(t, `Slurm job ${id} ended FAILED before it ran the cell (a failed launch after its requeue)`);
        if (await this.requeue(t, 'FAILED at launch')) return;
      }
      if (state === undefined && t.adopted && !t.seen) {
        // The earlier run's job is gone without a result: submit the cell afresh (not a failure).
        this.active.delete(id);
        t.adopted = false;
        t.jobName = this.runId;
        t.jobSpec = { ...t.spec, outDir: join(t.cellDir, 'out'), checkpointDir: join(t.cellDir, 'checkpoint') };
        this.note(t, `Slurm job ${id} of run ${t.record?.jobName} is gone without a result; submitting the cell again`);
        this.waiting.push(t);
        return;
      }
      // A result written on a compute node can take a while to show on this host.
      if (state === undefined || state === 'COMPLETED') {
        t.awaitingSince ??= Date.now();
        if (Date.now() - t.awaitingSince < this.options.config.latencyWaitMs) return;
      }
      const error = `Slurm job ${id} ${howItEnded(state)} without writing a result${state === 'COMPLETED' ? ` (waited ${Math.round(this.options.config.latencyWaitMs / 1000)} s for it on the shared filesystem)` : ''}`;
      this.appendJobOutput(t, error);
      this.finish(t, failure('crash', error));
      return;
    }
    if (!outcome.ok) {
      if (state !== undefined && KILLED_BY_SLURM.has(state)) {
        // Slurm signals every process of the job at once: the cell's worker can die of it before the
        // job's program hears its own SIGTERM, and the program then records the worker's death as
        // the cell's failure. Slurm's verdict is the cause; the program's words are kept beside it.
        const error = `Slurm job ${id} ${howItEnded(state)}; the job's program reported: ${outcome.error}`;
        this.appendJobOutput(t, error);
        this.finish(t, failure('crash', error));
        return;
      }
      this.appendJobOutput(t, `Slurm job ${id} failed: ${outcome.error}`);
      this.finish(t, outcome);
      return;
    }
    // Verify every file against the job's manifest here, on the host that will commit it.
    const check = await verifyManifest(t.jobSpec.outDir, outcome.manifest, { full: true });
    if (!check.ok) {
      t.awaitingSince ??= Date.now();
      if (Date.now() - t.awaitingSince < this.options.config.latencyWaitMs) return;
      const error = `Slurm job ${id}: its artifact does not match its manifest on this host: ${check.detail}`;
      this.appendJobOutput(t, error);
      this.finish(t, failure('crash', error));
      return;
    }
    try {
      rmSync(t.spec.outDir, { recursive: true, force: true });
      mkdirSync(dirname(t.spec.outDir), { recursive: true });
      renameSync(t.jobSpec.outDir, t.spec.outDir);
    } catch (e) {
      this.finish(t, failure('crash', `Slurm job ${id}: could not take its artifact folder: ${(e as Error).message}`));
      return;
    }
    rmSync(join(t.cellDir, 'checkpoint'), { recursive: true, force: true });
    if (t.adopted) this.note(t, `re-attached Slurm job ${id} finished; result taken`);
    this.finish(t, outcome);
  }

  /** Put a job that ran out of time or was preempted back in the queue, same id, at once. */
  private async requeue(t: Tracked, state: string): Promise<boolean> {
    const id = t.jobId!;
    const r = await this.tools.run('scontrol', ['requeue', id]);
    if (r.code !== 0) {
      // Said once: it is asked again every poll while Slurm tears the job down.
      if (t.requeueRefusedSince === undefined) this.note(t, `could not requeue Slurm job ${id} after ${state} (asking again): ${r.stderr.trim()}`);
      return false;
    }
    // Slurm holds a requeued job back for a while (BeginTime); the cell resumes from its checkpoint, so
    // start it soon (refused while the job is still being torn down: a few tries). Not at once: slurmd
    // revokes the killed run's credential with a one-second clock, and a launch within that second
    // is refused ("Job credential revoked") and ends the job FAILED.
    for (let k = 0; k < 5; k++) {
      if ((await this.tools.run('scontrol', ['update', `JobId=${id}`, `StartTime=now+${REQUEUE_START_DELAY_S}`])).code === 0) break;
      await sleep(500);
    }
    t.requeues++;
    t.requeueRefusedSince = undefined;
    t.pendingSince = undefined;
    if (t.record) {
      t.record.requeues = t.requeues;
      t.record.state = 'PENDING';
      t.record.updatedAt = new Date().toISOString();
      writeJobRecord(this.storeDir, t.record);
    }
    this.note(t, `Slurm job ${id} ended ${state}; requeued (${t.requeues}/${this.options.config.maxRequeues}), it resumes from its last checkpoint`);
    return true;
  }

  /** Whether the job's program started since its last requeue (job.ts writes a line per start). */
  private startedSinceRequeue(t: Tracked): boolean {
    return readStarts(this.storeDir, t.spec.key).some((s) => s.jobId === t.jobId && s.restart >= t.requeues);
  }

  private finish(t: Tracked, result: CellResult): void {
    if (t.jobId) this.active.delete(t.jobId);
    if (!result.ok) rmSync(join(t.cellDir, 'out'), { recursive: true, force: true });
    if (t.record) {
      t.record.final = true;
      if (!TERMINAL.has(t.record.state)) t.record.state = result.ok ? 'COMPLETED' : result.failure === 'aborted' ? 'CANCELLED' : t.record.state;
      t.record.updatedAt = new Date().toISOString();
      try { writeJobRecord(this.storeDir, t.record); } catch { /* status only */ }
    }
    const stamped: CellResult = result.ok ? result : { ...result, started: true };
    t.resolve(stamped);
  }

  /** A line in the cell's log (the orchestrator's side of the story). */
  private note(t: Tracked, message: string): void {
    try { appendFileSync(t.spec.logPath, `[${new Date().toISOString()}] ${message}\n`); } catch { /* log folder gone */ }
  }

  /** A failed job's own Slurm output, into the cell log. */
  private appendJobOutput(t: Tracked, headline: string): void {
    const parts: string[] = [];
    for (const file of [t.record?.stdout, t.record?.stderr]) {
      if (!file || !existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      if (text.trim() === '') continue;
      parts.push(`--- ${file}${text.length > OUTPUT_TAIL ? ` (last ${OUTPUT_TAIL} characters)` : ''}\n${text.slice(-OUTPUT_TAIL)}`);
    }
    this.note(t, `${headline}${parts.length ? `\n${parts.join('\n')}` : ' (the job wrote no output)'}`);
  }

  // ---- stopping ----------------------------------------------------------------------------

  abortAll(reason: string): void {
    if (this.aborting) return;
    this.aborting = true;
    this.abortedAt = Date.now();
    for (const t of this.waiting.splice(0)) t.resolve(unstarted('aborted', 'cancelled before it was submitted'));
    const ids: string[] = [];
    for (const t of this.active.values()) {
      t.cancelledByUs = true;
      t.cancelReason = reason;
      ids.push(t.jobId!);
    }
    if (ids.length === 0) return;
    void (async () => {
      for (let i = 0; i < ids.length; i += 500) await this.tools.run('scancel', ids.slice(i, i + 500));
      // Wait for Slurm to report them ended (so squeue is empty of them when the run returns).
      this.schedulePoll(500);
    })();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    while (this.polling) await sleep(20);
    for (const t of this.waiting.splice(0)) t.resolve(unstarted('aborted', 'executor closed'));
  }
}

function unstarted(kind: FailureKind, message: string): CellFailure {
  const at = new Date().toISOString();
  return { ok: false, failure: kind, error: message, started: false, startedAt: at, endedAt: at, durationMs: 0 };
}

function failure(kind: FailureKind, message: string): CellFailure {
  const at = new Date().toISOString();
  return { ok: false, failure: kind, error: message, started: true, startedAt: at, endedAt: at, durationMs: 0 };
}

function readOutcome(file: string): CellResult | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CellResult;
  } catch {
    return undefined;
  }
}

/** sacct's --starttime format (local time, no zone). */
function slurmDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** sacct shows a pending array as one line, 12_[0-9%4]; one id per element. */
export function expandArrayIds(id: string): string[] {
  const m = id.match(/^(\d+)_\[([^\]]+)\]$/);
  if (!m) return [id];
  const out: string[] = [];
  for (const part of m[2]!.split('%')[0]!.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(`${m[1]}_${i}`);
  }
  return out;
}
