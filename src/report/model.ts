// The report model: everything a report shows, gathered from the store's cell records alone.
// Pure: no file system, no clock, no recomputation of any stage. A value that the store does not
// hold is null here and is rendered as missing, never as zero.
import type { CellRecord, CellState } from '../store/types.js';
import { hashJson } from '../util/hash.js';
import type { ContributedTable } from './contributed.js';
import {
  type Json, type Stat, arr, at, bool, compatible, coordsText, log10OrNull, num, numArr, numAt, obj, pick,
  sortedKeyJson, stat, str, strArr, strAt,
} from './values.js';

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

export type Precision = 'fp32' | 'fp16' | 'int8';
export const PRECISIONS: Precision[] = ['fp32', 'fp16', 'int8'];

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

export type Percentile = 'p50' | 'p95' | 'p99' | 'mean';
export const PERCENTILES: Percentile[] = ['p50', 'p95', 'p99', 'mean'];

export interface DesignPoint {
  /** The simulate stage's design id, when it records one. */
  id: string | null;
  /** 'split', or a baseline: 'local' (all on the device) or 'remote' (raw input to the server). */
  kind: string;
  /** The evaluate cell's other coordinates (e.g. "ratio=8 seed=0"). */
  variant: string;
  network: string;
  device: string | null;
  cut: string;
  precision: string;
  payloadBytes: number | null;
  deviceMs: number | null;
  transferP50: number | null;
  serverMs: number | null;
  e2eP50: number | null;
  e2eP95: number | null;
  /** End-to-end latency per percentile (null when every frame was lost). */
  e2e: Record<Percentile, number | null>;
  frameLossRate: number | null;
  simulator: string | null;
  accuracy: number | null;
  /** On the Pareto front recorded by a recommend cell; null when no recommendation exists. */
  pareto: boolean | null;
  /** Labels of the requirements blocks that chose this design. */
  chosenBy: string[];
}

export interface ValidationModel {
  coords: Record<string, unknown>;
  /** Rank (1 = best) of I-SPLIT's choice among the retrained accuracies. */
  isplitRank: number | null;
  isplitBestOverall: string | null;
  cdeChoice: string | null;
  oracleCut: string | null;
  regretPrecision: string | null;
  baselineLooMae: number | null;
  /** The fitted monotone calibration curve (log10 CUI → accuracy). */
  fit: { log10Cui: number; accuracy: number }[];
  spearman: { value: number | null; ci95: [number | null, number | null] };
  kendall: { value: number | null; ci95: [number | null, number | null] };
  isplitBest: string | null;
  retrainedBest: string | null;
  hit: boolean | null;
  regretIsplit: number | null;
  regretCde: number | null;
  payloadBudgetBytes: number | null;
  looMae: number | null;
  calibration: { cut: string | null; log10Cui: number | null; predicted: number | null; actual: number | null }[];
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

export interface PerClassCurve {
  class: string;
  log10Cui: (number | null)[];
  candidates: string[];
  best: string | null;
}

export interface ImportanceModel {
  cutPoints: string[];
  log10Cui: (number | null)[];
  candidates: string[];
  best: string | null;
  cdeBytes: (number | null)[];
  cdeCandidates: string[];
  target: string | null;
  imagesPerClass: number | 'all' | null;
  /** The scoring choices (METHOD.md): split scored, read point, candidate rule; null when not recorded. */
  split: string | null;
  images: number | null;
  readPoint: string | null;
  candidateRule: string | null;
  perClass: PerClassCurve[];
}

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

export interface DesignSummary {
  id: string | null;
  network: string | null;
  cut: string | null;
  precision: string | null;
  variant: string | null;
  accuracy: number | null;
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

const UPSTREAM_STAGES = new Set(['prepare-dataset', 'train-base', 'importance']);
const isCutAxis = (k: string): boolean => k === 'cut' || k.endsWith('.cut');
const isSeedAxis = (k: string): boolean => k === 'seed' || k.endsWith('.seed');
const isNetworkAxis = (k: string): boolean => /(^|\.)(network|networks|device|devices)$/.test(k);
const isRequirementsAxis = (k: string): boolean => /(^|\.)requirements?$/.test(k);

/** The precision a design label speaks of ('bottleneck-int8' → 'int8'). */
export function precisionOf(label: string): Precision | null {
  const m = /(fp32|fp16|int8)/i.exec(label);
  return m ? (m[1]!.toLowerCase() as Precision) : null;
}

export function buildReportModel(cells: CellRecord[], pipeline: PipelineInfo, contributed: ContributedTable[] = []): ReportModel {
  const notes: string[] = [];
  const done = cells.filter((c) => c.state === 'done' && obj(c.metrics) !== null);
  const groups = buildGroups(cells, notes);
  const recommendations = buildRecommendations(cells);
  nameRecommendationsApart(recommendations, groups);
  markChosenAndPareto(groups, cells);
  return {
    pipeline,
    empty: done.length === 0,
    groups,
    recommendations,
    subsetComparisons: cells.filter((c) => c.stage === 'compare-subsets' && c.state === 'done' && obj(c.metrics)).map((c) => readSubsetComparison(c)),
    provenance: buildProvenance(cells, pipeline.run ?? null),
    notes,
    contributed,
  };
}

// ---- groups: one per (model, dataset, class subset) ------------------------------------------

function groupAxes(cells: CellRecord[]): Set<string> {
  const axes = new Set<string>();
  for (const c of cells) if (UPSTREAM_STAGES.has(c.stage)) for (const k of Object.keys(c.coords)) axes.add(k);
  return axes;
}

function buildGroups(cells: CellRecord[], notes: string[]): GroupModel[] {
  const axes = groupAxes(cells);
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
    const mine = cells.filter((c) => compatible(c.coords, coords));
    const group = buildGroup(coords, mine, axes, notes);
    let id = group.id;
    for (let i = 2; usedIds.has(id); i++) id = `${group.id}-${i}`;
    usedIds.add(id);
    groups.push({ ...group, id });
  }
  return groups;
}

function firstDone(cells: CellRecord[], stage: string): CellRecord | undefined {
  return cells.find((c) => c.stage === stage && c.state === 'done' && obj(c.metrics) !== null);
}

function slug(text: string): string {
  const s = text.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase().slice(0, 48);
  return s === '' ? 'group' : s;
}

function labelOf(v: unknown, keys: string[]): string | null {
  for (const k of keys) {
    const s = str(at(v, k));
    if (s) return s;
  }
  return null;
}

function buildGroup(coords: Record<string, unknown>, cells: CellRecord[], axes: Set<string>, notes: string[]): GroupModel {
  const dataCell = firstDone(cells, 'prepare-dataset') ?? cells.find((c) => c.stage === 'prepare-dataset');
  const baseCell = firstDone(cells, 'train-base') ?? cells.find((c) => c.stage === 'train-base');
  const impCells = cells.filter((c) => c.stage === 'importance');
  const impCell = impCells.find((c) => c.state === 'done' && obj(c.metrics)) ?? impCells[0];
  const importance = impCell?.state === 'done' ? readImportance(impCell.metrics) : null;

  const model = modelLabel(baseCell);
  const dataset = datasetLabel(dataCell);
  const classesArr0 = strArr(at(dataCell?.metrics, 'classes'));
  // An explicit list of names says nothing the class list below does not.
  const subsetSpec = at(dataCell?.params, 'dataset.classes');
  const subset = classesArr0.length && arr(at(subsetSpec, 'names')).length ? null : subsetLabel(subsetSpec);
  const classesArr = strArr(at(dataCell?.metrics, 'classes'));
  const classes = classesArr.length ? classesArr : null;

  const evals = cells.filter((c) => c.stage === 'evaluate');
  const baseAccuracy = numAt(baseCell?.state === 'done' ? baseCell.metrics : undefined, 'testAccuracy')
    ?? evals.map((c) => numAt(c.state === 'done' ? c.metrics : undefined, 'baseAccuracy')).find((x) => x !== null) ?? null;

  const cutOrder = importance?.cutPoints.length ? importance.cutPoints
    : strArr(at(baseCell?.state === 'done' ? baseCell.metrics : undefined, 'cutPoints'));

  const titleParts = [model ?? 'model ?', dataset ?? 'dataset ?'];
  if (subset) titleParts.push(subset);
  if (classes) titleParts.push(classes.length <= 6 ? `classes: ${classes.join(', ')}` : `${classes.length} classes: ${classes.slice(0, 4).join(', ')}, …`);
  // The coordinates tell groups apart; the class-subset axis is already described above.
  const coordLabel = coordsText(subset || classes ? Object.fromEntries(Object.entries(coords).filter(([k]) => !/(^|\.)classes$/.test(k))) : coords);
  if (coordLabel) titleParts.push(coordLabel);

  const variants = buildVariants(cells, axes, cutOrder, importance, baseAccuracy, notes);
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
    importanceState: impCell ? impCell.state : 'absent',
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

function modelLabel(cell: CellRecord | undefined): string | null {
  const named = labelOf(cell?.params, ['model.name', 'model.id']);
  if (named) return named;
  const arch = strAt(cell?.params, 'model.arch') ?? strAt(cell?.metrics, 'arch');
  if (!arch) return null;
  const width = numAt(cell?.params, 'model.width');
  return width !== null && width !== 1 ? `${arch} ×${width}` : arch;
}

function datasetLabel(cell: CellRecord | undefined): string | null {
  const named = labelOf(cell?.params, ['dataset.name', 'dataset.id']);
  if (named) return named;
  const kind = strAt(cell?.params, 'dataset.kind');
  if (!kind) return null;
  const res = num(at(cell?.params, 'dataset.resolution'));
  return res !== null ? `${kind} ${res}px` : kind;
}

function subsetLabel(spec: unknown): string | null {
  if (!obj(spec)) return null;
  const ancestor = strAt(spec, 'wordnetAncestor');
  if (ancestor) return `classes under WordNet ${ancestor}`;
  const count = numAt(spec, 'count');
  if (count !== null) return `${count} random classes (seed ${numAt(spec, 'seed') ?? 0})`;
  const names = arr(at(spec, 'names'));
  return names.length ? `subset of ${names.length} classes` : null;
}

function readImportance(m: unknown): ImportanceModel {
  const cutPoints = strArr(at(m, 'cutPoints'));
  const rawCui = numArr(at(m, 'cui'));
  const storedLog = numArr(at(m, 'log10Cui'));
  const log10Cui = cutPoints.map((_, i) => storedLog[i] ?? log10OrNull(rawCui[i] ?? null));
  const perClass = arr(at(m, 'perClass')).map((p): PerClassCurve => ({
    class: str(at(p, 'class')) ?? '?',
    log10Cui: cutPoints.map((_, i) => log10OrNull(numArr(at(p, 'cui'))[i] ?? null)),
    candidates: strArr(at(p, 'candidates')),
    best: str(at(p, 'best')),
  }));
  const cde = numArr(at(m, 'cdeBytes'));
  return {
    cutPoints,
    log10Cui,
    candidates: strArr(at(m, 'candidates')),
    best: str(at(m, 'best')),
    cdeBytes: cutPoints.map((_, i) => cde[i] ?? null),
    cdeCandidates: strArr(at(m, 'cdeCandidates')),
    target: str(at(m, 'target')),
    imagesPerClass: at(m, 'imagesPerClass') === 'all' ? 'all' : num(at(m, 'imagesPerClass')),
    split: str(at(m, 'split')),
    images: num(at(m, 'images')),
    // Results from before these options existed were made the one way there was.
    readPoint: str(at(m, 'readPoint')) ?? 'post-activation',
    candidateRule: str(at(m, 'candidateRule')) ?? 'strict',
    perClass,
  };
}

function cutOf(c: CellRecord): string | null {
  for (const [k, v] of Object.entries(c.coords)) if (isCutAxis(k) && typeof v === 'string') return v;
  return strAt(c.metrics, 'cut') ?? strAt(c.params, 'cut');
}

function buildVariants(cells: CellRecord[], groupAxesSet: Set<string>, cutOrder: string[], importance: ImportanceModel | null,
  baseAccuracy: number | null, notes: string[]): VariantModel[] {
  const design = cells.filter((c) => c.stage === 'evaluate' || c.stage === 'split-retrain');
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
    const mine = cells.filter((c) => compatible(c.coords, vc));
    out.push(buildVariant(vc, mine, cutOrder, importance, baseAccuracy, notes));
  }
  return out;
}

function buildVariant(coords: Record<string, unknown>, cells: CellRecord[], cutOrder: string[], importance: ImportanceModel | null,
  baseAccuracy: number | null, notes: string[]): VariantModel {
  const evals = cells.filter((c) => c.stage === 'evaluate');
  const retrains = cells.filter((c) => c.stage === 'split-retrain');
  const sims = cells.filter((c) => c.stage === 'simulate' && c.state === 'done' && obj(c.metrics));

  // Designs simulated on each network (precision × cut).
  const designs: DesignPoint[] = [];
  for (const s of sims) {
    // A simulate cell may cover several networks and devices: each design names its own.
    const network = strAt(s.metrics, 'network') ?? '?';
    const device = strAt(s.metrics, 'device');
    for (const d of arr(at(s.metrics, 'designs'))) {
      const cut = str(at(d, 'cut'));
      if (!cut) continue;
      const e2e = Object.fromEntries(PERCENTILES.map((p) => [p, numAt(d, `endToEndMs.${p}`)])) as Record<Percentile, number | null>;
      designs.push({
        id: str(at(d, 'id')),
        kind: str(at(d, 'kind')) ?? 'split',
        variant: str(at(d, 'variant')) ?? '',
        network: str(at(d, 'network')) ?? network,
        device: str(at(d, 'device')) ?? device,
        cut,
        precision: str(at(d, 'precision')) ?? '?',
        payloadBytes: num(at(d, 'payloadBytes')),
        deviceMs: num(at(d, 'deviceMs')),
        transferP50: numAt(d, 'transferMs.p50'),
        serverMs: num(at(d, 'serverMs')),
        e2eP50: e2e.p50,
        e2eP95: e2e.p95,
        e2e,
        frameLossRate: num(at(d, 'frameLossRate')),
        simulator: str(at(d, 'simulator')),
        accuracy: num(at(d, 'accuracy')),
        pareto: null,
        chosenBy: [],
      });
    }
  }
  const networks = [...new Set(designs.map((d) => d.network))].sort();
  const precisions = [...new Set(designs.filter((d) => d.kind === 'split').map((d) => d.precision))].sort();
  const mainPrecision = precisions.find((p) => precisionOf(p) === 'fp32') ?? precisions[0] ?? null;

  // Every cut named anywhere, in forward order; cuts unknown to the importance cell go last.
  const cuts = [...cutOrder];
  for (const c of [...evals, ...retrains]) {
    const cut = cutOf(c);
    if (cut && !cuts.includes(cut)) cuts.push(cut);
  }

  const rows: CutRow[] = cuts.map((cut, index) => {
    const ev = evals.filter((c) => cutOf(c) === cut);
    const rt = retrains.filter((c) => cutOf(c) === cut);
    const evDone = ev.filter((c) => c.state === 'done' && obj(c.metrics));
    const ms = evDone.map((c) => c.metrics);
    const accuracy = stat(ms.map((m) => numAt(m, 'accuracy')));
    const quantized = Object.fromEntries(PRECISIONS.map((p) => [p, stat(ms.map((m) => numAt(m, `quantizedAccuracy.${p}`)))])) as Record<Precision, Stat | null>;
    const firstBytes = (p: string): number | null => ms.map((m) => numAt(m, p)).find((x) => x !== null) ?? null;
    const impIdx = importance ? importance.cutPoints.indexOf(cut) : -1;
    const errors = [...ev, ...rt].filter((c) => c.state === 'failed' && c.error).map((c) => `${c.instance}: ${c.error}`);
    const expectedCells = Math.max(ev.length, rt.length);
    let status: CutStatus;
    if (expectedCells === 0) status = 'not-swept';
    else if (evDone.length === expectedCells) status = 'done';
    else if (evDone.length > 0) status = 'partial';
    else if ([...ev, ...rt].some((c) => c.state === 'failed')) status = 'failed';
    else status = 'missing';
    const seeds = [...new Set([...ev, ...rt].map((c) => Object.entries(c.coords).find(([k]) => isSeedAxis(k))?.[1] ?? at(c.params, 'seed'))
      .filter((x): x is number => typeof x === 'number'))].sort((a, b) => a - b);
    const meanOf = (path: string): number | null => stat(ms.map((m) => numAt(m, path)))?.mean ?? null;
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
        raw: firstBytes('payload.bytes.raw.fp32') ?? (impIdx >= 0 ? importance!.cdeBytes[impIdx] ?? null : null),
        fp32: firstBytes('payload.bytes.bottleneck.fp32'),
        fp16: firstBytes('payload.bytes.bottleneck.fp16'),
        int8: firstBytes('payload.bytes.bottleneck.int8'),
      },
      accuracy,
      deltaFromBase: accuracy && baseAccuracy !== null ? accuracy.mean - baseAccuracy : null,
      quantized,
      deviceMs: meanOf('device.timeMs.p50'),
      serverMs: meanOf('server.timeMs.p50'),
      latency,
      status,
      doneCells: evDone.length,
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

  const validation = cells.filter((c) => c.stage === 'validate' && c.state === 'done' && obj(c.metrics)).map((c) => readValidation(c));
  return {
    coords,
    label: coordsText(coords) || 'all settings',
    rows,
    networks,
    mainPrecision,
    designs,
    latencyPercentile: 'p50',
    validation,
  };
}

function ci(v: unknown): [number | null, number | null] {
  const a = numArr(v);
  return [a[0] ?? null, a[1] ?? null];
}

function readValidation(c: CellRecord): ValidationModel {
  const m = c.metrics;
  const cuts = strArr(at(m, 'cuts'));
  const points = arr(at(m, 'calibration.points'));
  const fitX = numArr(at(m, 'calibration.fit.log10Cui'));
  const fitY = numArr(at(m, 'calibration.fit.accuracy'));
  const fit = fitX.flatMap((x, i) => (x !== null && fitY[i] !== null && fitY[i] !== undefined ? [{ log10Cui: x, accuracy: fitY[i]! }] : []));
  return {
    coords: c.coords,
    isplitRank: numAt(m, 'isplitRank'),
    isplitBestOverall: strAt(m, 'isplitBestOverall'),
    cdeChoice: strAt(m, 'regret.cdeChoice'),
    oracleCut: strAt(m, 'regret.oracleCut'),
    regretPrecision: strAt(m, 'regret.precision'),
    baselineLooMae: numAt(m, 'calibration.baselineLooMae'),
    fit,
    spearman: { value: numAt(m, 'spearman.value'), ci95: ci(at(m, 'spearman.ci95')) },
    kendall: { value: numAt(m, 'kendall.value'), ci95: ci(at(m, 'kendall.ci95')) },
    isplitBest: strAt(m, 'isplitBest'),
    retrainedBest: strAt(m, 'retrainedBest'),
    hit: bool(at(m, 'hit')),
    regretIsplit: numAt(m, 'regret.isplit'),
    regretCde: numAt(m, 'regret.cde'),
    payloadBudgetBytes: numAt(m, 'regret.payloadBudgetBytes'),
    looMae: numAt(m, 'calibration.looMae'),
    calibration: points.map((p, i) => ({
      cut: str(at(p, 'cut')) ?? cuts[i] ?? null,
      log10Cui: log10OrNull(num(at(p, 'cui'))),
      predicted: num(at(p, 'predicted')),
      actual: num(at(p, 'actual')),
    })),
  };
}

function readSubsetComparison(c: CellRecord): SubsetComparisonModel {
  const m = c.metrics;
  return {
    coords: c.coords,
    subsets: arr(at(m, 'subsets')).map((x) => ({
      label: str(at(x, 'label')) ?? '?', isplitBest: str(at(x, 'isplitBest')), retrainedBest: str(at(x, 'retrainedBest')),
      hit: bool(at(x, 'hit')), spearman: num(at(x, 'spearman')),
    })),
    isplitBestMoves: bool(at(m, 'isplitBestMoves')),
    retrainedBestMoves: bool(at(m, 'retrainedBestMoves')),
    moveAgreement: num(at(m, 'moveAgreement')),
    hitRate: num(at(m, 'hitRate')),
  };
}

// ---- recommendations --------------------------------------------------------------------------

function summarizeDesign(d: unknown, percentile: Percentile): DesignSummary {
  const p50 = numAt(d, 'endToEndMs.p50') ?? num(at(d, 'endToEndMs')) ?? num(at(d, 'latencyMs'));
  return {
    id: str(at(d, 'id')),
    network: str(at(d, 'network')),
    cut: str(at(d, 'cut')),
    precision: str(at(d, 'precision')),
    variant: str(at(d, 'variant')),
    accuracy: num(at(d, 'accuracy')),
    e2eP50: p50,
    latency: numAt(d, `endToEndMs.${percentile}`) ?? (percentile === 'p50' ? p50 : null),
  };
}

function percentileOf(requirements: unknown): Percentile {
  const p = strAt(requirements, 'latencyPercentile');
  return p && (PERCENTILES as string[]).includes(p) ? (p as Percentile) : 'p95';
}

function recommendationLabel(c: CellRecord): string {
  const own = Object.entries(c.coords).filter(([k]) => isRequirementsAxis(k));
  if (own.length) return own.map(([, v]) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  return strAt(c.params, 'requirements.name') ?? strAt(c.params, 'requirements.description')
    ?? strAt(c.metrics, 'requirements.name') ?? strAt(c.metrics, 'requirements.description') ?? c.instance;
}

function buildRecommendations(cells: CellRecord[]): RecommendationModel[] {
  return cells.filter((c) => c.stage === 'recommend').map((c) => {
    const m = c.state === 'done' ? c.metrics : undefined;
    const chosen = at(m, 'chosen');
    const requirements = obj(at(m, 'requirements')) ?? obj(at(c.params, 'requirements'));
    const percentile = percentileOf(requirements);
    return {
      label: recommendationLabel(c),
      coords: c.coords,
      state: c.state,
      error: c.error ?? null,
      requirements,
      percentile,
      summary: strAt(m, 'summary'),
      chosen: obj(chosen) ? summarizeDesign(chosen, percentile) : null,
      binding: strAt(m, 'binding'),
      relax: arr(at(m, 'bindingDetail')).map((b) => ({
        constraint: str(at(b, 'constraint')) ?? '?', relaxTo: num(at(b, 'relaxTo')), admitsIfRelaxed: num(at(b, 'admitsIfRelaxed')),
      })),
      feasibleCount: m ? arr(at(m, 'feasible')).length : null,
      rejected: arr(at(m, 'rejected')).map((r) => ({
        design: summarizeDesign(at(r, 'design'), percentile),
        violations: arr(at(r, 'violations')).map((v) => ({
          constraint: str(at(v, 'constraint')) ?? '?',
          limit: num(at(v, 'limit')),
          actual: num(at(v, 'actual')),
          by: num(at(v, 'by')),
        })),
      })),
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

/** Mark designs on the recorded Pareto fronts and those chosen by a requirements block. */
function markChosenAndPareto(groups: GroupModel[], cells: CellRecord[]): void {
  const recs = cells.filter((c) => c.stage === 'recommend' && c.state === 'done' && obj(c.metrics));
  for (const g of groups) {
    for (const v of g.variants) {
      const mine = recs.filter((r) => compatible(r.coords, g.coords) && compatible(r.coords, v.coords));
      if (mine.length === 0) continue;
      v.latencyPercentile = percentileOf(at(mine[0]!.metrics, 'requirements'));
      // Designs match by id when both carry one, else by what they are.
      const same = (d: DesignPoint, x: unknown, network: string | null): boolean => {
        const id = str(at(x, 'id'));
        if (id !== null && d.id !== null) return id === d.id;
        return str(at(x, 'cut')) === d.cut && str(at(x, 'precision')) === d.precision && (network ?? str(at(x, 'network')) ?? d.network) === d.network
          && (str(at(x, 'variant')) ?? d.variant) === d.variant;
      };
      for (const d of v.designs) {
        d.pareto = mine.some((r) => {
          const fronts = obj(at(r.metrics, 'pareto')) ?? {};
          return arr(fronts[d.network]).some((x) => same(d, x, d.network));
        });
        for (const r of mine) {
          const chosen = at(r.metrics, 'chosen');
          if (obj(chosen) && same(d, chosen, str(at(chosen, 'network')))) d.chosenBy.push(recommendationLabel(r));
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
