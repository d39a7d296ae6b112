// `sei plan --estimate`: per training instance and in total, the FLOPs, the peak memory and the
// expected time on this machine (its training rate measured by a short step, or given) and on a
// device profile such as server-gpu. Counted per 1,000 training images and epoch, since how many
// images a cell trains on is known only once its dataset is prepared.
import type { Plan } from '../pipeline/types.js';
import type { CellCost } from './cell-cost.js';
import { gib, networkCost, TRAIN_FLOPS_FACTOR } from '../ml/cost-model.js';

export interface Rate { gflops: number; source: string }

export interface InstanceEstimate {
  instance: string;
  stage: string;
  cells: number;
  network: string;
  batch: string;
  /** Mean over the instance's cells of the FLOPs of one training image in one epoch. */
  trainGflopPerImage: number;
  /** FLOPs of all the instance's cells, for 1,000 training images per cell and every epoch. */
  flops: number;
  peakBytes: number;
}

export const IMAGES_BASIS = 1000;

export function estimateInstances(costs: CellCost[]): InstanceEstimate[] {
  const by = new Map<string, InstanceEstimate>();
  for (const c of costs) {
    let e = by.get(c.cell.instance);
    const s = c.shape;
    if (!e) {
      e = {
        instance: c.cell.instance, stage: c.cell.stage, cells: 0,
        network: `${s.arch} ×${s.widthMultiplier} ${s.height}×${s.width}`,
        batch: c.microBatch < c.batch ? `${c.batch} (micro ${c.microBatch}${c.microBatchChosen ? ', chosen' : ''})` : `${c.batch}`,
        trainGflopPerImage: 0, flops: 0, peakBytes: 0,
      };
      by.set(c.cell.instance, e);
    }
    e.cells++;
    e.flops += c.trainFlopsPerImage * IMAGES_BASIS * c.epochs;
    e.peakBytes = Math.max(e.peakBytes, c.memory.totalBytes);
    e.trainGflopPerImage += (c.trainFlopsPerImage / 1e9 - e.trainGflopPerImage) / e.cells;
  }
  return [...by.values()];
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

export function formatEstimate(plan: Plan, costs: CellCost[], here: Rate, profile: { name: string; rate: Rate }, wasm: boolean): string {
  const rows = estimateInstances(costs);
  const lines = [`Cost estimate of ${plan.pipeline.name} (training stages; per ${IMAGES_BASIS.toLocaleString('en')} training images per cell and epoch):`,
    `  memory bound: ${wasm ? 'the wasm heap, 4 GiB (3.40 GiB usable)' : 'none checked (native backend)'}`,
    `  this machine: ${here.gflops.toFixed(1)} GFLOP/s (${here.source})`,
    `  ${profile.name}: ${profile.rate.gflops.toFixed(0)} GFLOP/s (${profile.rate.source})`,
    ''];
  const header = ['instance', 'stage', 'cells', 'network', 'batch', 'GFLOP/img/epoch', 'peak memory', 'PFLOP', 'this machine', profile.name];
  const table = rows.map((r) => [r.instance, r.stage, String(r.cells), r.network, r.batch, r.trainGflopPerImage.toFixed(1), gib(r.peakBytes),
    (r.flops / 1e15).toFixed(3), duration(r.flops / (here.gflops * 1e9)), duration(r.flops / (profile.rate.gflops * 1e9))]);
  const total = rows.reduce((a, r) => a + r.flops, 0);
  const peak = rows.reduce((a, r) => Math.max(a, r.peakBytes), 0);
  table.push(['total', '', String(rows.reduce((a, r) => a + r.cells, 0)), '', '', '', gib(peak), (total / 1e15).toFixed(3),
    duration(total / (here.gflops * 1e9)), duration(total / (profile.rate.gflops * 1e9))]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => '  ' + r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  lines.push(fmt(header), ...table.map(fmt));
  lines.push('', '  Inference stages (importance, evaluate) cost about a third of a training epoch per image they see.');
  return lines.join('\n');
}

/**
 * This machine's training rate: a short measured training step (after a warm-up one) of the
 * plan's first training architecture at width 0.25 and 112×112, on the active backend, by
 * process CPU time. Smaller layers run less efficiently than full-size ones, so the estimate errs long.
 */
export async function measureRate(arch: 'vgg16' | 'resnet50'): Promise<Rate> {
  const { measureSteps } = await import('../ml/full-size.js');
  const shape = { arch, input: 112, width: 0.25, classes: 10, batch: 4, microBatch: 4 };
  const m = measureSteps(shape, 1);
  const flops = TRAIN_FLOPS_FACTOR * networkCost({ arch, height: 112, width: 112, inputChannels: 3, classes: 10, widthMultiplier: 0.25 }).forwardFlops;
  // By process CPU time: what the step costs this machine when nothing else competes for its cores.
  return { gflops: (flops * m.trainCpuImagesPerSecond) / 1e9, source: `measured by CPU time: a training step of ${arch} ×0.25 at 112×112, batch 4` };
}
