// What a run does with the store before it starts a cell: recover what a dead run left (its
// workers, its interrupted cells, tmp/), make the index agree with the artifacts, find out which
// cells are cached, record damaged ones, and check there is room for the largest cell to run.
import { hostname } from 'node:os';
import { cleanTmp } from '../store/promote.js';
import { adoptArtifacts, listArtifactFolders, rebuildIndex } from '../store/rebuild.js';
import type { LockInfo, Store } from '../store/store.js';
import { diskReserveBytes, ensureFreeSpace } from '../util/disk-space.js';
import type { Plan } from '../pipeline/types.js';
import { assessPlan, type CellAssessment } from './assess.js';
import type { RunEvent } from './run-events.js';
import { awaitOrphanedWorkers } from './orphans.js';

export interface Recovered {
  assessments: CellAssessment[];
  /** Bytes the largest finished cell of a stage took: what a new cell of it is expected to need. */
  expected(stage: string): number;
}

export async function recoverAndAssess(plan: Plan, store: Store, replaced: LockInfo | undefined, verify: boolean,
  emit: (e: RunEvent) => void): Promise<Recovered> {
  // The dead run's workers go first: nothing of theirs may still write into tmp/.
  if (replaced?.workers && replaced.host === hostname()) await awaitOrphanedWorkers(replaced.workers);
  const interrupted = store.interruptStale();
  if (replaced) emit({ type: 'takeover', previous: replaced, interrupted });
  cleanTmp(store);
  // The artifacts are the truth: a database that lost them (its WAL deleted, a copy without
  // it) is rebuilt from objects/, and a finished folder it never recorded is adopted, so a
  // finished cell never runs again.
  const rebuilt = store.isIndexEmpty() && listArtifactFolders(store).length > 0 ? await rebuildIndex(store) : undefined;
  const adopted = await adoptArtifacts(store, plan.cells.map((c) => c.key));
  if (rebuilt || adopted.length > 0) emit({ type: 'reindexed', ...(rebuilt ? { rebuilt } : {}), adopted: adopted.length });

  const assessments = await assessPlan(plan, store, { verify });
  for (const a of assessments) {
    if (a.damaged !== undefined) {
      store.markDamaged(a.cell.key, a.damaged);
      emit({ type: 'damaged', cell: a.cell, detail: a.damaged });
    } else if (a.refreshed && a.record?.manifest) {
      const fresh = new Map(a.refreshed.map((e) => [e.path, e]));
      store.refreshManifest(a.cell.key, a.record.manifest.map((e) => fresh.get(e.path) ?? e));
    }
  }
  // Room for at least the largest cell still to run, before anything is started.
  const expectedBytes = store.largestArtifactByStage();
  const expected = (stage: string): number => expectedBytes.get(stage) ?? 0;
  const pending = assessments.filter((a) => !a.cached);
  if (pending.length > 0) {
    const largest = Math.max(...pending.map((a) => expected(a.cell.stage)));
    ensureFreeSpace(store.dir, largest + diskReserveBytes(), `the run of ${plan.pipeline.name} (${pending.length} cells to run)`);
  }
  return { assessments, expected };
}
