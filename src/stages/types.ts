// The contract between the orchestrator and every stage (see docs/ARCHITECTURE.md).
// Stage modules import only cheap things at top level: the planner imports every stage a
// pipeline names just to read its schema; heavy libraries are imported inside `run`.
import type { TSchema } from '@sinclair/typebox';

export interface InputDecl {
  /** 'one': a single upstream cell; 'many': a gathered array of upstream cells. */
  kind: 'one' | 'many';
  optional?: boolean;
  description?: string;
  /** 'many' inputs: the fewest upstream cells that make sense (checked at plan time). */
  minItems?: number;
  /**
   * With minItems: count distinct values of this coordinate instead of cells (a validation
   * needs three cut points, not three cells: two cuts × two seeds is still two cut points).
   */
  distinctBy?: string;
}

// Progress of a running cell; defined in util so that the training loop (src/ml) reports it
// without importing the stage contract above it.
export type { ProgressEvent } from '../util/progress.js';
import type { ProgressEvent } from '../util/progress.js';

export interface UpstreamOutput {
  cellId: string;
  stage: string;
  instance: string;
  /** Sweep coordinates of that cell (own sweep values plus inherited ones). */
  coords: Record<string, unknown>;
  /** Its resolved params. */
  params: unknown;
  /** Its final artifact folder (read-only). */
  dir: string;
  /** The `metrics` of its result.json. */
  metrics: Record<string, unknown>;
}

export interface StageContext<P = unknown> {
  params: P;
  inputs: Record<string, UpstreamOutput | UpstreamOutput[]>;
  /** Write every output file here; the folder is moved into the store when the cell is done. */
  outDir: string;
  /** Store-wide scratch cache shared by cells (e.g. a compiled ns-3 scenario). */
  cacheDir: string;
  log(message: string): void;
  progress(event: ProgressEvent): void;
  setProvenance(fields: Record<string, unknown>): void;
  signal: AbortSignal;
  /** Pipeline-level settings (Plan.settings), e.g. { backend: 'auto' } from config or --backend. */
  settings: Record<string, unknown>;
  /** Where a long stage may keep per-epoch checkpoints to resume from after a requeue (cluster jobs). */
  checkpointDir?: string;
}

export interface StageOutput<M extends object = Record<string, unknown>> {
  metrics: M;
}

export interface PlanContext {
  /** Folder holding the pipeline file, for resolving relative paths. */
  pipelineDir: string;
  /** Project root (where configs/ lives). */
  projectRoot: string;
}

export interface StageDefinition<P = any, M extends object = Record<string, unknown>> {
  /** Equals the stage's folder name under src/stages/. */
  name: string;
  description: string;
  /** TypeBox schema of the params; additionalProperties: false at every level. */
  params: TSchema;
  inputs: Record<string, InputDecl>;
  /**
   * Source folders (relative to the project root) hashed whole into the cache key, beyond the
   * modules the stage reaches through imports (those are followed automatically): list folders
   * with non-code assets the stage reads at run time, e.g. an ns-3 scenario.
   */
  codeDeps: string[];
  /**
   * The stage computes on a TensorFlow.js backend: the backend the run will use (settings.backend,
   * `auto` resolved at plan time) enters its cache key, since results are reproducible to the bit
   * only on one backend, and the stage is handed that backend by name (never a fallback).
   */
  usesBackend?: boolean;
  /** Paths outside the store whose content enters the cache key (e.g. a dataset folder). */
  externalInputs?(params: P, ctx: PlanContext): string[];
  /** What a missing external input is and how to get it, added to the planner's error. */
  missingInputHint?(path: string, params: P): string | undefined;
  /** Semantic checks run at plan time, before anything runs; returns error messages. */
  validate?(params: P, ctx: PlanContext): string[];
  /** Plan-time warnings: a valid cell that is probably not what the user wants (shown, never fatal). */
  warnings?(params: P): string[];
  /** What a cell writes into its artifact folder, one short line each (shown by `sei plan`). */
  outputs?: string[];
  /**
   * TypeBox schema of the metrics `run` returns (src/stages/metrics.ts): checked before
   * result.json is written, read by downstream stages through `upstreamMetrics`, and the source
   * of the "Result shapes" section of docs/ARCHITECTURE.md. What the report shows of them is
   * declared beside the definition, in the stage folder's report.ts (src/stages/report.ts).
   */
  metrics?: TSchema;
  run(ctx: StageContext<P>): Promise<StageOutput<M>>;
}
