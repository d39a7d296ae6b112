// What a run tells its caller as it goes (the progress display, the CLI) and what it returns.
import type { PlannedCell } from '../pipeline/types.js';
import type { ProgressEvent } from '../stages/types.js';
import type { RebuildResult } from '../store/rebuild.js';
import type { LockInfo } from '../store/store.js';
import type { DiskFullError } from '../util/disk-space.js';

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


/** The summary of a run that has not started a cell yet. */
export function newSummary(runId: string, pipeline: string, total: number, cached: number): RunSummary {
  return {
    runId, pipeline, total, cached, done: 0, failed: 0, blocked: 0,
    interrupted: 0, notStarted: 0, failures: [], durationMs: 0, exitCode: 0,
  };
}

/** Completes the summary once every cell has settled: what never started, the exit code, a full disk. */
export function closeSummary(summary: RunSummary, durationMs: number, diskFull: DiskFullError | undefined): boolean {
  // Cells never reached (fail-fast or cancellation stopped the run before their inputs were done).
  summary.notStarted = summary.total - summary.cached - summary.done - summary.failed - summary.blocked - summary.interrupted;
  summary.durationMs = durationMs;
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
  return complete;
}
