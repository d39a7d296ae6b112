// Tables the stages contribute to the report (StageDefinition.report): the report loads the
// definition of each stage with finished cells and asks it for its rows, reading every cell's
// metrics through the stage's declared schema. The report knows the built-in stages' results in
// depth (src/report/model.ts); this is how any other stage reaches it.
import { loadStage } from '../pipeline/registry.js';
import { metricsProblems } from '../stages/metrics.js';
import type { StageDefinition } from '../stages/types.js';
import type { CellRecord } from '../store/types.js';

export interface ContributedTable {
  stage: string;
  title: string;
  columns: { label: string; numeric: boolean }[];
  /** One row per finished cell whose metrics match the stage's schema. */
  rows: (string | number | null)[][];
  /** Cells left out, with why (their metrics do not match the declared schema). */
  refused: string[];
}

/** The stages' own tables, for the stages with finished cells that declare one (sorted by stage). */
export async function contributedTables(cells: CellRecord[]): Promise<ContributedTable[]> {
  const byStage = new Map<string, CellRecord[]>();
  for (const c of cells) {
    if (c.state !== 'done' || c.metrics === undefined) continue;
    byStage.set(c.stage, [...(byStage.get(c.stage) ?? []), c]);
  }
  const out: ContributedTable[] = [];
  for (const stage of [...byStage.keys()].sort()) {
    let def: StageDefinition;
    try {
      def = await loadStage(stage);
    } catch {
      continue; // a stage no longer installed: its cells stay in the store, without a table
    }
    if (!def.report) continue;
    const table: ContributedTable = {
      stage, title: def.report.title, columns: def.report.columns.map((c) => ({ label: c.label, numeric: c.numeric === true })), rows: [], refused: [],
    };
    for (const c of byStage.get(stage)!) {
      const problems = def.metrics ? metricsProblems(def.metrics, c.metrics) : [];
      if (problems.length) table.refused.push(`${c.instance} ${c.id.slice(0, 12)}: ${problems.join('; ')}`);
      else table.rows.push(def.report.row(c.metrics ?? {}, c.coords));
    }
    out.push(table);
  }
  return out;
}
