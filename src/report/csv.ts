// Tidy CSV, one file per table: one row per observation, one column per variable, the group
// (model, dataset, class subset) as ordinary columns, missing values as empty cells (never 0).
// Text cells that a spreadsheet would run as a formula are neutralised.
import { stringify } from 'csv-stringify/sync';
import type { ReportModel, GroupModel, VariantModel, DesignSummary } from './model.js';
import { PRECISIONS } from './model.js';
import { csvSafe } from './escape.js';
import { coordsText } from './values.js';

export interface CsvTable {
  name: string;
  columns: string[];
  rows: unknown[][];
}

function groupCols(m: ReportModel, g: GroupModel, v?: VariantModel): unknown[] {
  const base = [m.pipeline.name, g.model, g.dataset, g.classes ? g.classes.join(';') : null, coordsText(g.coords)];
  return v ? [...base, coordsText(v.coords)] : base;
}
const GROUP_COLUMNS = ['pipeline', 'model', 'dataset', 'classes', 'group'];

/** Whether the bottleneck's fp32 code is smaller than the fp32 tensor at the cut (null when unknown). */
export function compresses(b: { raw: number | null; fp32: number | null }): boolean | null {
  return b.raw === null || b.fp32 === null ? null : b.fp32 < b.raw;
}

export function tidyTables(m: ReportModel): CsvTable[] {
  const cuts: CsvTable = {
    name: 'cuts',
    columns: [...GROUP_COLUMNS, 'setting', 'cut', 'cut_index', 'log10_cui', 'candidate', 'isplit_best', 'cde_candidate',
      'bytes_at_cut_fp32', 'bottleneck_bytes_fp32', 'bottleneck_bytes_fp16', 'bottleneck_bytes_int8', 'bottleneck_compresses',
      'accuracy_mean', 'accuracy_sd', 'accuracy_min', 'accuracy_max', 'accuracy_n', 'base_accuracy', 'delta_from_base',
      ...PRECISIONS.map((p) => `accuracy_${p}`), 'device_ms_p50', 'server_ms_p50', 'status', 'retrained_cells_done', 'retrained_cells_expected'],
    rows: [],
  };
  const perClass: CsvTable = { name: 'per_class_cui', columns: [...GROUP_COLUMNS, 'class', 'cut', 'cut_index', 'log10_cui', 'best_for_class'], rows: [] };
  const designs: CsvTable = {
    name: 'designs',
    columns: [...GROUP_COLUMNS, 'setting', 'design_id', 'kind', 'variant', 'network', 'device', 'cut', 'precision', 'payload_bytes', 'device_ms', 'transfer_ms_p50', 'server_ms',
      'e2e_ms_p50', 'e2e_ms_p95', 'e2e_ms_p99', 'e2e_ms_mean', 'frame_loss_rate', 'simulator', 'accuracy', 'pareto', 'chosen_by'],
    rows: [],
  };
  const validation: CsvTable = {
    name: 'validation',
    columns: [...GROUP_COLUMNS, 'setting', 'spearman', 'spearman_ci_low', 'spearman_ci_high', 'kendall', 'kendall_ci_low', 'kendall_ci_high',
      'isplit_best', 'isplit_rank', 'isplit_best_overall', 'retrained_best', 'hit', 'regret_isplit', 'regret_cde', 'cde_choice', 'payload_budget_bytes',
      'regret_precision', 'calibration_loo_mae', 'baseline_loo_mae'],
    rows: [],
  };
  for (const g of m.groups) {
    if (g.importance) {
      for (const pc of g.importance.perClass) {
        g.importance.cutPoints.forEach((cut, i) => perClass.rows.push([...groupCols(m, g), pc.class, cut, i, pc.log10Cui[i] ?? null, pc.best === cut]));
      }
    }
    for (const v of g.variants) {
      for (const r of v.rows) {
        cuts.rows.push([...groupCols(m, g, v), r.cut, r.index, r.log10Cui, r.candidate, r.isplitBest, r.cdeCandidate,
          r.bytes.raw, r.bytes.fp32, r.bytes.fp16, r.bytes.int8, compresses(r.bytes),
          r.accuracy?.mean ?? null, r.accuracy && r.accuracy.n > 1 ? r.accuracy.sd : null, r.accuracy?.min ?? null, r.accuracy?.max ?? null, r.accuracy?.n ?? 0,
          g.baseAccuracy, r.deltaFromBase, ...PRECISIONS.map((p) => r.quantized[p]?.mean ?? null), r.deviceMs, r.serverMs, r.status, r.doneCells, r.expectedCells]);
      }
      for (const d of v.designs) {
        designs.rows.push([...groupCols(m, g, v), d.id, d.kind, d.variant || null, d.network, d.device, d.cut, d.precision, d.payloadBytes, d.deviceMs, d.transferP50, d.serverMs,
          d.e2e.p50, d.e2e.p95, d.e2e.p99, d.e2e.mean, d.frameLossRate, d.simulator, d.accuracy, d.pareto, d.chosenBy.join(';') || null]);
      }
      for (const val of v.validation) {
        validation.rows.push([...groupCols(m, g, v), val.spearman.value, val.spearman.ci95[0], val.spearman.ci95[1], val.kendall.value, val.kendall.ci95[0], val.kendall.ci95[1],
          val.isplitBest, val.isplitRank, val.isplitBestOverall, val.retrainedBest, val.hit, val.regretIsplit, val.regretCde, val.cdeChoice,
          val.payloadBudgetBytes, val.regretPrecision, val.looMae, val.baselineLooMae]);
      }
    }
  }
  const recs: CsvTable = {
    name: 'recommendations',
    columns: ['pipeline', 'requirements', 'cell_state', 'outcome', 'design_id', 'network', 'cut', 'precision', 'variant', 'accuracy', 'e2e_ms_p50',
      'latency_percentile', 'latency_ms', 'constraint', 'limit', 'actual', 'by'],
    rows: [],
  };
  const d = (x: DesignSummary | null, pct: string): unknown[] => [x?.id ?? null, x?.network ?? null, x?.cut ?? null, x?.precision ?? null, x?.variant || null,
    x?.accuracy ?? null, x?.e2eP50 ?? null, pct, x?.latency ?? null];
  for (const r of m.recommendations) {
    if (r.state !== 'done') { recs.rows.push([m.pipeline.name, r.label, r.state, 'missing', ...d(null, r.percentile), null, null, null, null]); continue; }
    recs.rows.push([m.pipeline.name, r.label, r.state, r.chosen ? 'chosen' : 'none-feasible', ...d(r.chosen, r.percentile), r.binding, null, null, null]);
    for (const x of r.rejected) {
      if (x.violations.length === 0) recs.rows.push([m.pipeline.name, r.label, r.state, 'rejected', ...d(x.design, r.percentile), null, null, null, null]);
      for (const v of x.violations) recs.rows.push([m.pipeline.name, r.label, r.state, 'rejected', ...d(x.design, r.percentile), v.constraint, v.limit, v.actual, v.by]);
    }
  }
  const subsets: CsvTable = { name: 'class_subsets', columns: ['pipeline', 'comparison', 'subset', 'isplit_best', 'retrained_best', 'hit', 'spearman'], rows: [] };
  m.subsetComparisons.forEach((c, i) => {
    for (const x of c.subsets) subsets.rows.push([m.pipeline.name, i + 1, x.label, x.isplitBest, x.retrainedBest, x.hit, x.spearman]);
  });
  const p = m.provenance;
  const prov: CsvTable = { name: 'provenance', columns: ['field', 'value'], rows: [] };
  prov.rows.push(['pipeline', m.pipeline.name]);
  if (m.pipeline.file) prov.rows.push(['pipeline_file', m.pipeline.file]);
  if (m.pipeline.store) prov.rows.push(['store', m.pipeline.store]);
  if (p.run) for (const [k, v] of Object.entries(p.run)) prov.rows.push([`run.${k}`, v]);
  prov.rows.push(['cells', p.cellCount]);
  for (const [k, v] of Object.entries(p.byState)) prov.rows.push([`cells.${k}`, v]);
  prov.rows.push(['cache_hits', p.cacheHits]);
  prov.rows.push(['compute_ms', p.totalDurationMs]);
  prov.rows.push(['seeds', p.seeds.join(';')]);
  for (const f of p.seedFields) for (const v of f.values) prov.rows.push([`seed.${f.key}`, v]);
  for (const f of p.fields) for (const v of f.values) prov.rows.push([f.key, v]);
  return [cuts, perClass, designs, validation, recs, subsets, prov];
}

export function toCsv(t: CsvTable): string {
  return stringify([t.columns, ...t.rows.map((r) => r.map(csvSafe))], { eof: true, cast: { boolean: (b) => (b ? 'true' : 'false') } });
}
