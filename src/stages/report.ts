// What a stage tells the report. A stage folder may hold a `report.ts` beside its `index.ts`
// whose default export is a StageReport: its own table (a row per finished cell) and/or the part
// its cells play in the report's sweep sections (the cut table, the figures, the validation,
// the recommendations), read from its own typed metrics. The report collects these from the
// registry (src/pipeline/registry.ts: loadStageReport) and never names a stage.
//
// The contribution lives beside the definition, not in it, on purpose: the cache key covers every
// module a stage's index.ts loads, and how a result is shown must not make it stale.
import type { TSchema } from '@sinclair/typebox';

/**
 * A stored result as the report meets it: it may be older than the stage's schema or damaged, so
 * every field may be missing and every leaf is read through src/util/tolerant.ts (num, str, …).
 * Field names are still checked by the compiler: no dotted string paths.
 */
export type Stored<T> =
  T extends readonly (infer U)[] ? readonly (Stored<U> | null)[]
    : T extends object ? { readonly [K in keyof T]?: Stored<T[K]> | null }
      : T;

/** One cell as a contribution reads it. */
export interface ReportedCell<M, P> {
  /** Its metrics when the cell is done, else undefined. */
  metrics: Stored<M> | undefined;
  params: Stored<P> | undefined;
  coords: Record<string, unknown>;
  instance: string;
}

/** Its own table: one row per finished cell whose metrics match the stage's schema. */
export interface StageTable<M> {
  title: string;
  columns: { label: string; numeric?: boolean }[];
  row(metrics: M, coords: Record<string, unknown>): (string | number | null)[];
}

export type Precision = 'fp32' | 'fp16' | 'int8';
export const PRECISIONS: Precision[] = ['fp32', 'fp16', 'int8'];
export type Percentile = 'p50' | 'p95' | 'p99' | 'mean';
export const PERCENTILES: Percentile[] = ['p50', 'p95', 'p99', 'mean'];

/** The data a sweep was trained on: it names the report's group. */
export interface DatasetFacts {
  label: string | null;
  classes: string[] | null;
  /** How the class subset was chosen, when it was not an explicit list of names. */
  subset: string | null;
}

/** The base model a sweep splits: it names the group, gives the reference accuracy and the cut order. */
export interface ModelFacts {
  label: string | null;
  testAccuracy: number | null;
  cutPoints: string[];
}

export interface PerClassCurve {
  class: string;
  log10Cui: (number | null)[];
  candidates: string[];
  best: string | null;
}

/** The importance curve of the group: the figure, and the cut table's CUI columns. */
export interface ImportanceFacts {
  cutPoints: string[];
  log10Cui: (number | null)[];
  candidates: string[];
  best: string | null;
  cdeBytes: (number | null)[];
  cdeCandidates: string[];
  target: string | null;
  imagesPerClass: number | 'all' | null;
  /** The scoring choices (METHOD.md): split scored, read point, candidate rule. */
  split: string | null;
  images: number | null;
  readPoint: string | null;
  candidateRule: string | null;
  perClass: PerClassCurve[];
}

/** A retrained design (its state counts towards the cut table's progress). */
export interface RetrainFacts {
  /** The cut when the cell's coordinates do not name it. */
  cut: string | null;
  seed: number | null;
}

/** An evaluated design: the cut table's accuracy, payload and compute columns. */
export interface EvaluationFacts extends RetrainFacts {
  accuracy: number | null;
  quantized: Record<Precision, number | null>;
  bytes: { raw: number | null; fp32: number | null; fp16: number | null; int8: number | null };
  deviceMs: number | null;
  serverMs: number | null;
  /** The base model's accuracy, when the evaluation recorded it. */
  baseAccuracy: number | null;
}

/** A simulated design: the latency columns and the accuracy–latency figure. */
export interface DesignFacts {
  id: string | null;
  /** 'split', or a baseline: 'local' or 'remote'. */
  kind: string;
  variant: string;
  network: string;
  device: string | null;
  cut: string;
  precision: string;
  payloadBytes: number | null;
  deviceMs: number | null;
  transferP50: number | null;
  serverMs: number | null;
  /** End-to-end latency per percentile (null when every frame was lost). */
  e2e: Record<Percentile, number | null>;
  frameLossRate: number | null;
  simulator: string | null;
  /** Its own accuracy, when recorded (else the report takes the evaluated one of its cut). */
  accuracy: number | null;
}

/** I-SPLIT against the retrained accuracies of one sweep. */
export interface ValidationFacts {
  isplitRank: number | null;
  isplitBestOverall: string | null;
  cdeChoice: string | null;
  oracleCut: string | null;
  regretPrecision: string | null;
  baselineLooMae: number | null;
  fit: { log10Cui: number; accuracy: number }[];
  spearman: { value: number | null; ci95: [number | null, number | null] };
  kendall: { value: number | null; ci95: [number | null, number | null] };
  isplitBest: string | null;
  retrainedBest: string | null;
  hit: boolean | null;
  regretIsplit: number | null;
  regretCde: number | null;
  payloadBudgetBytes: number | null;
  looMae: number | null;
  calibration: { cut: string | null; log10Cui: number | null; predicted: number | null; actual: number | null }[];
}

/** A design as a recommendation names it (matched to the simulated designs by id, else by what it is). */
export interface DesignRef {
  id: string | null;
  network: string | null;
  cut: string | null;
  precision: string | null;
  variant: string | null;
  accuracy: number | null;
  e2e: Record<Percentile, number | null>;
}

export interface RecommendationFacts {
  /** The requirements' own name, when they have one. */
  name: string | null;
  requirements: Record<string, unknown> | null;
  /** The percentile the latency requirement looks at (p95 unless the requirements say). */
  percentile: Percentile;
  /** The same, from the requirements recorded in the result only (for the Pareto figure). */
  recordedPercentile: Percentile;
  summary: string | null;
  chosen: DesignRef | null;
  binding: string | null;
  relax: { constraint: string; relaxTo: number | null; admitsIfRelaxed: number | null }[];
  feasibleCount: number | null;
  rejected: { design: DesignRef; violations: { constraint: string; limit: number | null; actual: number | null; by: number | null }[] }[];
  /** The recorded Pareto front per network. */
  pareto: Record<string, DesignRef[]>;
}

/** How the best cut moves between class subsets. */
export interface SubsetComparisonFacts {
  subsets: { label: string; isplitBest: string | null; retrainedBest: string | null; hit: boolean | null; spearman: number | null }[];
  isplitBestMoves: boolean | null;
  retrainedBestMoves: boolean | null;
  moveAgreement: number | null;
  hitRate: number | null;
}

/** What a role's reader returns. Cells of the first three roles define the report's groups. */
export interface RoleFacts {
  dataset: DatasetFacts;
  model: ModelFacts;
  importance: ImportanceFacts;
  retrain: RetrainFacts;
  evaluation: EvaluationFacts;
  designs: DesignFacts[];
  validation: ValidationFacts;
  recommendation: RecommendationFacts;
  'subset-comparison': SubsetComparisonFacts;
}
export type SweepRole = keyof RoleFacts;
export const GROUP_ROLES: readonly SweepRole[] = ['dataset', 'model', 'importance'];

/** The part a stage's cells play in the sweep sections, and how to read one. */
export type SweepPart<M, P> = { [R in SweepRole]: { role: R; read(cell: ReportedCell<M, P>): RoleFacts[R] } }[SweepRole];

export interface StageReport<M = any, P = any> {
  table?: StageTable<M>;
  part?: SweepPart<M, P>;
}

/** A stage as the report knows it: its contribution and the schema its table rows are checked against. */
export interface ReportingStage {
  name: string;
  metrics?: TSchema;
  report: StageReport;
}
