// The executor contract: "cell spec in, output folder + result file out". The local process pool
// implements it now; a cluster scheduler (Slurm) can implement the same interface later, since
// a spec is plain JSON and the result is a folder holding result.json.
import type { ProgressEvent, UpstreamOutput } from '../stages/types.js';
import type { Manifest } from '../store/manifest.js';

export interface CellSpec {
  cellId: string;
  key: string;
  stage: string;
  instance: string;
  params: unknown;
  coords: Record<string, unknown>;
  inputs: Record<string, UpstreamOutput | UpstreamOutput[]>;
  /** Empty folder under <store>/tmp the stage writes into. */
  outDir: string;
  /** Store-wide scratch cache. */
  cacheDir: string;
  /** Per-cell log file (appended to across attempts). */
  logPath: string;
  settings: Record<string, unknown>;
  /** Attempt number, from 1. */
  attempt: number;
  timeoutSec?: number;
  /** Provenance known to the orchestrator (git commit, package versions); the worker adds its own. */
  provenance: Record<string, unknown>;
  /** Folder a long stage may keep resumable state in (per-epoch checkpoints); kept across requeues. */
  checkpointDir?: string;
}

export type FailureKind = 'error' | 'crash' | 'timeout' | 'aborted';

export interface CellSuccess {
  ok: true;
  metrics: Record<string, unknown>;
  provenance: Record<string, unknown>;
  /** Manifest of outDir, result.json included, taken after every file was fsynced. */
  manifest: Manifest;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** CPU time of the worker process over the cell (user + system, all its threads). */
  cpuMs?: number;
}

export interface CellFailure {
  ok: false;
  failure: FailureKind;
  error: string;
  /** Whether the cell had started on a worker (false: cancelled while still queued). */
  started: boolean;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** As CellSuccess's, when the failure came from the worker (not when it died). */
  cpuMs?: number;
}

export type CellResult = CellSuccess | CellFailure;

export interface SubmitHooks {
  /** The cell left the queue and is now running (pid of the process running it, when local). */
  onStart?(info: { pid?: number; startedAt: string }): void;
  onProgress?(event: ProgressEvent): void;
  /** Higher runs first among queued cells (the orchestrator favours cells deeper in the DAG). */
  priority?: number;
}

export interface Executor {
  readonly concurrency: number;
  /** Run one cell; resolves (never rejects) with its outcome. */
  submit(spec: CellSpec, hooks?: SubmitHooks): Promise<CellResult>;
  /** Cancel everything: queued cells resolve 'aborted' unstarted, running ones are killed. */
  abortAll(reason: string): void;
  /** Stop the workers. */
  close(): Promise<void>;
  /** Called once the run holds the store, before any submit (a cluster executor names its jobs after the run). */
  begin?(run: { runId: string; storeDir: string; startedAt: string }): void | Promise<void>;
}

// ---- the IPC messages between the local pool and a worker process -------------------------------

export type ToWorker = { type: 'run'; spec: CellSpec } | { type: 'abort'; reason: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; key: string; event: ProgressEvent }
  | { type: 'done'; key: string; metrics: Record<string, unknown>; provenance: Record<string, unknown>; manifest: Manifest; startedAt: string; endedAt: string; durationMs: number; cpuMs: number; rssBytes: number }
  | { type: 'error'; key: string; error: string; startedAt: string; endedAt: string; durationMs: number; cpuMs: number; rssBytes: number };

/** Name of the result file every cell's artifact folder holds, written last. */
export const RESULT_FILE = 'result.json';
