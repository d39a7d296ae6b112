// What `sei export` exports, found in the store: the recommended design of the pipeline's
// application (default), a simulated design by id, or a retrained (or evaluated, or base) cell;
// and the cells around it — the trained model, its evaluation, its dataset.
import { UsageError } from '../util/errors.js';
import type { Design } from '../netsim/designs.js';
import type { CellRecord } from '../store/types.js';
import type { Store } from '../store/store.js';
import { formatCoords } from '../util/coords.js';
import type { Precision } from '../ml/accounting.js';

export type ExportKind = 'split' | 'local' | 'remote';

export interface ExportTarget {
  kind: ExportKind;
  /** Precision of the transmitted tensor (split designs; fp32 otherwise). */
  precision: Precision;
  /** The simulated design, when the target was chosen as one. */
  design?: Design;
  /** The cell holding the trained model: a split-retrain cell (split) or the train-base cell. */
  model: CellRecord;
  evaluate?: CellRecord;
  dataset?: CellRecord;
  /** How the target was picked, in words. */
  origin: string;
}

const PRECISIONS: Precision[] = ['fp32', 'fp16', 'int8'];

function doneCells(store: Store, pipeline: string, stage: string): CellRecord[] {
  return store.listCells({ pipeline }).filter((c) => c.stage === stage && c.state === 'done');
}

function upstream(store: Store, cell: CellRecord, input: string): CellRecord | undefined {
  const id = store.getCell(cell.id)?.inputs[input]?.cellIds[0];
  const up = id ? store.getCell(id) : undefined;
  return up && up.state === 'done' ? up : undefined;
}

function listCells(cells: CellRecord[]): string {
  return cells.map((c) => `  ${c.id.slice(0, 12)}  ${c.stage.padEnd(13)} ${formatCoords(c.coords, 80)}`).join('\n');
}

function listDesigns(designs: Design[]): string {
  const ids = [...new Set(designs.map((d) => d.id))];
  const shown = ids.slice(0, 40).map((id) => `  ${id}`).join('\n');
  return ids.length > 40 ? `${shown}\n  … (${ids.length - 40} more)` : shown;
}

/** Every simulated design of the pipeline. */
function allDesigns(store: Store, pipeline: string): Design[] {
  return doneCells(store, pipeline, 'simulate').flatMap((c) => (Array.isArray(c.metrics?.designs) ? (c.metrics!.designs as Design[]) : []));
}

/** The target of a design: its evaluate cell, and through it the model and the dataset. */
function fromDesign(store: Store, design: Design, origin: string): ExportTarget {
  if (!design.evaluateCell) throw new UsageError(`design ${design.id} names no evaluate cell: it cannot be traced to a trained model`);
  const evaluate = store.getCell(design.evaluateCell);
  if (!evaluate || evaluate.state !== 'done') throw new UsageError(`design ${design.id}: its evaluate cell ${design.evaluateCell.slice(0, 12)} is not in the store (garbage-collected?)`);
  const dataset = upstream(store, evaluate, 'dataset');
  if (design.kind === 'split') {
    const model = upstream(store, evaluate, 'model');
    if (!model?.dir) throw new UsageError(`design ${design.id}: the retrained model of evaluate cell ${evaluate.id.slice(0, 12)} is not in the store`);
    if (!PRECISIONS.includes(design.precision as Precision)) throw new UsageError(`design ${design.id}: unknown payload precision ${design.precision}`);
    return { kind: 'split', precision: design.precision as Precision, design, model, evaluate, dataset, origin };
  }
  // Local and remote computing run the base network whole, on one side.
  const base = upstream(store, evaluate, 'base');
  if (!base?.dir) throw new UsageError(`design ${design.id}: the base network of evaluate cell ${evaluate.id.slice(0, 12)} is not in the store`);
  return { kind: design.kind, precision: 'fp32', design, model: base, evaluate, dataset, origin };
}

/** The recommended design of the pipeline's one application. */
function recommended(store: Store, pipeline: string): ExportTarget {
  const recs = doneCells(store, pipeline, 'recommend');
  const designs = allDesigns(store, pipeline);
  if (recs.length === 0) {
    throw new UsageError(`pipeline '${pipeline}' has no finished recommend cell: give --design ID or --cell ID` +
      (designs.length ? `\nsimulated designs:\n${listDesigns(designs)}` : ''));
  }
  const chosen = recs.map((r) => ({ cell: r, design: (r.metrics as { chosen?: Design | null }).chosen ?? null }));
  const some = chosen.filter((c) => c.design !== null);
  if (some.length === 0) {
    throw new UsageError(`the recommendation of '${pipeline}' found no feasible design: give --design ID (or --cell ID)\nsimulated designs:\n${listDesigns(designs)}`);
  }
  if (some.length > 1) {
    throw new UsageError(`pipeline '${pipeline}' has ${some.length} applications, each with its recommendation: give --design ID or --cell ID\n` +
      some.map((c) => `  ${c.design!.id}  (${formatCoords(c.cell.coords, 80) || 'no coordinates'}; evaluate cell ${c.design!.evaluateCell?.slice(0, 12) ?? '?'})`).join('\n'));
  }
  return fromDesign(store, some[0]!.design!, `the recommended design ${some[0]!.design!.id}`);
}

function byDesignId(store: Store, pipeline: string, id: string): ExportTarget {
  const designs = allDesigns(store, pipeline);
  const matches = designs.filter((d) => d.id === id);
  if (matches.length === 0) {
    throw new UsageError(`no design '${id}' in pipeline '${pipeline}'` + (designs.length ? `; valid designs:\n${listDesigns(designs)}` : ' (no finished simulate cell)'));
  }
  const cells = [...new Set(matches.map((d) => d.evaluateCell))];
  if (cells.length > 1) {
    throw new UsageError(`design '${id}' exists in ${cells.length} applications (evaluate cells ${cells.map((c) => c?.slice(0, 12)).join(', ')}): give --cell with one of them`);
  }
  return fromDesign(store, matches[0]!, `design ${id}`);
}

function byCell(store: Store, pipeline: string, id: string, precision: Precision | undefined): ExportTarget {
  const valid = store.listCells({ pipeline }).filter((c) => c.state === 'done' && ['split-retrain', 'evaluate', 'train-base'].includes(c.stage));
  const fail = (why: string) => new UsageError(`${why}; cells that can be exported:\n${listCells(valid) || '  (none: run the pipeline first)'}`);
  let cell: CellRecord | undefined;
  try {
    cell = /^[0-9a-f]{4,64}$/i.test(id) ? store.getCell(id) : undefined;
  } catch (e) {
    throw fail((e as Error).message);
  }
  if (!cell || !valid.some((v) => v.id === cell!.id)) throw fail(`no finished split-retrain, evaluate or train-base cell '${id}' in pipeline '${pipeline}'`);
  const origin = `cell ${cell.id.slice(0, 12)} (${cell.stage}${Object.keys(cell.coords).length ? `, ${formatCoords(cell.coords, 80)}` : ''})`;
  if (cell.stage === 'train-base') {
    return { kind: 'local', precision: 'fp32', model: cell, dataset: upstream(store, cell, 'dataset'), origin };
  }
  let model = cell;
  let evaluate: CellRecord | undefined;
  if (cell.stage === 'evaluate') {
    evaluate = cell;
    const m = upstream(store, cell, 'model');
    if (!m?.dir) throw fail(`the retrained model of evaluate cell ${cell.id.slice(0, 12)} is not in the store`);
    model = m;
  } else {
    evaluate = doneCells(store, pipeline, 'evaluate').find((e) => store.getCell(e.id)?.inputs.model?.cellIds.includes(cell!.id));
  }
  return { kind: 'split', precision: precision ?? 'fp32', model, evaluate, dataset: upstream(store, model, 'dataset'), origin };
}

export interface TargetRequest {
  design?: string;
  cell?: string;
  /** Payload precision for a --cell target (a design carries its own). */
  precision?: Precision;
}

export function resolveTarget(store: Store, pipeline: string, req: TargetRequest): ExportTarget {
  if (req.design !== undefined && req.cell !== undefined) throw new UsageError('give --design or --cell, not both');
  if (req.precision !== undefined && req.design !== undefined) throw new UsageError('--precision applies to --cell; a design carries its own precision');
  if (req.design !== undefined) return byDesignId(store, pipeline, req.design);
  if (req.cell !== undefined) return byCell(store, pipeline, req.cell, req.precision);
  if (req.precision !== undefined) throw new UsageError('--precision applies to --cell; the recommended design carries its own precision');
  return recommended(store, pipeline);
}
