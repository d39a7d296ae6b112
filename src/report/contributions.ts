// What the stages contribute to the report. Each stage may hold a report.ts beside its index.ts
// (src/stages/report.ts): a table of its own and/or the part its cells play in the sweep
// sections. `sei report` loads the contributions of the stages with cells in the store through
// the registry; a model built without them uses the built-in stages' (src/stages/builtin-reports.ts).
import { loadStageReport } from '../pipeline/registry.js';
import { BUILTIN_REPORTS } from '../stages/builtin-reports.js';
import { metricsProblems } from '../stages/metrics.js';
import type { ReportingStage } from '../stages/report.js';
import type { CellRecord } from '../store/types.js';
import type { ReportingStages } from './sweep.js';

export type { ReportingStages } from './sweep.js';

export interface ContributedTable {
  stage: string;
  title: string;
  columns: { label: string; numeric: boolean }[];
  /** One row per finished cell whose metrics match the stage's schema. */
  rows: (string | number | null)[][];
  /** Cells left out, with why (their metrics do not match the declared schema). */
  refused: string[];
}

export const builtinReports: ReportingStages = new Map(BUILTIN_REPORTS.map((s) => [s.name, s]));

/** The contributions of the stages that have cells among `cells`, loaded through the registry. */
export async function loadReports(cells: CellRecord[]): Promise<ReportingStages> {
  const out = new Map<string, ReportingStage>();
  for (const stage of [...new Set(cells.map((c) => c.stage))].sort()) {
    let found: ReportingStage | undefined;
    try {
      found = await loadStageReport(stage);
    } catch {
      continue; // a stage no longer installed: its cells stay in the store, outside the report's sections
    }
    if (found) out.set(stage, found);
  }
  return out;
}

/** The stages' own tables, for the stages with finished cells that declare one (sorted by stage). */
export function contributedTables(cells: CellRecord[], stages: ReportingStages): ContributedTable[] {
  const byStage = new Map<string, CellRecord[]>();
  for (const c of cells) {
    if (c.state !== 'done' || c.metrics === undefined) continue;
    byStage.set(c.stage, [...(byStage.get(c.stage) ?? []), c]);
  }
  const out: ContributedTable[] = [];
  for (const stage of [...byStage.keys()].sort()) {
    const s = stages.get(stage);
    const table = s?.report.table;
    if (!s || !table) continue;
    const t: ContributedTable = {
      stage, title: table.title, columns: table.columns.map((c) => ({ label: c.label, numeric: c.numeric === true })), rows: [], refused: [],
    };
    for (const c of byStage.get(stage)!) {
      const problems = s.metrics ? metricsProblems(s.metrics, c.metrics) : [];
      if (problems.length) t.refused.push(`${c.instance} ${c.id.slice(0, 12)}: ${problems.join('; ')}`);
      else t.rows.push(table.row(c.metrics ?? {}, c.coords));
    }
    out.push(t);
  }
  return out;
}
