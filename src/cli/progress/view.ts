// What `sei run` shows while it works: on a terminal, a live block (cells done/total, the
// running cells with stage, epoch and loss, an ETA) redrawn in place; otherwise plain lines.
// Failures are printed the moment they happen, with the path of the cell's log.
import type { RunEvent, RunSummary } from '../../exec/orchestrator.js';
import type { PlannedCell } from '../../pipeline/types.js';
import type { ProgressEvent } from '../../stages/types.js';
import { formatCoords } from '../../util/coords.js';

export interface ProgressViewOptions {
  /** Live redraw (a TTY) or plain lines. */
  live: boolean;
  out?: NodeJS.WriteStream;
  err?: NodeJS.WriteStream;
  /** Redraw period of the live view. */
  intervalMs?: number;
}

interface Running {
  cell: PlannedCell;
  since: number;
  attempt: number;
  progress?: ProgressEvent;
}

export { formatCoords };

export function cellLabel(cell: { instance: string; coords: Record<string, unknown>; id: string }): string {
  const c = formatCoords(cell.coords);
  return `${cell.instance}${c ? ` [${c}]` : ''} ${cell.id.slice(0, 12)}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function describeProgress(p: ProgressEvent | undefined): string {
  if (!p) return '';
  const bits: string[] = [];
  if (p.phase) bits.push(p.phase);
  if (p.epoch !== undefined) bits.push(`epoch ${p.epoch}${p.epochs !== undefined ? `/${p.epochs}` : ''}`);
  if (p.batch !== undefined) bits.push(`batch ${p.batch}${p.batches !== undefined ? `/${p.batches}` : ''}`);
  if (p.loss !== undefined) bits.push(`loss ${p.loss.toFixed(4)}`);
  if (p.accuracy !== undefined) bits.push(`acc ${p.accuracy.toFixed(3)}`);
  if (p.message) bits.push(p.message);
  return bits.join(' · ');
}

export class ProgressView {
  private readonly out: NodeJS.WriteStream;
  private readonly err: NodeJS.WriteStream;
  private readonly running = new Map<string, Running>();
  private total = 0;
  private cached = 0;
  private done = 0;
  private failed = 0;
  private blocked = 0;
  private jobs = 1;
  private pipeline = '';
  private readonly startedAt = Date.now();
  private workMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private live: ((...text: string[]) => void) & { clear(): void; done(): void; persist(...t: string[]): void } | undefined;

  constructor(private readonly options: ProgressViewOptions) {
    this.out = options.out ?? process.stdout;
    this.err = options.err ?? process.stderr;
  }

  /** Load log-update only for live views (it is an ESM module with terminal dependencies). */
  async init(): Promise<void> {
    if (!this.options.live) return;
    const { createLogUpdate } = await import('log-update');
    this.live = createLogUpdate(this.out);
    this.timer = setInterval(() => this.render(), this.options.intervalMs ?? 250);
    this.timer.unref();
  }

  /** Text that must stay on screen (failures, summaries). */
  private persist(text: string, toErr = false): void {
    if (this.live) {
      this.live.clear();
      (toErr ? this.err : this.out).write(text + '\n');
      this.render();
    } else {
      (toErr ? this.err : this.out).write(text + '\n');
    }
  }

  private eta(): string {
    const finished = this.done;
    const remaining = this.total - this.cached - this.done - this.failed - this.blocked;
    if (finished === 0 || remaining <= 0) return '';
    const mean = this.workMs / finished;
    return ` · ETA ${formatDuration((mean * remaining) / Math.max(1, Math.min(this.jobs, remaining)))}`;
  }

  private header(): string {
    const bits = [`${this.pipeline}: ${this.cached + this.done}/${this.total} done`];
    if (this.cached > 0) bits.push(`${this.cached} cached`);
    if (this.failed > 0) bits.push(`${this.failed} failed`);
    if (this.blocked > 0) bits.push(`${this.blocked} blocked`);
    bits.push(`${this.running.size} running`);
    return bits.join(' · ') + this.eta() + ` · ${formatDuration(Date.now() - this.startedAt)}`;
  }

  render(): void {
    if (!this.live) return;
    const now = Date.now();
    const width = this.out.columns ?? 120;
    const lines = [this.header()];
    const list = [...this.running.values()].sort((a, b) => a.since - b.since);
    for (const r of list.slice(0, 20)) {
      const line = `  ▸ ${r.cell.stage} ${cellLabel(r.cell)}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}  ${describeProgress(r.progress)}  ${formatDuration(now - r.since)}`;
      lines.push(line.length > width ? line.slice(0, width - 1) + '…' : line);
    }
    if (list.length > 20) lines.push(`  … and ${list.length - 20} more`);
    this.live(lines.join('\n'));
  }

  handle(e: RunEvent): void {
    switch (e.type) {
      case 'start':
        this.total = e.total;
        this.cached = e.cached;
        this.jobs = e.jobs;
        this.pipeline = e.pipeline;
        this.persist(`${e.pipeline}: ${e.total} cells, ${e.cached} cached, ${e.toRun} to run on ${e.jobs} worker${e.jobs === 1 ? '' : 's'} (run ${e.runId}, logs in ${e.logDir})`);
        break;
      case 'takeover':
        this.persist(`note: took over the store from a dead run (${e.previous.runId}, pid ${e.previous.pid} on ${e.previous.host}); ${e.interrupted} cell(s) it left running will run again`);
        break;
      case 'reindexed': {
        const bits: string[] = [];
        if (e.rebuilt) {
          bits.push(`the store's database was empty but objects/ holds ${e.rebuilt.folders} artifact folder(s): rebuilt its index from them (${e.rebuilt.indexed} cell(s)${e.rebuilt.skipped.length ? `, ${e.rebuilt.skipped.length} folder(s) without a valid record left alone` : ''})`);
        }
        if (e.adopted > 0) bits.push(`${e.adopted} finished cell(s) the database had not recorded were taken from their artifact folders`);
        this.persist(`note: ${bits.join('; ')}`);
        break;
      }
      case 'damaged':
        this.persist(`note: artifact of ${cellLabel(e.cell)} is damaged (${e.detail}); recomputing it`);
        break;
      case 'cell-start':
        this.running.set(e.cell.id, { cell: e.cell, since: Date.now(), attempt: e.attempt });
        if (!this.live) this.persist(`start  ${e.cell.stage} ${cellLabel(e.cell)}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        break;
      case 'cell-progress': {
        const r = this.running.get(e.cell.id);
        if (!r) break;
        const prevEpoch = r.progress?.epoch;
        r.progress = { ...r.progress, ...e.event };
        // Plain output: one line per epoch, not per batch.
        if (!this.live && e.event.epoch !== undefined && e.event.epoch !== prevEpoch) {
          this.persist(`       ${e.cell.stage} ${cellLabel(e.cell)}  ${describeProgress(r.progress)}`);
        }
        break;
      }
      case 'cell-done':
        this.running.delete(e.cell.id);
        this.done++;
        this.workMs += e.durationMs;
        if (!this.live) this.persist(`done   ${e.cell.stage} ${cellLabel(e.cell)} in ${formatDuration(e.durationMs)} [${this.cached + this.done}/${this.total}]`);
        break;
      case 'cell-failed':
        this.running.delete(e.cell.id);
        if (!e.willRetry) this.failed++;
        this.persist(
          `${e.willRetry ? 'RETRY ' : 'FAILED'} ${e.cell.stage} ${cellLabel(e.cell)} (${e.failure}, attempt ${e.attempt}): ${firstLine(e.error)}\n       log: ${e.logPath}`,
          true,
        );
        break;
      case 'cell-blocked':
        this.blocked++;
        break;
      case 'end':
        this.stop();
        this.persist(summaryText(e.summary));
        break;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live) {
      this.live.clear();
      this.live.done(); // shows the cursor again
      this.live = undefined;
    }
  }
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}

export function summaryText(s: RunSummary): string {
  const parts = [`${s.cached + s.done}/${s.total} cells done (${s.cached} cached, ${s.done} run)`];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.blocked) parts.push(`${s.blocked} blocked by failures`);
  if (s.interrupted) parts.push(`${s.interrupted} interrupted`);
  if (s.notStarted) parts.push(`${s.notStarted} not started`);
  let text = `${s.pipeline}: ${parts.join(', ')} in ${formatDuration(s.durationMs)}`;
  if (s.failures.length > 0) {
    text += '\nfailed cells:';
    for (const f of s.failures.slice(0, 20)) {
      const c = formatCoords(f.coords);
      text += `\n  ${f.instance}${c ? ` [${c}]` : ''} ${f.cellId.slice(0, 12)}: ${firstLine(f.error)}\n    log: ${f.logPath}`;
    }
    if (s.failures.length > 20) text += `\n  … and ${s.failures.length - 20} more (sei status)`;
  }
  if (s.diskFull) text += '\nstopped: the disk is full (see the error below); no new cell was started';
  else if (s.exitCode !== 0) text += '\nrun the same command again to finish the missing cells';
  return text;
}
