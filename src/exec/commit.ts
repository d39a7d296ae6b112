// Committing a finished cell: its folder describes itself (cell.json), enters objects/ by an
// atomic rename, and only then is the cell recorded done — so the database can always be rebuilt
// from the artifacts, and a crash in between leaves a complete folder that is adopted next time.
import type { Plan, PlannedCell } from '../pipeline/types.js';
import { writeArtifactRecord } from '../store/artifact-record.js';
import type { Manifest } from '../store/manifest.js';
import { promote } from '../store/promote.js';
import type { Store } from '../store/store.js';
import type { CellSuccess } from './types.js';

/** Commits a successful result; returns its folder relative to the store. */
export function commitCell(store: Store, plan: Plan, cell: PlannedCell, result: CellSuccess,
  attempt: { runId: string; attempt: number; logRel: string; outDir: string }): string {
  const { runId, logRel, outDir } = attempt;
  writeArtifactRecord(outDir, {
    cellId: cell.id, key: cell.key, pipeline: plan.pipeline.name, instance: cell.instance, stage: cell.stage,
    slot: cell.slot, position: plan.cells.indexOf(cell), coords: cell.coords, params: cell.params,
    paramsDigest: cell.keyParts.paramsHash, inputs: cell.inputs, keyParts: cell.keyParts, manifest: result.manifest,
    attempt: { runId, n: attempt.attempt, startedAt: result.startedAt, endedAt: result.endedAt, durationMs: result.durationMs, cpuMs: result.cpuMs, logPath: logRel },
  });
  const dirRel = promote(store, outDir, cell.key);
  store.markDone(cell.key, {
    runId, dirRel, manifest: result.manifest as Manifest, metrics: result.metrics, provenance: result.provenance,
    startedAt: result.startedAt, endedAt: result.endedAt, durationMs: result.durationMs, cpuMs: result.cpuMs,
  });
  // The main database file holds every finished cell: losing the WAL loses no result.
  store.checkpoint();
  return dirRel;
}
