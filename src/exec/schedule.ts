// Running the cells of a run in dependency order: every cell whose inputs are done is started
// (the executor limits how many run at once and orders them by depth); a finished cell releases
// the cells waiting on it, a failed one blocks everything downstream of it.
import type { PlannedCell } from '../pipeline/types.js';
import type { DependencyGraph } from './dependencies.js';

/** How one cell ended: done, failed (its dependents are blocked) or stopped with the run. */
export type CellOutcome = 'done' | 'failed' | 'stopped';

export interface ScheduleHooks {
  run(cell: PlannedCell): Promise<CellOutcome>;
  /** Once the run is stopping, ready cells stay unlaunched (they are counted as not started). */
  stopping(): boolean;
  stop(reason: string): void;
  blocked(cell: PlannedCell, by: PlannedCell): void;
}

/** Runs `toRun` to the end; an engine fault (not a cell's) stops the run and is rethrown once the cells settle. */
export async function scheduleCells(toRun: PlannedCell[], graph: DependencyGraph, byId: Map<string, PlannedCell>, hooks: ScheduleHooks): Promise<void> {
  const { waitingOn, dependents } = graph;
  const inFlight = new Set<Promise<void>>();
  const settledIds = new Set<string>();

  const block = (failedId: string): void => {
    // Everything downstream of a failed cell cannot run in this run.
    const stack = [...(dependents.get(failedId) ?? [])];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (settledIds.has(id)) continue;
      settledIds.add(id);
      hooks.blocked(byId.get(id)!, byId.get(failedId)!);
      stack.push(...(dependents.get(id) ?? []));
    }
  };

  const launch = (cell: PlannedCell): void => {
    const p = hooks.run(cell).then((outcome) => {
      settledIds.add(cell.id);
      if (outcome === 'done') {
        for (const d of dependents.get(cell.id) ?? []) {
          const deps = waitingOn.get(d)!;
          deps.delete(cell.id);
          if (deps.size === 0 && !settledIds.has(d) && !hooks.stopping()) launch(byId.get(d)!);
        }
      } else if (outcome === 'failed') {
        block(cell.id);
      }
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  try {
    for (const cell of toRun) if (!hooks.stopping() && waitingOn.get(cell.id)!.size === 0) launch(cell);
    while (inFlight.size > 0) await Promise.race(inFlight);
  } catch (e) {
    // Stop the workers and let the cells settle before reporting the fault.
    hooks.stop(`engine error: ${(e as Error).message}`);
    await Promise.allSettled([...inFlight]);
    throw e;
  }
}
