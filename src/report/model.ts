// The report model: everything a report shows, gathered from the store's cell records alone.
// Pure: no file system, no clock, no recomputation of any stage. A value that the store does not
// hold is null here and is rendered as missing, never as zero.
import type {
  DatasetFacts, DesignFacts, DesignRef, ImportanceFacts, ModelFacts, Percentile, Precision, RecommendationFacts, ValidationFacts,
} from '../stages/report.js';
import { PRECISIONS } from '../stages/report.js';
import type { CellRecord, CellState } from '../store/types.js';
import { hashJson } from '../util/hash.js';
import { builtinReports, contributedTables, type ContributedTable } from './contributions.js';
import { groupCells, isDone, readSweep, within, type Read, type ReportingStages, type SweepCells } from './sweep.js';
import { type Json, type Stat, compatible, coordsText, obj, pick, sortedKeyJson, stat } from './values.js';

export { PERCENTILES, PRECISIONS, type Percentile, type PerClassCurve, type Precision } from '../stages/report.js';

/** What the command knows about the pipeline besides its cells. */
export interface PipelineInfo {
  name: string;
  /** The pipeline file, when the report was asked for by file. */
  file?: string;
  /** The store folder the cells came from. */
  store?: string;
  /** The pipeline's latest run, as the store recorded it. */
  run?: RunSummary;
}

export interface RunSummary {
  id: string;
  state: string;
  startedAt: string;
  endedAt?: string;
  host: string;
  total: number;
  cached: number;
  done: number;
  failed: number;
  planHash?: string;
  file?: string;
}

/** Why a cut has no retrained result. */
export type CutStatus = 'done' | 'partial' | 'missing' | 'failed' | 'not-swept';

export interface CutRow {
  cut: string;
  /** Position in forward order (from the importance or base cell), or after them when unknown. */
  index: number;
  log10Cui: number | null;
  /** null when no importance result exists. */
  candidate: boolean | null;
  isplitBest: boolean;
  cdeCandidate: boolean | null;
  bytes: { raw: number | null; fp32: number | null; fp16: number | null; int8: number | null };
  accuracy: Stat | null;
  deltaFromBase: number | null;
  quantized: Record<Precision, Stat | null>;
  deviceMs: number | null;
  serverMs: number | null;
  /** End-to-end p50 per network at the variant's main precision. */
  latency: Record<string, number | null>;
  status: CutStatus;
  /** Retrained cells: finished and expected (seeds × settings of this cut). */
  doneCells: number;
  expectedCells: number;
  errors: string[];
  seeds: number[];
}

/** A simulated design as the report shows it (src/stages/report.ts DesignFacts), with its p50 and p95. */
export interface DesignPoint extends DesignFacts {
  e2eP50: number | null;
  e2eP95: number | null;
  /** On the Pareto front recorded by a recommend cell; null when no recommendation exists. */
  pareto: boolean | null;
  /** Labels of the requirements blocks that chose this design. */
  chosenBy: string[];
}

/** A validate cell's reading (src/stages/report.ts ValidationFacts) and its coordinates. */
export interface ValidationModel extends ValidationFacts {
  coords: Record<string, unknown>;
}

export interface VariantModel {
  /** Settings that tell variants apart (e.g. bottleneck ratio), empty for the only one. */
  coords: Record<string, unknown>;
  label: string;
  rows: CutRow[];
  networks: string[];
  /** The precision whose latency the cut table shows. */
  mainPrecision: string | null;
  designs: DesignPoint[];
  /** The latency percentile of the recommendation's Pareto front (p50 when none is recorded). */
  latencyPercentile: Percentile;
  validation: ValidationModel[];
}

/** The group's importance curve, as the importance stage reads it (src/stages/report.ts). */
export type ImportanceModel = ImportanceFacts;

export interface GroupModel {
  /** Stable slug used for figure and table file names. */
  id: string;
  title: string;
  /** Model · dataset · subset (or coordinates), without the class list. */
  shortTitle: string;
  coords: Record<string, unknown>;
  model: string | null;
  dataset: string | null;
  classes: string[] | null;
  /** How the class subset was chosen (names, seeded draw, WordNet ancestor), when it was. */
  subset: string | null;
  baseAccuracy: number | null;
  importance: ImportanceModel | null;
  importanceState: CellState | 'absent';
  variants: VariantModel[];
}

/** A recommended design as the report shows it: the stage's DesignRef with its latency read at one percentile. */
export interface DesignSummary extends Omit<DesignRef, 'e2e'> {
  e2eP50: number | null;
  /** Latency at the requirement's percentile. */
  latency: number | null;
}

export interface RecommendationModel {
  label: string;
  coords: Record<string, unknown>;
  state: CellState;
  error: string | null;
  requirements: Json | null;
  /** The percentile the latency requirement looks at (p95 unless the requirements say). */
  percentile: Percentile;
  /** The recommendation's own one-sentence summary. */
  summary: string | null;
  chosen: DesignSummary | null;
  binding: string | null;
  /** For each constraint: how far to relax it to admit a design (when nothing is feasible). */
  relax: { constraint: string; relaxTo: number | null; admitsIfRelaxed: number | null }[];
  feasibleCount: number | null;
  rejected: { design: DesignSummary; violations: { constraint: string; limit: number | null; actual: number | null; by: number | null }[] }[];
}

/** How the best cut moves between class subsets (the compare-subsets stage). */
export interface SubsetComparisonModel {
  coords: Record<string, unknown>;
  subsets: { label: string; isplitBest: string | null; retrainedBest: string | null; hit: boolean | null; spearman: number | null }[];
  isplitBestMoves: boolean | null;
  retrainedBestMoves: boolean | null;
  moveAgreement: number | null;
  hitRate: number | null;
}

export interface StageCount {
  instance: string;
  stage: string;
  byState: Partial<Record<CellState, number>>;
  durationMs: number;
}

export interface ProvenanceModel {
  cellCount: number;
  byState: Partial<Record<CellState, number>>;
  byInstance: StageCount[];
  /** Distinct values of each provenance field over the finished cells (sorted, capped). */
  fields: { key: string; values: string[]; more: number }[];
  seeds: number[];
  /** Every seed setting of the pipeline: "<instance>.<param path>" → its distinct values. */
  seedFields: { key: string; values: string[] }[];
  totalDurationMs: number;
  run: RunSummary | null;
  cacheHits: number | null;
}

export interface ReportModel {
  pipeline: PipelineInfo;
  /** True when no cell of the pipeline has finished. */
  empty: boolean;
  groups: GroupModel[];
  recommendations: RecommendationModel[];
  subsetComparisons: SubsetComparisonModel[];
  provenance: ProvenanceModel;
  notes: string[];
  /** Tables the stages declare themselves (src/report/contributed.ts). */
  contributed: ContributedTable[];
}

const isCutAxis = (k: string): boolean => k === 'cut' || k.endsWith('.cut');
const isSeedAxis = (k: string): boolean => k === 'seed' || k.endsWith('.seed');
const isNetworkAxis = (k: string): boolean => /(^|\.)(network|networks|device|devices)$/.test(k);
const isRequirementsAxis = (k: string): boolean => /(^|\.)requirements?$/.test(k);

/** The precision a design label speaks of ('bottleneck-int8' → 'int8'). */
export function precisionOf(label: string): Precision | null {
  const m = /(fp32|fp16|int8)/i.exec(label);
  return m ? (m[1]!.toLowerCase() as Precision) : null;
}

/**
 * The report of `cells`. `stages` holds what each stage contributes (src/report/contributions.ts:
 * loadReports); without it, the built-in stages' contributions.
 */
export function buildReportModel(cells: CellRecord[], pipeline: PipelineInfo, stages: ReportingStages = builtinReports): ReportModel {
  const notes: string[] = [];
  const sweep = readSweep(cells, stages);
  const groups = buildGroups(cells, sweep, groupCells(cells, stages), notes);
  const recommendations = buildRecommendations(sweep.recommendation);
  nameRecommendationsApart(recommendations, groups);
  markChosenAndPareto(groups, sweep.recommendation.filter(isDone));
  return {
    pipeline,
    empty: !cells.some((c) => c.state === 'done' && obj(c.metrics) !== null),
    groups,
    recommendations,
    subsetComparisons: sweep['subset-comparison'].filter(isDone).map((r) => ({ coords: r.cell.coords, ...r.facts })),
    provenance: buildProvenance(cells, pipeline.run ?? null),
    notes,
    contributed: contributedTables(cells, stages),
  };
}

// ---- groups: one per (model, dataset, class subset) ------------------------------------------

/** The coordinates of the cells that define groups (their data, model and importance). */
function groupAxes(defining: CellRecord[]): Set<string> {
  const axes = new Set<string>();
  for (const c of defining) for (const k of Object.keys(c.coords)) axes.add(k);
  return axes;
}

function buildGroups(cells: CellRecord[], sweep: SweepCells, defining: CellRecord[], notes: string[]): GroupModel[] {
  const axes = groupAxes(defining);
  // Candidate group coordinates: each cell's restriction to the group axes, keeping only the most
  // specific ones (a prepare-dataset cell's coords are a prefix of its model's).
  const seen = new Map<string, Record<string, unknown>>();
  for (const c of cells) {
    const g = pick(c.coords, axes);
    seen.set(sortedKeyJson(g), g);
  }
  const all = [...seen.values()];
  const specific = all.filter((g) => !all.some((h) => h !== g && Object.keys(h).length > Object.keys(g).length && compatible(g, h)));
  const groups: GroupModel[] = [];
  const usedIds = new Set<string>();
  for (const coords of specific) {
    const group = buildGroup(coords, within(sweep, coords), axes, notes);
    let id = group.id;
    for (let i = 2; usedIds.has(id); i++) id = `${group.id}-${i}`;
    usedIds.add(id);
    groups.push({ ...group, id });
  }
  return groups;
}

/** The first finished reading, else the first of any state. */
function firstDoneOrAny<F>(reads: Read<F>[]): Read<F> | undefined {
  return reads.find(isDone) ?? reads[0];
}

function slug(text: string): string {
  const s = text.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase().slice(0, 48);
  return s === '' ? 'group' : s;
}

function buildGroup(coords: Record<string, unknown>, sweep: SweepCells, axes: Set<string>, notes: string[]): GroupModel {
  const data: DatasetFacts | undefined = firstDoneOrAny(sweep.dataset)?.facts;
  const base = firstDoneOrAny(sweep.model);
  const baseDone: ModelFacts | undefined = base && base.cell.state === 'done' ? base.facts : undefined;
  const imp = firstDoneOrAny(sweep.importance);
  const importance = imp?.cell.state === 'done' ? imp.facts : null;

  const model = base?.facts.label ?? null;
  const dataset = data?.label ?? null;
  const subset = data?.subset ?? null;
  const classes = data?.classes ?? null;

  const baseAccuracy = baseDone?.testAccuracy
    ?? sweep.evaluation.map((r) => (r.cell.state === 'done' ? r.facts.baseAccuracy : null)).find((x) => x !== null) ?? null;

  const cutOrder = importance?.cutPoints.length ? importance.cutPoints : baseDone?.cutPoints ?? [];

  const titleParts = [model ?? 'model ?', dataset ?? 'dataset ?'];
  if (subset) titleParts.push(subset);
  if (classes) titleParts.push(classes.length <= 6 ? `classes: ${classes.join(', ')}` : `${classes.length} classes: ${classes.slice(0, 4).join(', ')}, …`);
  // The coordinates tell groups apart; the class-subset axis is already described above.
  const coordLabel = coordsText(subset || classes ? Object.fromEntries(Object.entries(coords).filter(([k]) => !/(^|\.)classes$/.test(k))) : coords);
  if (coordLabel) titleParts.push(coordLabel);

  const variants = buildVariants(sweep, axes, cutOrder, importance, baseAccuracy, notes);
  const shortParts = [model ?? 'model ?', dataset ?? 'dataset ?'];
  if (subset) shortParts.push(subset);
  else if (classes) shortParts.push(classes.length <= 3 ? classes.join(', ') : `${classes.slice(0, 3).join(', ')}, … (${classes.length} classes)`);
  if (coordLabel) shortParts.push(coordLabel);
  return {
    id: groupId(model, dataset, coords),
    title: titleParts.join(' · '),
    shortTitle: shortParts.join(' · '),
    coords,
    model,
    dataset,
    classes,
    subset,
    baseAccuracy,
    importance,
    importanceState: imp ? imp.cell.state : 'absent',
    variants,
  };
}

/** File-safe group id: model and dataset, then the coordinates when short, else their hash. */
function groupId(model: string | null, dataset: string | null, coords: Record<string, unknown>): string {
  const head = slug([model, dataset].filter(Boolean).join('-'));
  if (Object.keys(coords).length === 0) return head;
  const c = slug(coordsText(coords));
  return `${head}-${c.length <= 24 ? c : hashJson(coords).slice(0, 10)}`;
}

/** A design's cut: its cut coordinate, else what its stage reads (metrics, then params). */
function cutOf(r: Read<{ cut: string | null }>): string | null {
  for (const [k, v] of Object.entries(r.cell.coords)) if (isCutAxis(k) && typeof v === 'string') return v;
  return r.facts.cut;
}

/** A design's seed: its seed coordinate, else its params' seed. */
function seedOf(r: Read<{ seed: number | null }>): unknown {
  return Object.entries(r.cell.coords).find(([k]) => isSeedAxis(k))?.[1] ?? r.facts.seed;
}

function buildVariants(sweep: SweepCells, groupAxesSet: Set<string>, cutOrder: string[], importance: ImportanceModel | null,
  baseAccuracy: number | null, notes: string[]): VariantModel[] {
  const design = [...sweep.evaluation, ...sweep.retrain].sort((a, b) => a.order - b.order).map((r) => r.cell);
  const variantAxes = new Set<string>();
  for (const c of design) {
    for (const k of Object.keys(c.coords)) {
      if (!groupAxesSet.has(k) && !isCutAxis(k) && !isSeedAxis(k) && !isNetworkAxis(k) && !isRequirementsAxis(k)) variantAxes.add(k);
    }
  }
  const variants = new Map<string, Record<string, unknown>>();
  for (const c of design) {
    const v = pick(c.coords, variantAxes);
    variants.set(sortedKeyJson(v), v);
  }
  if (variants.size === 0) variants.set('[]', {});
  const out: VariantModel[] = [];
  for (const vc of [...variants.values()].sort((a, b) => sortedKeyJson(a).localeCompare(sortedKeyJson(b)))) {
    out.push(buildVariant(vc, within(sweep, vc), cutOrder, importance, baseAccuracy, notes));
  }
  return out;
}

function buildVariant(coords: Record<string, unknown>, sweep: SweepCells, cutOrder: string[], importance: ImportanceModel | null,
  baseAccuracy: number | null, notes: string[]): VariantModel {
  const evals = sweep.evaluation;
  const retrains = sweep.retrain;

  // Designs simulated on each network (precision × cut).
  const designs: DesignPoint[] = sweep.designs.filter(isDone).flatMap((r) => r.facts.map((d) => ({
    id: d.id, kind: d.kind, variant: d.variant, network: d.network, device: d.device, cut: d.cut, precision: d.precision,
    payloadBytes: d.payloadBytes, deviceMs: d.deviceMs, transferP50: d.transferP50, serverMs: d.serverMs,
    e2eP50: d.e2e.p50, e2eP95: d.e2e.p95, e2e: d.e2e, frameLossRate: d.frameLossRate, simulator: d.simulator, accuracy: d.accuracy,
    pareto: null, chosenBy: [],
  })));
  const networks = [...new Set(designs.map((d) => d.network))].sort();
  const precisions = [...new Set(designs.filter((d) => d.kind === 'split').map((d) => d.precision))].sort();
  const mainPrecision = precisions.find((p) => precisionOf(p) === 'fp32') ?? precisions[0] ?? null;

  // Every cut named anywhere, in forward order; cuts unknown to the importance cell go last.
  const cuts = [...cutOrder];
  for (const r of [...evals, ...retrains]) {
    const cut = cutOf(r);
    if (cut && !cuts.includes(cut)) cuts.push(cut);
  }

  const rows: CutRow[] = cuts.map((cut, index) => {
    const ev = evals.filter((r) => cutOf(r) === cut);
    const rt = retrains.filter((r) => cutOf(r) === cut);
    const both = [...ev.map((r) => r.cell), ...rt.map((r) => r.cell)];
    const ms = ev.filter(isDone).map((r) => r.facts);
    const accuracy = stat(ms.map((m) => m.accuracy));
    const quantized = Object.fromEntries(PRECISIONS.map((p) => [p, stat(ms.map((m) => m.quantized[p]))])) as Record<Precision, Stat | null>;
    const firstBytes = (p: keyof CutRow['bytes']): number | null => ms.map((m) => m.bytes[p]).find((x) => x !== null) ?? null;
    const impIdx = importance ? importance.cutPoints.indexOf(cut) : -1;
    const errors = both.filter((c) => c.state === 'failed' && c.error).map((c) => `${c.instance}: ${c.error}`);
    const expectedCells = Math.max(ev.length, rt.length);
    let status: CutStatus;
    if (expectedCells === 0) status = 'not-swept';
    else if (ms.length === expectedCells) status = 'done';
    else if (ms.length > 0) status = 'partial';
    else if (both.some((c) => c.state === 'failed')) status = 'failed';
    else status = 'missing';
    const seeds = [...new Set([...ev.map(seedOf), ...rt.map(seedOf)].filter((x): x is number => typeof x === 'number'))].sort((a, b) => a - b);
    const latency: Record<string, number | null> = {};
    for (const n of networks) {
      // Mean over the designs of this cut (one per seed and device): compute barely differs between seeds.
      latency[n] = stat(designs.filter((d) => d.kind === 'split' && d.network === n && d.cut === cut && d.precision === mainPrecision).map((d) => d.e2eP50))?.mean ?? null;
    }
    return {
      cut,
      index,
      log10Cui: impIdx >= 0 ? importance!.log10Cui[impIdx] ?? null : null,
      candidate: importance ? importance.candidates.includes(cut) : null,
      isplitBest: importance?.best === cut,
      cdeCandidate: importance ? importance.cdeCandidates.includes(cut) : null,
      bytes: {
        raw: firstBytes('raw') ?? (impIdx >= 0 ? importance!.cdeBytes[impIdx] ?? null : null),
        fp32: firstBytes('fp32'),
        fp16: firstBytes('fp16'),
        int8: firstBytes('int8'),
      },
      accuracy,
      deltaFromBase: accuracy && baseAccuracy !== null ? accuracy.mean - baseAccuracy : null,
      quantized,
      deviceMs: stat(ms.map((m) => m.deviceMs))?.mean ?? null,
      serverMs: stat(ms.map((m) => m.serverMs))?.mean ?? null,
      latency,
      status,
      doneCells: ms.length,
      expectedCells,
      errors,
      seeds,
    };
  });

  // Accuracy of each simulated design: its own if recorded, else the retrained accuracy of its
  // cut after the transmitted tensor went through that precision.
  for (const d of designs) {
    if (d.accuracy !== null) continue;
    const row = rows.find((r) => r.cut === d.cut);
    const p = precisionOf(d.precision);
    d.accuracy = (p && row?.quantized[p]?.mean) ?? row?.accuracy?.mean ?? null;
  }
  const unknownAcc = designs.filter((d) => d.accuracy === null).length;
  if (unknownAcc > 0) notes.push(`${unknownAcc} simulated design(s) have no retrained accuracy in the store and are left out of the accuracy–latency figure.`);

  return {
    coords,
    label: coordsText(coords) || 'all settings',
    rows,
    networks,
    mainPrecision,
    designs,
    latencyPercentile: 'p50',
    validation: sweep.validation.filter(isDone).map((r) => ({ coords: r.cell.coords, ...r.facts })),
  };
}

// ---- recommendations --------------------------------------------------------------------------

function summarizeDesign(d: DesignRef, percentile: Percentile): DesignSummary {
  const { e2e, ...identity } = d;
  return { ...identity, e2eP50: e2e.p50, latency: e2e[percentile] };
}

function recommendationLabel(r: Read<RecommendationFacts>): string {
  const own = Object.entries(r.cell.coords).filter(([k]) => isRequirementsAxis(k));
  if (own.length) return own.map(([, v]) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  return r.facts.name ?? r.cell.instance;
}

function buildRecommendations(recs: Read<RecommendationFacts>[]): RecommendationModel[] {
  return recs.map((r) => {
    const f = r.facts;
    return {
      label: recommendationLabel(r),
      coords: r.cell.coords,
      state: r.cell.state,
      error: r.cell.error ?? null,
      requirements: f.requirements,
      percentile: f.percentile,
      summary: f.summary,
      chosen: f.chosen ? summarizeDesign(f.chosen, f.percentile) : null,
      binding: f.binding,
      relax: f.relax,
      feasibleCount: f.feasibleCount,
      rejected: f.rejected.map((x) => ({ design: summarizeDesign(x.design, f.percentile), violations: x.violations })),
    };
  });
}

/**
 * Requirements blocks often repeat per group (one recommend cell per class subset): tell such
 * blocks apart by the group they belong to, or else by their coordinates.
 */
function nameRecommendationsApart(recs: RecommendationModel[], groups: GroupModel[]): void {
  const count = new Map<string, number>();
  for (const r of recs) count.set(r.label, (count.get(r.label) ?? 0) + 1);
  for (const r of recs) {
    if ((count.get(r.label) ?? 0) < 2) continue;
    const mine = groups.filter((g) => compatible(r.coords, g.coords));
    const where = mine.length === 1 ? mine[0]!.shortTitle : coordsText(r.coords);
    if (where) r.label = `${r.label} — ${where}`;
  }
}

/** Mark designs on the recorded Pareto fronts and those chosen by a requirements block (finished recommendations). */
function markChosenAndPareto(groups: GroupModel[], recs: Read<RecommendationFacts>[]): void {
  for (const g of groups) {
    for (const v of g.variants) {
      const mine = recs.filter((r) => compatible(r.cell.coords, g.coords) && compatible(r.cell.coords, v.coords));
      if (mine.length === 0) continue;
      v.latencyPercentile = mine[0]!.facts.recordedPercentile;
      // Designs match by id when both carry one, else by what they are.
      const same = (d: DesignPoint, x: DesignRef, network: string | null): boolean => {
        if (x.id !== null && d.id !== null) return x.id === d.id;
        return x.cut === d.cut && x.precision === d.precision && (network ?? x.network ?? d.network) === d.network
          && (x.variant ?? d.variant) === d.variant;
      };
      for (const d of v.designs) {
        d.pareto = mine.some((r) => Object.hasOwn(r.facts.pareto, d.network) && r.facts.pareto[d.network]!.some((x) => same(d, x, d.network)));
        for (const r of mine) {
          const chosen = r.facts.chosen;
          if (chosen && same(d, chosen, chosen.network)) d.chosenBy.push(recommendationLabel(r));
        }
      }
    }
  }
}

// ---- provenance -------------------------------------------------------------------------------

function flatten(prefix: string, v: unknown, out: Map<string, string>): void {
  const o = obj(v);
  if (o) {
    for (const k of Object.keys(o).sort()) flatten(prefix ? `${prefix}.${k}` : k, o[k], out);
  } else if (v !== undefined && v !== null) {
    out.set(prefix, typeof v === 'string' ? v : JSON.stringify(v));
  }
}

/** Per-cell fields that differ on every cell (process ids, timings) say nothing in a summary. */
const VOLATILE_FIELD = /(^|\.)(pid|timings?)(\.|$)|Ms$|At$/;

/** Visit every parameter whose name ends in "seed" (seed, bootstrapSeed, split.seed, …). */
function collectSeeds(params: unknown, prefix: string, visit: (key: string, v: number | string) => void, depth = 0): void {
  const o = obj(params);
  if (!o || depth > 6) return;
  for (const [k, v] of Object.entries(o)) {
    const key = `${prefix}.${k}`;
    if (/seed$/i.test(k) && (typeof v === 'number' || typeof v === 'string')) visit(key, v);
    else collectSeeds(v, key, visit, depth + 1);
  }
}

function buildProvenance(cells: CellRecord[], run: RunSummary | null): ProvenanceModel {
  const byState: Partial<Record<CellState, number>> = {};
  const byInstance = new Map<string, StageCount>();
  const fieldValues = new Map<string, Set<string>>();
  const seeds = new Set<number>();
  const seedValues = new Map<string, Set<string>>();
  let total = 0;
  for (const c of cells) {
    byState[c.state] = (byState[c.state] ?? 0) + 1;
    const s = byInstance.get(c.instance) ?? { instance: c.instance, stage: c.stage, byState: {}, durationMs: 0 };
    s.byState[c.state] = (s.byState[c.state] ?? 0) + 1;
    if (c.durationMs !== undefined && c.state === 'done') { s.durationMs += c.durationMs; total += c.durationMs; }
    byInstance.set(c.instance, s);
    for (const [k, v] of Object.entries(c.coords)) if (isSeedAxis(k) && typeof v === 'number') seeds.add(v);
    collectSeeds(c.params, c.instance, (key, v) => {
      const set = seedValues.get(key) ?? new Set<string>();
      set.add(String(v));
      seedValues.set(key, set);
      if (typeof v === 'number') seeds.add(v);
    });
    if (c.state === 'done' && c.provenance) {
      const flat = new Map<string, string>();
      flatten('', c.provenance, flat);
      for (const [k, v] of flat) {
        if (VOLATILE_FIELD.test(k)) continue;
        const set = fieldValues.get(k) ?? new Set<string>();
        set.add(v);
        fieldValues.set(k, set);
      }
    }
  }
  const CAP = 8;
  const fields = [...fieldValues.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, set]) => {
    const values = [...set].sort();
    return { key, values: values.slice(0, CAP), more: Math.max(0, values.length - CAP) };
  });
  return {
    cellCount: cells.length,
    byState,
    byInstance: [...byInstance.values()],
    fields,
    seeds: [...seeds].sort((a, b) => a - b),
    seedFields: [...seedValues.entries()].sort(([a], [b]) => a.localeCompare(b))
      .map(([key, set]) => ({ key, values: [...set].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b)) })),
    totalDurationMs: total,
    run,
    cacheHits: run ? run.cached : null,
  };
}
