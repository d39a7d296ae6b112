// Which cells of a plan are cached and, for the others, why not. Shared by `sei plan` (read-only)
// and the orchestrator (which then records damaged artifacts and refreshed manifests).
import { explainChange, formatReason } from '../pipeline/explain.js';
import type { KeyParts, NotCachedReason, Plan, PlannedCell } from '../pipeline/types.js';
import { verifyManifest, type ManifestEntry } from '../store/manifest.js';
import type { SlotRecord, Store, StoredState } from '../store/store.js';

export interface CellAssessment {
  cell: PlannedCell;
  cached: boolean;
  /** Empty when cached. */
  reasons: NotCachedReason[];
  /** The stored row under this cell's key, if any. */
  record?: StoredState;
  /** Set when the stored artifact failed verification. */
  damaged?: string;
  /** Manifest entries whose mtime moved while their content stayed the same. */
  refreshed?: ManifestEntry[];
}

/** Why a cell that is not cached has to run, most specific first. */
export function reasonsFor(cell: PlannedCell, slot: SlotRecord | undefined, record: StoredState | undefined, damaged?: string): NotCachedReason[] {
  if (damaged !== undefined) return [{ kind: 'artifact-damaged', detail: damaged }];
  if (record?.state === 'failed') return [{ kind: 'failed-before', error: record.error ?? 'unknown error' }];
  if (record?.state === 'interrupted' || record?.state === 'running') return [{ kind: 'interrupted' }];
  if (record?.state === 'pending' && record.error?.startsWith('artifact damaged')) {
    return [{ kind: 'artifact-damaged', detail: record.error.replace(/^artifact damaged: /, '') }];
  }
  if (!slot) return [{ kind: 'new' }];
  if (slot.key === cell.key) return [{ kind: 'new' }]; // planned before but never finished
  const changes = explainChange(slot.keyParts, cell.keyParts);
  return changes.length > 0 ? changes : [{ kind: 'new' }];
}

/** Human text of a reason, as the planner words it. */
export function reasonFormatter(): (reason: NotCachedReason) => string {
  return formatReason;
}

/** What changed between two key parts (the planner's comparison). */
export function compareKeyParts(prev: KeyParts | undefined, cur: KeyParts): NotCachedReason[] {
  return explainChange(prev, cur);
}

/**
 * Assess every cell of the plan against the store (undefined: nothing is cached). `verify`
 * re-hashes every artifact file instead of trusting unchanged size and mtime.
 */
export async function assessPlan(plan: Plan, store: Store | undefined, options: { verify?: boolean } = {}): Promise<CellAssessment[]> {
  if (!store) return plan.cells.map((cell) => ({ cell, cached: false, reasons: [{ kind: 'new' }] }));
  const records = store.statesByKeys(plan.cells.map((c) => c.key));
  const slots = store.slotsOf(plan.pipeline.name);
  const out: CellAssessment[] = [];
  for (const cell of plan.cells) {
    const record = records.get(cell.key);
    const slot = slots.get(cell.slot);
    if (record?.state === 'done' && record.dir && record.manifest) {
      const check = await verifyManifest(record.dir, record.manifest, { full: options.verify === true });
      if (check.ok) {
        const a: CellAssessment = { cell, cached: true, reasons: [], record };
        if (check.refreshed.length > 0) a.refreshed = check.refreshed;
        out.push(a);
        continue;
      }
      out.push({ cell, cached: false, reasons: reasonsFor(cell, slot, record, check.detail), record, damaged: check.detail });
      continue;
    }
    const a: CellAssessment = { cell, cached: false, reasons: reasonsFor(cell, slot, record) };
    if (record) a.record = record;
    out.push(a);
  }
  return out;
}
