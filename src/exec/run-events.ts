// What a run tells its caller as it goes (the progress display, the CLI) and what it returns.
import type { PlannedCell } from '../pipeline/types.js';
import type { ProgressEvent } from '../stages/types.js';
import type { RebuildResult } from '../store/rebuild.js';
import type { LockInfo } from '../store/store.js';

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

