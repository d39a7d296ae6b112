// The plan: what the config + sweep expansion produce (src/config, src/pipeline) and what the
// store and executor consume (src/store, src/exec). Pure data, JSON-serialisable. The cell
// records are the store's (src/store/cell-types.ts): the store sits below the planner.
import type { PlannedCell } from '../store/cell-types.js';

export type { BlockedBy, KeyParts, NotCachedReason, PlannedCell, PlannedInput } from '../store/cell-types.js';

export interface Plan {
  pipeline: { name: string; file: string; hash: string };
  /** Topologically ordered: every cell comes after the cells it consumes. */
  cells: PlannedCell[];
  /** Pipeline-level settings (backend, requirements…) passed to stages as needed. */
  settings: Record<string, unknown>;
  /** The pipeline's `executor:` block, as written (validated by the config schema). */
  executor?: unknown;
}
