// The scheduling order of a run: each cell's depth in the DAG (deeper cells go first, so finished
// results — an evaluation, not just another trained model — appear early in a long sweep), and
// which cells still to run wait on which.
import type { Plan, PlannedCell } from '../pipeline/types.js';

export interface DependencyGraph {
  depth: Map<string, number>;
  /** Per cell to run: the ids of its upstream cells not done yet. */
  waitingOn: Map<string, Set<string>>;
  /** Per cell: the cells to run that consume it. */
  dependents: Map<string, string[]>;
}

export function dependencyGraph(plan: Plan, toRun: PlannedCell[], byId: Map<string, PlannedCell>, done: { has(id: string): boolean }): DependencyGraph {
  const depth = new Map<string, number>();
  for (const c of plan.cells) {
    let d = 0;
    for (const input of Object.values(c.inputs)) for (const id of input.cellIds) d = Math.max(d, (depth.get(id) ?? 0) + 1);
    depth.set(c.id, d);
  }
  const waitingOn = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  for (const cell of toRun) {
    const deps = new Set<string>();
    for (const input of Object.values(cell.inputs)) {
      for (const id of input.cellIds) {
        if (!byId.has(id)) throw new Error(`plan error: cell ${cell.id.slice(0, 12)} (${cell.instance}) needs ${id.slice(0, 12)}, which is not in the plan`);
        if (!done.has(id)) deps.add(id);
      }
    }
    waitingOn.set(cell.id, deps);
    for (const d of deps) {
      const list = dependents.get(d) ?? [];
      list.push(cell.id);
      dependents.set(d, list);
    }
  }
  return { depth, waitingOn, dependents };
}
