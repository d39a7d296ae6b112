// The cells of a pipeline as the report's sweep sections see them: sorted by the part their stage
// declares (src/stages/report.ts) and read by that stage's own reader. Nothing here names a stage.
import { GROUP_ROLES, type ReportingStage, type RoleFacts, type SweepRole } from '../stages/report.js';
import type { CellRecord } from '../store/types.js';
import { compatible, obj } from './values.js';

/** The stages the report knows, by name (src/report/contributions.ts loads them). */
export type ReportingStages = ReadonlyMap<string, ReportingStage>;

/** A cell with what its stage reads of it. */
export interface Read<F> {
  cell: CellRecord;
  facts: F;
  /** The cell's position among the store's cells (some sections keep the store's order across roles). */
  order: number;
}

export type SweepCells = { [R in SweepRole]: Read<RoleFacts[R]>[] };


/** Every cell whose stage declares a part, read (metrics only for finished cells), in store order. */
export function readSweep(cells: CellRecord[], stages: ReportingStages): SweepCells {
  const out: SweepCells = {
    dataset: [], model: [], importance: [], retrain: [], evaluation: [], designs: [], validation: [], recommendation: [],
    'subset-comparison': [],
  };
  for (const [order, cell] of cells.entries()) {
    const part = stages.get(cell.stage)?.report.part;
    if (!part) continue;
    const reading = {
      metrics: cell.state === 'done' && obj(cell.metrics) ? cell.metrics : undefined,
      params: cell.params ?? undefined, coords: cell.coords, instance: cell.instance,
    };
    // Each branch keeps the role and its facts together, so the compiler checks the pairing.
    switch (part.role) {
      case 'dataset': out.dataset.push({ cell, order, facts: part.read(reading) }); break;
      case 'model': out.model.push({ cell, order, facts: part.read(reading) }); break;
      case 'importance': out.importance.push({ cell, order, facts: part.read(reading) }); break;
      case 'retrain': out.retrain.push({ cell, order, facts: part.read(reading) }); break;
      case 'evaluation': out.evaluation.push({ cell, order, facts: part.read(reading) }); break;
      case 'designs': out.designs.push({ cell, order, facts: part.read(reading) }); break;
      case 'validation': out.validation.push({ cell, order, facts: part.read(reading) }); break;
      case 'recommendation': out.recommendation.push({ cell, order, facts: part.read(reading) }); break;
      case 'subset-comparison': out['subset-comparison'].push({ cell, order, facts: part.read(reading) }); break;
    }
  }
  return out;
}

/** The part of a sweep whose cells agree with `coords` on every shared axis. */
export function within(sweep: SweepCells, coords: Record<string, unknown>): SweepCells {
  const mine = <F>(list: Read<F>[]): Read<F>[] => list.filter((r) => compatible(r.cell.coords, coords));
  return {
    dataset: mine(sweep.dataset), model: mine(sweep.model), importance: mine(sweep.importance), retrain: mine(sweep.retrain),
    evaluation: mine(sweep.evaluation), designs: mine(sweep.designs), validation: mine(sweep.validation),
    recommendation: mine(sweep.recommendation), 'subset-comparison': mine(sweep['subset-comparison']),
  };
}

/** Cells that define the report's groups (their data, model and importance), in store order. */
export function groupCells(cells: CellRecord[], stages: ReportingStages): CellRecord[] {
  return cells.filter((c) => {
    const role = stages.get(c.stage)?.report.part?.role;
    return role !== undefined && GROUP_ROLES.includes(role);
  });
}

export const isDone = (r: Read<unknown>): boolean => r.cell.state === 'done' && obj(r.cell.metrics) !== null;
