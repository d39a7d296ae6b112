// What the store records of a planned cell: its id, key and the parts of the key, its inputs,
// and why it was not cached. The planner (src/pipeline) produces these and the store keeps them,
// so they are declared here, below both (src/pipeline/types.ts re-exports them with the Plan).
// Pure data, JSON-serialisable.

/** The parts of a cell's cache key, kept per slot so a later plan can say what changed. */
export interface KeyParts {
  /** sha256 of the canonical params. */
  paramsHash: string;
  /** Canonical params themselves (to name the param that changed). */
  params: unknown;
  /** sha256 of the compiled code of the stage's codeDeps, and per folder. */
  codeHash: string;
  codeHashes: Record<string, string>;
  /** Content hash of each external input path (dataset folders, user weights). */
  externalHashes: Record<string, string>;
  /** Cache keys of the upstream cells, by input name (arrays for gathered inputs). */
  upstreamKeys: Record<string, string | string[]>;
  /** Upstream instance name by input name (to name it when its key changed). */
  upstreamInstances?: Record<string, string>;
  /**
   * The backend the cell computes on, for stages that declare `usesBackend` (absent otherwise,
   * and in slots recorded before the backend entered the key).
   */
  backend?: string;
}

export interface PlannedInput {
  /** Upstream instance name. */
  from: string;
  kind: 'one' | 'many';
  /** Upstream cell ids (one entry for 'one'). */
  cellIds: string[];
}

export interface PlannedCell {
  /** Stable content id (stage, instance, params, upstream ids), 64 hex. */
  id: string;
  /** Merkle cache key (id + code + external inputs + upstream keys), 64 hex. */
  key: string;
  instance: string;
  stage: string;
  params: unknown;
  /** Sweep coordinates (own + inherited), e.g. { cut: 'block3_pool', seed: 0 }. */
  coords: Record<string, unknown>;
  /** Stable slot name: instance + canonical coords; used to explain why a cell re-runs. */
  slot: string;
  inputs: Record<string, PlannedInput>;
  keyParts: KeyParts;
  /** Per-stage execution settings from the pipeline (timeout, retries). */
  timeoutSec?: number;
  retries?: number;
  /**
   * Set only in a dry run that tolerates missing external inputs: the cell cannot run because
   * an external input of its own or of an upstream cell is absent (its key uses a placeholder).
   */
  blocked?: BlockedBy;
}

export interface BlockedBy {
  /** Absolute paths of the missing external inputs (own or upstream), sorted. */
  missing: string[];
  /** e.g. "input /data/notMNIST_small missing" or "upstream data: input /data/notMNIST_small missing". */
  reason: string;
}

/** Why a cell is not cached, as shown by `sei plan` and `sei explain`. */
export type NotCachedReason =
  | { kind: 'new' }
  | { kind: 'param-changed'; path: string; before: unknown; after: unknown }
  | { kind: 'code-changed'; folder: string; added?: boolean; removed?: boolean }
  | { kind: 'backend-changed'; before: string | undefined; after: string | undefined }
  | { kind: 'upstream-changed'; input: string; instance: string }
  | { kind: 'input-file-changed'; path: string }
  | { kind: 'artifact-damaged'; detail: string }
  | { kind: 'failed-before'; error: string }
  | { kind: 'interrupted' };
