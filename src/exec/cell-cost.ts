// What each training cell of a plan costs (src/ml/cost-model.ts): FLOPs per image, peak memory at
// its micro-batch, and whether it fits the backend. `sei run` and `sei plan` refuse a plan with a
// cell that cannot fit, with the numbers, before anything starts; `sei plan --estimate` prints it.
import { createRequire } from 'node:module';
import type { Plan, PlannedCell } from '../pipeline/types.js';
import {
  TRAIN_FLOPS_FACTOR, WASM_HEAP_BYTES, WASM_HEAP_USABLE, describeMemory, gib, largestMicroBatch, networkCost, trainingMemory,
  type NetworkShape, type TrainingMemory,
} from '../ml/cost-model.js';
import type { ModelSpec, TrainingSpec } from '../ml/spec.js';

export const TRAINING_STAGES = ['train-base', 'split-retrain'];

/** Classes assumed when the dataset decides them (only the last layer depends on it). */
const ASSUMED_CLASSES = 1000;

export interface CellCost {
  cell: PlannedCell;
  shape: NetworkShape;
  params: number;
  /** FLOPs of one training image (forward and backward). */
  trainFlopsPerImage: number;
  /** Training images this cost is counted for: epochs × the cell's cap on batches, or per 1,000 images. */
  epochs: number;
  batch: number;
  /** The micro-batch the cell will use (set, or chosen to fit the heap). */
  microBatch: number;
  microBatchChosen: boolean;
  memory: TrainingMemory;
  /** The memory limit the cell runs under (undefined: not bounded by the wasm heap). */
  limitBytes?: number;
  fits: boolean;
}

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether training cells will run on the wasm backend (bounded by the 4 GiB heap): asked for, or
 * `auto` (the default) on a machine without native TensorFlow installed.
 */
export function runsOnWasm(settings: Record<string, unknown>): boolean {
  const b = (settings.backend as string | undefined) ?? 'auto';
  if (b === 'wasm') return true;
  if (b !== 'auto') return false;
  return !installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu');
}

function resolutionOf(plan: Plan, cell: PlannedCell, model: ModelSpec): [number, number] {
  const size = model.inputSize;
  if (typeof size === 'number') return [size, size];
  if (Array.isArray(size)) return [size[0], size[1]];
  const dataId = cell.inputs.dataset?.cellIds[0];
  const data = plan.cells.find((c) => c.id === dataId);
  const res = (data?.params as { dataset?: { resolution?: number | [number, number] } } | undefined)?.dataset?.resolution;
  if (typeof res === 'number') return [res, res];
  if (Array.isArray(res)) return [res[0], res[1]];
  return [224, 224];
}

function channelsOf(plan: Plan, cell: PlannedCell, model: ModelSpec): number {
  if (model.inputChannels !== undefined) return model.inputChannels;
  const dataId = cell.inputs.dataset?.cellIds[0];
  const data = plan.cells.find((c) => c.id === dataId);
  return (data?.params as { dataset?: { channels?: number } } | undefined)?.dataset?.channels ?? 3;
}

/** Parameters that train in a split-retrain cell: the whole network for regime 'all', else few. */
function trainableShare(cell: PlannedCell, params: number): number | undefined {
  if (cell.stage !== 'split-retrain') return undefined;
  const regime = (cell.params as { regime?: string }).regime ?? 'bottleneck';
  // The bottleneck (and classifier) are a small share; counted as 5 % to stay on the safe side.
  return regime === 'all' ? undefined : Math.ceil(params * 0.05);
}

export function cellCost(plan: Plan, cell: PlannedCell, wasm: boolean): CellCost | undefined {
  if (!TRAINING_STAGES.includes(cell.stage)) return undefined;
  const p = cell.params as { model?: ModelSpec; training?: Partial<TrainingSpec> };
  if (!p.model || !p.training) return undefined;
  const [height, width] = resolutionOf(plan, cell, p.model);
  const shape: NetworkShape = {
    arch: p.model.arch, height, width, inputChannels: channelsOf(plan, cell, p.model),
    classes: p.model.classes ?? ASSUMED_CLASSES, widthMultiplier: p.model.width ?? 1,
  };
  const cost = networkCost(shape);
  const t = p.training;
  const batch = t.batchSize ?? 32;
  const step = { optimizer: t.optimizer ?? 'adam', momentum: t.momentum, trainableParams: trainableShare(cell, cost.params), batch } as const;
  const limitBytes = wasm ? WASM_HEAP_BYTES * WASM_HEAP_USABLE : undefined;
  let microBatch = Math.min(t.microBatch ?? batch, batch);
  let chosen = false;
  if (t.microBatch === undefined && limitBytes !== undefined) {
    microBatch = Math.max(1, largestMicroBatch(cost, step, limitBytes));
    chosen = microBatch < batch;
  }
  const memory = trainingMemory(cost, { ...step, microBatch });
  const epochs = t.epochs ?? 10;
  return {
    cell, shape, params: cost.params, trainFlopsPerImage: trainFlopsPerImage(cell, cost, epochs), epochs,
    batch, microBatch, microBatchChosen: chosen, memory, limitBytes,
    fits: limitBytes === undefined || memory.totalBytes <= limitBytes,
  };
}

/**
 * FLOPs per training image and epoch. A split-retrain cell that freezes the head trains only
 * the tail: its forward and backward passes (3 × the tail's forward FLOPs) every epoch, and the
 * head's forward pass once per image (its output is computed once and reused), spread over the
 * epochs. The bottleneck's own FLOPs are small beside either and not counted.
 */
function trainFlopsPerImage(cell: PlannedCell, cost: ReturnType<typeof networkCost>, epochs: number): number {
  const full = TRAIN_FLOPS_FACTOR * cost.forwardFlops;
  if (cell.stage !== 'split-retrain') return full;
  const p = cell.params as { cut?: string; regime?: string; training?: { augment?: { flip?: boolean } } };
  const head = p.cut === undefined ? undefined : cost.flopsAt[p.cut];
  if (p.regime === 'all' || head === undefined) return full;
  const tail = cost.forwardFlops - head;
  // With flip augmentation the head's output changes every epoch and is not cached.
  const headPerEpoch = p.training?.augment?.flip ? head : head / epochs;
  return TRAIN_FLOPS_FACTOR * tail + headPerEpoch;
}

export function planCosts(plan: Plan): CellCost[] {
  const wasm = runsOnWasm(plan.settings);
  return plan.cells.map((c) => cellCost(plan, c, wasm)).filter((c): c is CellCost => c !== undefined);
}

/** Messages for the cells that cannot fit (empty when all fit). */
export function misfits(costs: CellCost[]): string[] {
  return costs.filter((c) => !c.fits).map((c) => {
    const s = c.shape;
    return `${c.cell.instance} ${describeCell(c.cell)}: ${s.arch} ×${s.widthMultiplier} at ${s.height}×${s.width} px, batch ${c.batch}` +
      `${c.microBatch < c.batch ? ` in micro-batches of ${c.microBatch}` : ''} needs ${describeMemory(c.memory)}, ` +
      `more than the ${gib(c.limitBytes!)} usable of the 4 GiB wasm heap. Ways out: a smaller training.microBatch (or unset it to ` +
      `let the planner choose), a lower dataset resolution, a smaller model.width, or backend 'tensorflow'.`;
  });
}

function describeCell(cell: PlannedCell): string {
  const coords = Object.entries(cell.coords);
  return coords.length === 0 ? `(${cell.id.slice(0, 12)})` : `{${coords.map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}}`;
}

