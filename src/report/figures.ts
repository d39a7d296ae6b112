// The report's figures as Vega-Lite specifications built from the report model. Data is inlined
// in each specification (no loading at render time); names from datasets and configs travel as
// data values, which Vega writes into the SVG as escaped text.
import type { GroupModel, VariantModel } from './model.js';
import { PRECISIONS } from './model.js';
import type { VegaLiteSpec } from './render-figure.js';

export interface Figure {
  /** File-safe, unique within a report. */
  id: string;
  title: string;
  caption: string;
  spec: VegaLiteSpec;
}

const FONT = 'DejaVu Sans, Verdana, sans-serif';
const WIDTH = 560;
/** A five-pointed star, as a Vega symbol path in a unit box. */
const STAR = 'M0,-1L0.224,-0.309L0.951,-0.309L0.363,0.118L0.588,0.809L0,0.382L-0.588,0.809L-0.363,0.118L-0.951,-0.309L-0.224,-0.309Z';
const PRECISION_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#9d755d'];

const base = (title: string): VegaLiteSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: title, anchor: 'start', fontSize: 13, limit: 640 },
  background: 'white',
  padding: 8,
  config: {
    font: FONT,
    view: { stroke: '#ddd' },
    axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: '#eee' },
    legend: { labelFontSize: 10, titleFontSize: 10, labelLimit: 220 },
  },
});

function xCut(cutOrder: string[], labels: boolean): Record<string, unknown> {
  return {
    field: 'cut', type: 'ordinal', sort: cutOrder, scale: { domain: cutOrder },
    axis: labels ? { title: 'cut point', labelAngle: -50, labelLimit: 140, grid: false } : { title: null, labels: false, grid: false },
  };
}

const variantLabel = (g: GroupModel, v: VariantModel): string => (g.variants.length > 1 ? v.label : 'retrained');

/** I-SPLIT curve (log10 CUI, candidates starred, global max marked) over retrained accuracy and CDE bytes. */
export function cuiFigure(g: GroupModel): Figure | null {
  const rowsOf = g.variants[0]?.rows ?? [];
  if (!g.importance && rowsOf.every((r) => r.accuracy === null)) return null;
  const cutOrder = rowsOf.map((r) => r.cut);
  const curve = rowsOf.map((r) => ({ cut: r.cut, log10Cui: r.log10Cui, candidate: r.candidate === true, best: r.isplitBest }));
  const panels: Record<string, unknown>[] = [];
  if (g.importance) {
    panels.push({
      title: { text: `log10 CUI (target: ${g.importance.target ?? '?'})`, fontSize: 11, anchor: 'start' },
      width: WIDTH, height: 150,
      data: { values: curve },
      layer: [
        { mark: { type: 'line', color: '#4c78a8', point: { filled: true, size: 28, color: '#4c78a8' } },
          encoding: { x: xCut(cutOrder, false), y: { field: 'log10Cui', type: 'quantitative', title: 'log10 CUI', scale: { zero: false } },
            tooltip: [{ field: 'cut' }, { field: 'log10Cui', format: '.3f' }] } },
        { transform: [{ filter: 'datum.candidate' }],
          mark: { type: 'point', shape: STAR, filled: true, size: 220, color: '#e45756', stroke: '#8c1c1c', strokeWidth: 0.6 },
          encoding: { x: xCut(cutOrder, false), y: { field: 'log10Cui', type: 'quantitative' } } },
        { transform: [{ filter: 'datum.best' }],
          mark: { type: 'point', shape: 'diamond', filled: false, size: 520, color: '#222', strokeWidth: 2 },
          encoding: { x: xCut(cutOrder, false), y: { field: 'log10Cui', type: 'quantitative' } } },
        { transform: [{ filter: 'datum.best' }],
          mark: { type: 'text', dy: -16, fontWeight: 'bold', fontSize: 10, color: '#222' },
          encoding: { x: xCut(cutOrder, false), y: { field: 'log10Cui', type: 'quantitative' }, text: { value: 'global max' } } },
      ],
    });
  }
  const acc: Record<string, unknown>[] = [];
  const gaps: Record<string, unknown>[] = [];
  for (const v of g.variants) {
    for (const r of v.rows) {
      if (r.accuracy) acc.push({ cut: r.cut, variant: variantLabel(g, v), mean: r.accuracy.mean, min: r.accuracy.min, max: r.accuracy.max, n: r.accuracy.n });
      else if (r.status === 'missing' || r.status === 'failed') gaps.push({ cut: r.cut, status: r.status, variant: variantLabel(g, v) });
    }
  }
  // Layers over empty data are left out (Vega warns about their empty extents).
  const accLayers: Record<string, unknown>[] = acc.length === 0 ? [] : [
    { data: { values: acc }, mark: { type: 'rule', strokeWidth: 1.5 },
      encoding: { x: xCut(cutOrder, false), y: { field: 'min', type: 'quantitative', title: 'test accuracy', scale: { zero: false } }, y2: { field: 'max' },
        color: { field: 'variant', type: 'nominal', title: 'setting', legend: g.variants.length > 1 ? {} : null } } },
    { data: { values: acc }, mark: { type: 'line', point: { filled: true, size: 40 } },
      encoding: { x: xCut(cutOrder, false), y: { field: 'mean', type: 'quantitative' },
        color: { field: 'variant', type: 'nominal', legend: g.variants.length > 1 ? {} : null },
        tooltip: [{ field: 'cut' }, { field: 'variant' }, { field: 'mean', format: '.4f' }, { field: 'n' }] } },
  ];
  if (gaps.length) {
    accLayers.push({ data: { values: gaps }, mark: { type: 'point', shape: 'cross', filled: true, size: 90 },
      encoding: { x: xCut(cutOrder, false), y: { value: 112 },
        fill: { field: 'status', type: 'nominal', title: 'no result', scale: { domain: ['missing', 'failed'], range: ['#9e9e9e', '#d62728'] } },
        tooltip: [{ field: 'cut' }, { field: 'status' }] } });
  }
  if (g.baseAccuracy !== null) {
    accLayers.push({ data: { values: [{ base: g.baseAccuracy }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#666' },
      encoding: { y: { field: 'base', type: 'quantitative', title: 'test accuracy' } } });
  }
  if (acc.length || gaps.length) {
    panels.push({
      title: { text: `retrained accuracy (${acc.length ? 'mean, min–max over seeds; ' : 'none finished yet; '}${g.baseAccuracy !== null ? 'dashed: base network; ' : ''}× no result)`, fontSize: 11, anchor: 'start' },
      width: WIDTH, height: 120, layer: accLayers, resolve: { scale: { color: 'independent', fill: 'independent' } },
    });
  }
  const bytes: Record<string, unknown>[] = [];
  for (const r of rowsOf) {
    if (r.bytes.raw !== null && r.bytes.raw > 0) bytes.push({ cut: r.cut, series: 'tensor at cut (fp32)', bytes: r.bytes.raw });
    if (r.bytes.fp32 !== null && r.bytes.fp32 > 0) bytes.push({ cut: r.cut, series: 'bottleneck (fp32)', bytes: r.bytes.fp32 });
  }
  if (bytes.length === 0) {
    // The cut names still label the shared axis: put them on the last panel.
    const last = panels[panels.length - 1]!;
    for (const layer of (last.layer as Record<string, unknown>[] | undefined) ?? [last]) {
      const enc = layer.encoding as Record<string, unknown> | undefined;
      if (enc?.x) enc.x = xCut(cutOrder, true);
    }
    return cuiFigureOf(g, panels);
  }
  panels.push({
    title: { text: 'CDE: bytes at the cut per image', fontSize: 11, anchor: 'start' },
    width: WIDTH, height: 110, data: { values: bytes },
    mark: { type: 'line', point: { filled: true, size: 24 } },
    encoding: { x: xCut(cutOrder, true), y: { field: 'bytes', type: 'quantitative', scale: { type: 'log' }, title: 'bytes', axis: { format: '~s' } },
      color: { field: 'series', type: 'nominal', title: null, scale: { range: ['#72b7b2', '#b279a2'] }, legend: { orient: 'top-right' } },
      tooltip: [{ field: 'cut' }, { field: 'series' }, { field: 'bytes', format: ',' }] },
  });
  return cuiFigureOf(g, panels);
}

function cuiFigureOf(g: GroupModel, panels: Record<string, unknown>[]): Figure {
  return {
    id: `${g.id}-cui`,
    title: `I-SPLIT curve, retrained accuracy and CDE — ${g.title}`,
    caption: 'Top: log10 of the cumulative importance (CUI) at each cut point in forward order; stars mark candidate cuts (local maxima), the diamond the global maximum (I-SPLIT\'s choice). Middle: test accuracy after retraining a bottleneck at the cut; crosses mark cuts of the sweep with no result. Bottom: bytes per image crossing the network at the cut (the CDE curve).',
    spec: { ...base(`I-SPLIT — ${g.title}`), vconcat: panels, spacing: 8, resolve: { scale: { x: 'shared', color: 'independent' } } },
  };
}

/** One CUI curve per class (class dependence of the best cut). */
export function perClassFigure(g: GroupModel): Figure | null {
  const imp = g.importance;
  if (!imp || imp.perClass.length === 0) return null;
  const values: Record<string, unknown>[] = [];
  const bests: Record<string, unknown>[] = [];
  for (const pc of imp.perClass) {
    imp.cutPoints.forEach((cut, i) => values.push({ cut, class: pc.class, log10Cui: pc.log10Cui[i] ?? null }));
    const bi = pc.best ? imp.cutPoints.indexOf(pc.best) : -1;
    if (bi >= 0) bests.push({ cut: pc.best, class: pc.class, log10Cui: pc.log10Cui[bi] ?? null });
  }
  const many = imp.perClass.length > 12;
  return {
    id: `${g.id}-per-class`,
    title: `Per-class I-SPLIT curves — ${g.title}`,
    caption: `log10 CUI computed on the images of one class at a time (${imp.perClass.length} classes); the filled dot on each curve marks that class's best cut.`,
    spec: {
      ...base(`Per-class CUI — ${g.title}`),
      width: WIDTH, height: 220,
      layer: [
        { data: { values }, mark: { type: 'line', strokeWidth: many ? 0.8 : 1.6, opacity: many ? 0.55 : 0.9 },
          encoding: { x: xCut(imp.cutPoints, true), y: { field: 'log10Cui', type: 'quantitative', title: 'log10 CUI', scale: { zero: false } },
            color: { field: 'class', type: 'nominal', legend: many ? null : { title: 'class' } }, tooltip: [{ field: 'class' }, { field: 'cut' }, { field: 'log10Cui', format: '.3f' }] } },
        { data: { values: bests }, mark: { type: 'point', filled: true, size: 60 },
          encoding: { x: xCut(imp.cutPoints, true), y: { field: 'log10Cui', type: 'quantitative' }, color: { field: 'class', type: 'nominal', legend: many ? null : { title: 'class' } },
            tooltip: [{ field: 'class' }, { field: 'cut', title: 'best cut' }] } },
      ],
    },
  };
}

/** CUI against retrained accuracy, with the fitted monotone calibration. */
export function calibrationFigure(g: GroupModel): Figure | null {
  const pts: Record<string, unknown>[] = [];
  const curve: Record<string, unknown>[] = [];
  for (const v of g.variants) {
    for (const val of v.validation) {
      for (const p of val.calibration) {
        if (p.log10Cui === null) continue;
        pts.push({ variant: variantLabel(g, v), cut: p.cut ?? '', log10Cui: p.log10Cui, actual: p.actual, predicted: p.predicted });
      }
      // The fitted curve when the validation recorded it, else its per-cut predictions.
      const line = val.fit.length ? val.fit : val.calibration.filter((p) => p.log10Cui !== null && p.predicted !== null).map((p) => ({ log10Cui: p.log10Cui!, accuracy: p.predicted! }));
      for (const q of line) curve.push({ variant: variantLabel(g, v), log10Cui: q.log10Cui, fitted: q.accuracy });
    }
  }
  if (pts.length === 0) return null;
  const v0 = g.variants.find((v) => v.validation.length)?.validation[0];
  const rho = v0?.spearman.value;
  const sub = rho !== null && rho !== undefined ? `Spearman ρ = ${rho.toFixed(2)}` : '';
  const mae = v0?.looMae;
  return {
    id: `${g.id}-calibration`,
    title: `CUI against retrained accuracy — ${g.title}`,
    caption: `Each dot is a cut: its log10 CUI (before any retraining) and its retrained test accuracy. The line is the fitted monotone calibration from CUI to accuracy${mae !== null && mae !== undefined ? ` (leave-one-out mean absolute error ${mae.toFixed(4)})` : ''}.`,
    spec: {
      ...base(`CUI vs retrained accuracy${sub ? ` (${sub})` : ''} — ${g.title}`),
      width: 420, height: 260,
      data: { values: pts },
      layer: [
        { data: { values: curve }, mark: { type: 'line', strokeDash: [5, 3], color: '#555', point: { filled: false, size: 14, color: '#555' } },
          encoding: { x: { field: 'log10Cui', type: 'quantitative', title: 'log10 CUI', scale: { zero: false } }, y: { field: 'fitted', type: 'quantitative' },
            detail: { field: 'variant' }, order: { field: 'log10Cui' } } },
        { transform: [{ filter: 'isValid(datum.actual)' }], mark: { type: 'point', filled: true, size: 60 },
          encoding: { x: { field: 'log10Cui', type: 'quantitative' }, y: { field: 'actual', type: 'quantitative', title: 'retrained accuracy', scale: { zero: false } },
            color: { field: 'variant', type: 'nominal', legend: g.variants.length > 1 ? { title: 'setting' } : null },
            tooltip: [{ field: 'cut' }, { field: 'log10Cui', format: '.3f' }, { field: 'actual', format: '.4f' }, { field: 'predicted', format: '.4f' }] } },
        { transform: [{ filter: 'isValid(datum.actual)' }], mark: { type: 'text', dx: 6, align: 'left', fontSize: 9, color: '#444' },
          encoding: { x: { field: 'log10Cui', type: 'quantitative' }, y: { field: 'actual', type: 'quantitative' }, text: { field: 'cut' } } },
      ],
    },
  };
}

/** How a design appears in the legend: its payload precision, or which baseline it is. */
function seriesOf(kind: string, precision: string): string {
  if (kind === 'local') return 'local (all on device)';
  if (kind === 'remote') return `remote (raw input${precision && precision !== '?' ? `, ${precision}` : ''})`;
  return precision;
}

/** Accuracy against end-to-end latency, one panel per network, Pareto front and chosen designs. */
export function latencyFigure(g: GroupModel, v: VariantModel): Figure | null {
  const pct = v.latencyPercentile;
  const devices = new Set(v.designs.map((d) => d.device));
  const pts = v.designs.filter((d) => d.accuracy !== null && (d.e2e[pct] ?? 0) > 0).map((d) => ({
    panel: devices.size > 1 ? `${d.network} · ${d.device ?? '?'}` : d.network,
    cut: d.cut, series: seriesOf(d.kind, d.precision), variant: d.variant, accuracy: d.accuracy, latency: d.e2e[pct],
    pareto: d.pareto === true, chosen: d.chosenBy.length > 0, chosenBy: d.chosenBy.join(', '),
  }));
  if (pts.length === 0) return null;
  const hasFront = v.designs.some((d) => d.pareto !== null);
  const suffix = g.variants.length > 1 ? `${g.id}-${v.label}` : g.id;
  const series = [...new Set(pts.map((p) => p.series))].sort((a, b) => rankSeries(a) - rankSeries(b) || a.localeCompare(b));
  return {
    id: `${suffix.replace(/[^A-Za-z0-9_-]+/g, '-')}-latency`,
    title: `Accuracy against end-to-end latency per network — ${g.title}${g.variants.length > 1 ? ` (${v.label})` : ''}`,
    caption: `Each point is a design simulated on one network: its ${pct} end-to-end latency (device + transfer + server) against its accuracy; colours tell the payload precision of split designs from the local and remote baselines. ${hasFront ? 'The line joins the Pareto-optimal designs recorded by the recommendation; ringed points are the designs chosen for a requirements block.' : 'No recommendation is in the store, so no Pareto front is drawn.'}`,
    spec: {
      ...base(`Accuracy vs end-to-end latency (${pct}) — ${g.title}`),
      data: { values: pts },
      facet: { column: { field: 'panel', type: 'nominal', title: null, header: { labelFontSize: 11, labelFontWeight: 'bold' } } },
      spec: {
        width: 260, height: 220,
        layer: [
          ...(pts.some((p) => p.pareto) ? [{ transform: [{ filter: 'datum.pareto' }], mark: { type: 'line', interpolate: 'step-after', color: '#333', strokeWidth: 1.2 },
            encoding: { x: { field: 'latency', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' }, order: { field: 'latency' } } }] : []),
          { mark: { type: 'point', filled: true, size: 50, opacity: 0.8 },
            encoding: { x: { field: 'latency', type: 'quantitative', scale: { type: 'log' }, title: `end-to-end latency ${pct} (ms)` },
              y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, title: 'accuracy' },
              color: { field: 'series', type: 'nominal', title: 'design', scale: { domain: series, range: PRECISION_COLORS } },
              shape: { field: 'pareto', type: 'nominal', title: 'Pareto', scale: { domain: [true, false], range: ['diamond', 'circle'] }, legend: hasFront ? {} : null },
              tooltip: [{ field: 'cut' }, { field: 'series', title: 'design' }, { field: 'variant' }, { field: 'latency', format: '.2f', title: `${pct} ms` }, { field: 'accuracy', format: '.4f' }] } },
          // Layers over an empty selection are left out: Vega warns about their empty extents.
          ...(pts.some((p) => p.chosen) ? [
            { transform: [{ filter: 'datum.chosen' }], mark: { type: 'point', filled: false, size: 360, color: '#d62728', strokeWidth: 2.2 },
              encoding: { x: { field: 'latency', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' } } },
            { transform: [{ filter: 'datum.chosen' }], mark: { type: 'text', dy: -16, fontSize: 9, color: '#d62728', fontWeight: 'bold' },
              encoding: { x: { field: 'latency', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'chosenBy' } } },
          ] : []),
        ],
      },
    },
  };
}

/** Precisions first in a fixed order, baselines after. */
function rankSeries(s: string): number {
  const i = (PRECISIONS as string[]).indexOf(s);
  return i >= 0 ? i : 10;
}

/** Accuracy and payload of the transmitted tensor at fp32, fp16 and int8. */
export function precisionFigure(g: GroupModel): Figure | null {
  const acc: Record<string, unknown>[] = [];
  const bytes: Record<string, unknown>[] = [];
  const v = g.variants[0];
  if (!v) return null;
  for (const r of v.rows) {
    for (const p of PRECISIONS) {
      const q = r.quantized[p];
      if (q) acc.push({ cut: r.cut, precision: p, accuracy: q.mean });
      const b = r.bytes[p];
      if (b !== null && b > 0) bytes.push({ cut: r.cut, precision: p, bytes: b });
    }
  }
  if (acc.length === 0) return null;
  const cutOrder = v.rows.filter((r) => r.quantized.fp32 || r.quantized.fp16 || r.quantized.int8).map((r) => r.cut);
  const color = { field: 'precision', type: 'nominal', title: 'payload', scale: { domain: PRECISIONS, range: PRECISION_COLORS.slice(0, 3) } };
  return {
    id: `${g.id}-precision`,
    title: `Effect of payload precision — ${g.title}`,
    caption: 'Top: retrained test accuracy when the bottleneck output is quantised to the precision and dequantised on the server (mean over seeds). Bottom: bytes per image at that precision.',
    spec: {
      ...base(`Payload precision — ${g.title}${g.variants.length > 1 ? ` (${v.label})` : ''}`),
      vconcat: [
        { width: WIDTH, height: 150, data: { values: acc }, mark: { type: 'line', point: { filled: true, size: 36 } },
          encoding: { x: xCut(cutOrder, false), y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, title: 'accuracy' }, color,
            tooltip: [{ field: 'cut' }, { field: 'precision' }, { field: 'accuracy', format: '.4f' }] } },
        { width: WIDTH, height: 110, data: { values: bytes }, mark: { type: 'line', point: { filled: true, size: 30 }, strokeDash: [3, 2] },
          encoding: { x: xCut(cutOrder, true), y: { field: 'bytes', type: 'quantitative', scale: { type: 'log' }, title: 'bytes', axis: { format: '~s' } }, color: { ...color, legend: null },
            tooltip: [{ field: 'cut' }, { field: 'precision' }, { field: 'bytes', format: ',' }] } },
      ],
      spacing: 8,
      resolve: { scale: { x: 'shared' } },
    },
  };
}

/** Every figure of a group, in reading order. */
export function groupFigures(g: GroupModel): Figure[] {
  const out: (Figure | null)[] = [cuiFigure(g), perClassFigure(g), calibrationFigure(g)];
  for (const v of g.variants) out.push(latencyFigure(g, v));
  out.push(precisionFigure(g));
  return out.filter((f): f is Figure => f !== null);
}
