// The report as a format-neutral document: headings, paragraphs, lists, figures and tables, in
// reading order. Every renderer (Markdown, HTML, LaTeX) walks the same blocks, so the formats
// cannot drift apart. Text here is plain: each renderer escapes it for its own syntax.
import type { Figure } from './figures.js';
import { groupFigures } from './figures.js';
import type { CutRow, GroupModel, RecommendationModel, ReportModel, ValidationModel, VariantModel, DesignSummary, ImportanceModel } from './model.js';
import type { Stat } from './values.js';
import { coordsText } from './values.js';
import { compresses } from './csv.js';

export interface TableCell {
  text: string;
  /** The value a sortable table orders by; null sorts last. */
  sort: number | string | null;
  /** Cells without a value say why, and renderers may style them. */
  kind?: 'missing' | 'failed' | 'na';
  /** Longer explanation (e.g. the error of a failed cell), shown as a tooltip in HTML. */
  title?: string;
}

export interface TableColumn {
  label: string;
  numeric: boolean;
}

export interface Table {
  id: string;
  title: string;
  caption?: string;
  columns: TableColumn[];
  rows: TableCell[][];
}

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string; id: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'figure'; figure: Figure }
  | { kind: 'table'; table: Table };

export interface ReportDocument {
  title: string;
  blocks: Block[];
  figures: Figure[];
  tables: Table[];
}

export const MISSING = 'missing';
export const NOT_APPLICABLE = '—';

const missing = (why = MISSING): TableCell => ({ text: why, sort: null, kind: why === 'failed' ? 'failed' : why === NOT_APPLICABLE ? 'na' : 'missing' });
const numCell = (v: number | null, digits: number, why = MISSING): TableCell => (v === null ? missing(why) : { text: v.toFixed(digits), sort: v });
const intCell = (v: number | null, why = MISSING): TableCell => (v === null ? missing(why) : { text: Math.round(v).toLocaleString('en-US'), sort: v });
const textCell = (v: string | null, why = MISSING): TableCell => (v === null ? missing(why) : { text: v, sort: v });
const signed = (v: number, digits: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

function statCell(s: Stat | null, why: string): TableCell {
  if (!s) return missing(why);
  const text = s.n > 1 ? `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)} (n=${s.n})` : s.mean.toFixed(4);
  return { text, sort: s.mean };
}

/** Why a cut has no accuracy: not part of the sweep, failed, or not finished yet. */
function rowWhy(r: CutRow): string {
  if (r.status === 'not-swept') return NOT_APPLICABLE;
  if (r.status === 'failed') return 'failed';
  return MISSING;
}

function statusCell(r: CutRow): TableCell {
  const text = r.status === 'not-swept' ? 'not in sweep'
    : r.status === 'done' ? `done (${r.doneCells})`
    : r.status === 'partial' ? `partial (${r.doneCells} of ${r.expectedCells})`
    : r.status === 'failed' ? `failed (${r.expectedCells - r.doneCells} of ${r.expectedCells})` : `missing (0 of ${r.expectedCells})`;
  const cell: TableCell = { text, sort: text };
  if (r.status === 'failed') cell.kind = 'failed';
  else if (r.status === 'missing' || r.status === 'partial') cell.kind = 'missing';
  if (r.errors.length) cell.title = r.errors.join('\n');
  return cell;
}

function cutTable(g: GroupModel, v: VariantModel): Table {
  const nets = v.networks;
  const columns: TableColumn[] = [
    { label: 'Cut', numeric: false },
    { label: 'log10 CUI', numeric: true },
    { label: 'Candidate', numeric: false },
    { label: 'Bytes at cut (fp32)', numeric: true },
    { label: 'Bottleneck fp32 B', numeric: true },
    { label: 'Bottleneck fp16 B', numeric: true },
    { label: 'Bottleneck int8 B', numeric: true },
    { label: 'Accuracy', numeric: true },
    { label: 'Δ vs base', numeric: true },
    { label: 'Device ms (p50)', numeric: true },
    { label: 'Server ms (p50)', numeric: true },
    ...nets.map((n) => ({ label: `E2E ${n} ms (p50${v.mainPrecision ? `, ${v.mainPrecision}` : ''})`, numeric: true })),
    { label: 'Retrained cells', numeric: false },
  ];
  const rows = v.rows.map((r): TableCell[] => {
    const why = rowWhy(r);
    const candidate: TableCell = r.candidate === null ? missing()
      : { text: r.isplitBest ? 'yes (global max)' : r.candidate ? 'yes' : 'no', sort: r.isplitBest ? 2 : r.candidate ? 1 : 0 };
    return [
      { text: r.cut, sort: r.index },
      numCell(r.log10Cui, 3),
      candidate,
      intCell(r.bytes.raw),
      compresses(r.bytes) === false ? { text: `${r.bytes.fp32} (no compression)`, sort: r.bytes.fp32 } : intCell(r.bytes.fp32, why),
      intCell(r.bytes.fp16, why),
      intCell(r.bytes.int8, why),
      statCell(r.accuracy, why),
      r.deltaFromBase === null ? missing(why) : { text: signed(r.deltaFromBase, 4), sort: r.deltaFromBase },
      numCell(r.deviceMs, 2, why),
      numCell(r.serverMs, 2, why),
      ...nets.map((n) => numCell(r.latency[n] ?? null, 2, why)),
      statusCell(r),
    ];
  });
  return {
    id: `${g.id}${g.variants.length > 1 ? `-${slugPart(v.label)}` : ''}-cuts`,
    title: `Cut points — ${g.title}${g.variants.length > 1 ? ` (${v.label})` : ''}`,
    caption: `Base network test accuracy: ${g.baseAccuracy === null ? 'missing' : g.baseAccuracy.toFixed(4)}. Accuracy is the retrained test accuracy (mean ± sd over seeds); “missing” marks results not in the store yet, “failed” cells that failed, “—” cuts outside the sweep; “no compression” marks a bottleneck whose code is not smaller than the tensor at the cut.`,
    columns,
    rows,
  };
}

function slugPart(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'x';
}

const ciText = (c: { value: number | null; ci95: [number | null, number | null] }): TableCell => {
  if (c.value === null) return missing();
  const [lo, hi] = c.ci95;
  return { text: `${c.value.toFixed(3)} [${lo === null ? '?' : lo.toFixed(2)}, ${hi === null ? '?' : hi.toFixed(2)}]`, sort: c.value };
};

function validationTable(g: GroupModel): Table | null {
  const rows: TableCell[][] = [];
  for (const v of g.variants) {
    for (const val of v.validation) rows.push(validationRow(g, v, val));
  }
  if (rows.length === 0) return null;
  return {
    id: `${g.id}-validation`,
    title: `Validation of I-SPLIT — ${g.title}`,
    caption: 'Rank correlation between CUI and retrained accuracy across the retrained cuts (95% bootstrap intervals); I-SPLIT\'s choice (highest CUI among the retrained cuts) and its rank among the retrained accuracies; whether it is the best retrained cut; regret = accuracy lost against the best retrained cut within the payload budget by following each heuristic; leave-one-out mean absolute error of the calibrated accuracy prediction, next to that of predicting the mean of the other cuts.',
    columns: [
      { label: 'Setting', numeric: false },
      { label: 'Spearman ρ [95% CI]', numeric: true },
      { label: 'Kendall τ [95% CI]', numeric: true },
      { label: 'I-SPLIT best (rank)', numeric: false },
      { label: 'Retrained best', numeric: false },
      { label: 'Hit', numeric: false },
      { label: 'Regret I-SPLIT', numeric: true },
      { label: 'Regret CDE (its cut)', numeric: true },
      { label: 'Payload budget B', numeric: true },
      { label: 'Calibrated LOO MAE', numeric: true },
    ],
    rows,
  };
}

function validationRow(g: GroupModel, v: VariantModel, val: ValidationModel): TableCell[] {
  const extra = coordsText(Object.fromEntries(Object.entries(val.coords).filter(([k]) => !(k in g.coords))));
  const best: TableCell = val.isplitBest === null ? missing()
    : { text: `${val.isplitBest}${val.isplitRank !== null ? ` (rank ${val.isplitRank})` : ''}`, sort: val.isplitRank ?? val.isplitBest };
  const cde: TableCell = val.regretCde === null ? (val.cdeChoice === null && val.regretIsplit !== null ? { text: 'none within budget', sort: null, kind: 'na' } : missing())
    : { text: `${val.regretCde.toFixed(4)}${val.cdeChoice ? ` (${val.cdeChoice})` : ''}`, sort: val.regretCde };
  const mae: TableCell = val.looMae === null ? missing()
    : { text: `${val.looMae.toFixed(4)}${val.baselineLooMae !== null ? ` (baseline ${val.baselineLooMae.toFixed(4)})` : ''}`, sort: val.looMae };
  return [
    { text: extra || v.label, sort: extra || v.label },
    ciText(val.spearman),
    ciText(val.kendall),
    best,
    textCell(val.retrainedBest),
    val.hit === null ? missing() : { text: val.hit ? 'yes' : 'no', sort: val.hit ? 1 : 0 },
    numCell(val.regretIsplit, 4),
    cde,
    val.payloadBudgetBytes === null ? missing() : { text: `${Math.round(val.payloadBudgetBytes).toLocaleString('en-US')}${val.regretPrecision ? ` (${val.regretPrecision})` : ''}`, sort: val.payloadBudgetBytes },
    mae,
  ];
}

export function designText(d: DesignSummary): string {
  return [d.cut ?? '?', d.precision ?? '?', d.network ?? '?'].join(' · ') + (d.variant ? ` [${d.variant}]` : '');
}

function fmt(v: number | null): string {
  if (v === null) return '?';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4);
}

function requirementItems(r: RecommendationModel): string[] {
  if (!r.requirements) return ['requirements: missing'];
  const show = (v: unknown): string => (typeof v === 'string' ? v
    : Array.isArray(v) && v.every((x) => typeof x !== 'object') ? v.join(', ') : JSON.stringify(v));
  return Object.keys(r.requirements).sort().map((k) => `${k}: ${show(r.requirements![k])}`);
}

function rejectionTable(r: RecommendationModel, index: number): Table {
  return {
    id: `recommendation-${index + 1}-rejected`,
    title: `Rejected designs — requirements “${r.label}”`,
    columns: [
      { label: 'Design (cut · precision · network)', numeric: false },
      { label: 'Accuracy', numeric: true },
      { label: `E2E ${r.percentile} ms`, numeric: true },
      { label: 'Violated constraints', numeric: false },
    ],
    rows: r.rejected.map((x) => [
      { text: designText(x.design), sort: designText(x.design) },
      numCell(x.design.accuracy, 4),
      numCell(x.design.latency, 2),
      {
        text: x.violations.map((v) => `${v.constraint}: ${fmt(v.actual)} vs limit ${fmt(v.limit)} (off by ${fmt(v.by)})`).join('; ') || 'not stated',
        sort: x.violations.length,
      },
    ]),
  };
}

function durationText(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

function provenanceTables(m: ReportModel): Table[] {
  const p = m.provenance;
  const rows: [string, string][] = [
    ['pipeline', m.pipeline.name],
  ];
  if (m.pipeline.file) rows.push(['pipeline file', m.pipeline.file]);
  if (m.pipeline.store) rows.push(['store', m.pipeline.store]);
  if (p.run) {
    rows.push(['latest run', `${p.run.id} (${p.run.state})`]);
    rows.push(['run started', p.run.startedAt]);
    if (p.run.endedAt) rows.push(['run ended', p.run.endedAt]);
    rows.push(['run host', p.run.host]);
    if (p.run.planHash) rows.push(['plan hash', p.run.planHash.slice(0, 16)]); // full hash in provenance.csv
  }
  rows.push(['cells', `${p.cellCount} (${Object.entries(p.byState).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'})`]);
  rows.push(['cache hits (latest run)', p.cacheHits === null ? 'unknown' : String(p.cacheHits)]);
  rows.push(['compute time of finished cells', durationText(p.totalDurationMs)]);
  if (p.seedFields.length === 0) rows.push(['seeds', p.seeds.length ? p.seeds.join(', ') : 'none recorded']);
  for (const f of p.seedFields) rows.push([`seed ${f.key}`, f.values.join(', ')]);
  for (const f of p.fields) rows.push([f.key, f.values.join(', ') + (f.more ? ` (+${f.more} more)` : '')]);
  const summary: Table = {
    id: 'provenance',
    title: 'Provenance',
    columns: [{ label: 'Field', numeric: false }, { label: 'Value', numeric: false }],
    rows: rows.map(([k, v]) => [{ text: k, sort: k }, { text: v, sort: v }]),
  };
  const states = ['done', 'failed', 'interrupted', 'running', 'pending'] as const;
  const perStage: Table = {
    id: 'cells-per-stage',
    title: 'Cells per stage instance',
    columns: [{ label: 'Instance', numeric: false }, { label: 'Stage', numeric: false }, ...states.map((s) => ({ label: s, numeric: true })), { label: 'Compute time', numeric: true }],
    rows: p.byInstance.map((s) => [
      { text: s.instance, sort: s.instance }, { text: s.stage, sort: s.stage },
      ...states.map((st) => ({ text: String(s.byState[st] ?? 0), sort: s.byState[st] ?? 0 })),
      { text: durationText(s.durationMs), sort: s.durationMs },
    ]),
  };
  return [summary, perStage];
}

/** One line per finding a reader looks for first: best cuts, I-SPLIT's agreement, the choice. */
function atAGlance(m: ReportModel): string[] {
  const items: string[] = [];
  const many = m.groups.length > 1;
  for (const g of m.groups) {
    const pre = many ? `${g.title}: ` : '';
    for (const v of g.variants) {
      const done = v.rows.filter((r) => r.accuracy !== null);
      if (done.length === 0) continue;
      const best = done.reduce((a, b) => (b.accuracy!.mean > a.accuracy!.mean ? b : a));
      const setting = g.variants.length > 1 ? ` (${v.label})` : '';
      items.push(`${pre}${pre ? 'best' : 'Best'} retrained cut${setting}: ${best.cut}, accuracy ${best.accuracy!.mean.toFixed(4)}${g.baseAccuracy !== null ? ` (base network ${g.baseAccuracy.toFixed(4)})` : ''}; ${done.length} of ${v.rows.filter((r) => r.status !== 'not-swept').length} swept cuts have results.`);
      for (const val of v.validation) {
        const rho = val.spearman.value === null ? 'missing' : `${val.spearman.value.toFixed(2)} [${val.spearman.ci95.map((x) => (x === null ? '?' : x.toFixed(2))).join(', ')}]`;
        items.push(`${pre}${pre ? 'among' : 'Among'} the retrained cuts${setting}, I-SPLIT picks ${val.isplitBest ?? '?'}${val.hit === null ? '' : val.hit ? ', the best retrained cut' : `, not the best retrained cut (${val.retrainedBest ?? '?'})`}; Spearman ρ between CUI and retrained accuracy ${rho}.`);
      }
    }
    if (g.importance && !g.variants.some((v) => v.rows.some((r) => r.accuracy !== null))) {
      items.push(`${pre}I-SPLIT candidates ${g.importance.candidates.join(', ') || 'none'}; global maximum ${g.importance.best ?? '?'} (no retrained result yet).`);
    }
  }
  for (const r of m.recommendations) {
    if (r.state !== 'done') items.push(`Requirements “${r.label}”: no recommendation (${r.state}).`);
    else items.push(r.chosen ? `Requirements “${r.label}”: ${designText(r.chosen)} (accuracy ${fmt(r.chosen.accuracy)}, ${r.percentile} ${fmt(r.chosen.latency)} ms).`
      : `Requirements “${r.label}”: no feasible design${r.binding ? ` (binding: ${r.binding})` : ''}.`);
  }
  return items;
}

export function buildDocument(m: ReportModel): ReportDocument {
  const blocks: Block[] = [];
  const figures: Figure[] = [];
  const tables: Table[] = [];
  const addTable = (t: Table | null): void => { if (t) { tables.push(t); blocks.push({ kind: 'table', table: t }); } };
  const addFigure = (f: Figure): void => { figures.push(f); blocks.push({ kind: 'figure', figure: f }); };
  const title = `Report: ${m.pipeline.name}`;

  const p = m.provenance;
  const finished = p.byState.done ?? 0;
  if (m.empty) {
    blocks.push({ kind: 'paragraph', text: `No finished cells: the store${m.pipeline.store ? ` at ${m.pipeline.store}` : ''} holds ${p.cellCount === 0 ? 'no cells' : `${p.cellCount} cell(s), none finished`} for pipeline “${m.pipeline.name}”. Nothing to report yet; run the pipeline first (sei run), then report again.` });
  } else {
    const other = Object.entries(p.byState).filter(([k]) => k !== 'done').map(([k, n]) => `${n} ${k}`);
    blocks.push({ kind: 'paragraph', text: `${finished} of ${p.cellCount} cells finished${other.length ? ` (${other.join(', ')})` : ''}. Every number below is read from the store; nothing is recomputed. Values the store does not hold are shown as “missing”, never as zero.` });
  }
  const glance = atAGlance(m);
  if (glance.length) {
    blocks.push({ kind: 'heading', level: 2, text: 'At a glance', id: 'at-a-glance' });
    blocks.push({ kind: 'list', items: glance });
  }
  if (m.notes.length) blocks.push({ kind: 'list', items: m.notes });

  for (const g of m.groups) {
    if (!g.importance && g.variants.every((v) => v.rows.every((r) => r.status === 'not-swept'))) continue;
    blocks.push({ kind: 'heading', level: 2, text: g.title, id: g.id });
    const imp = g.importance;
    blocks.push({ kind: 'paragraph', text: imp
      ? `${importanceChoices(imp)} I-SPLIT candidates: ${imp.candidates.join(', ') || 'none'}; global maximum: ${imp.best ?? '?'}; CDE (layer-size) candidates: ${imp.cdeCandidates.join(', ') || 'none'}.`
      : `The importance (I-SPLIT) result is ${g.importanceState === 'absent' ? 'not part of this pipeline' : g.importanceState === 'failed' ? 'failed' : 'missing (not finished)'}.` });
    for (const f of groupFigures(g)) addFigure(f);
    for (const v of g.variants) addTable(cutTable(g, v));
    const vt = validationTable(g);
    if (vt) addTable(vt);
    else blocks.push({ kind: 'paragraph', text: 'Validation summary: missing (no finished validate cell for this group).' });
  }

  m.subsetComparisons.forEach((c, i) => {
    if (i === 0) blocks.push({ kind: 'heading', level: 2, text: 'Class dependence of the best cut', id: 'class-dependence' });
    const yesNo = (b: boolean | null): string => (b === null ? 'unknown' : b ? 'yes' : 'no');
    blocks.push({ kind: 'paragraph', text: `Across ${c.subsets.length} class subsets${coordsText(c.coords) ? ` (${coordsText(c.coords)})` : ''}: does I-SPLIT's best cut move? ${yesNo(c.isplitBestMoves)}. Does the retrained best cut move? ${yesNo(c.retrainedBestMoves)}. Share of subset pairs whose movement I-SPLIT predicted: ${c.moveAgreement === null ? 'n/a' : c.moveAgreement.toFixed(2)}; best-cut hit rate: ${c.hitRate === null ? 'missing' : c.hitRate.toFixed(2)}.` });
    addTable({
      id: `class-dependence-${i + 1}`,
      title: 'Best cut per class subset',
      columns: [{ label: 'Subset', numeric: false }, { label: 'I-SPLIT best', numeric: false }, { label: 'Retrained best', numeric: false }, { label: 'Hit', numeric: false }, { label: 'Spearman ρ', numeric: true }],
      rows: c.subsets.map((x) => [textCell(x.label), textCell(x.isplitBest), textCell(x.retrainedBest),
        x.hit === null ? missing() : { text: x.hit ? 'yes' : 'no', sort: x.hit ? 1 : 0 }, numCell(x.spearman, 3)]),
    });
  });

  for (const c of m.contributed) {
    const id = `stage-${slugPart(c.stage)}`;
    blocks.push({ kind: 'heading', level: 2, text: c.title, id });
    if (c.refused.length) blocks.push({ kind: 'list', items: c.refused.map((r) => `left out (metrics not as stage ${c.stage} declares): ${r}`) });
    addTable({
      id, title: c.title, columns: c.columns,
      rows: c.rows.map((row) => row.map((v) => (v === null ? missing() : typeof v === 'number' ? { text: String(v), sort: v } : textCell(v)))),
    });
  }

  if (m.recommendations.length) {
    blocks.push({ kind: 'heading', level: 2, text: 'Recommendation', id: 'recommendation' });
    m.recommendations.forEach((r, i) => {
      blocks.push({ kind: 'heading', level: 3, text: `Requirements “${r.label}”`, id: `recommendation-${i + 1}` });
      if (r.state !== 'done') {
        blocks.push({ kind: 'paragraph', text: `No recommendation: the cell is ${r.state}${r.error ? ` (${r.error})` : ''}.` });
        return;
      }
      blocks.push({ kind: 'list', items: requirementItems(r) });
      if (r.summary) blocks.push({ kind: 'paragraph', text: r.summary });
      blocks.push({ kind: 'paragraph', text: r.chosen
        ? `Chosen design: ${designText(r.chosen)} — accuracy ${fmt(r.chosen.accuracy)}, end-to-end ${r.percentile} ${fmt(r.chosen.latency)} ms. ${r.feasibleCount ?? '?'} design(s) feasible, ${r.rejected.length} rejected.`
        : `No design satisfies these requirements (${r.feasibleCount ?? 0} feasible)${r.binding ? `; binding constraint: ${r.binding}` : ''}. The rejections below say which constraint each design broke and by how much.` });
      if (!r.chosen && r.relax.length) {
        blocks.push({ kind: 'list', items: r.relax.map((x) => `${x.constraint}: ${x.relaxTo === null ? 'relaxing it alone admits no design' : `relaxed to ${fmt(x.relaxTo)} it admits a design`}${x.admitsIfRelaxed !== null ? `; dropped, it admits ${x.admitsIfRelaxed}` : ''}`) });
      }
      if (r.rejected.length) addTable(rejectionTable(r, i));
    });
  }

  blocks.push({ kind: 'heading', level: 2, text: 'Provenance', id: 'provenance' });
  for (const t of provenanceTables(m)) addTable(t);
  return { title, blocks, figures, tables };
}

/** The choices an importance curve was made with (METHOD.md), in one sentence. */
export function importanceChoices(imp: ImportanceModel): string {
  const images = imp.imagesPerClass === 'all' ? `all ${imp.split ?? '?'} images` : `the first ${imp.imagesPerClass ?? '?'} ${imp.split ?? '?'} images of each class`;
  const read = imp.readPoint === 'reference'
    ? "cut points read where the reference code reads them (VGG convolutions before ReLU, ResNet conv1 as the raw convolution)"
    : "cut points read at each named layer's output after its activation";
  const rule = imp.candidateRule === 'reference'
    ? "candidates by the reference code's rule (first point after a copy of itself, both edges of a plateau)"
    : 'candidates are strict local maxima of log10 CUI (end points excluded)';
  return `Importance choices: target ${imp.target ?? '?'} class; ${images}${imp.images !== null ? ` (${imp.images} scored)` : ''}; ${read}; ${rule}; network in inference mode.`;
}
