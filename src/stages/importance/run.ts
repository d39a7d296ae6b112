// The importance stage's work: score the base network's 18 cut points on a fixed set of images.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageContext, StageOutput } from '../types.js';
import { singleInput } from '../metrics.js';
import type { ImportanceParams } from './params.js';
import type { ImportanceMetrics } from './metrics.js';
import { ImportanceAccumulator, argMax, cdeCandidates, importanceOfBatch, log10Curve, candidatesOf } from '../../science/index.js';

export async function runImportance(ctx: StageContext<ImportanceParams>): Promise<StageOutput<ImportanceMetrics>> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../../ml/backend.js');
  const { backendRequest } = await import('../../ml/backend-names.js');
  const { imageBatch } = await import('../../ml/feed.js');
  const { openPrepared } = await import('../../data/prepared.js');
  const { loadNetwork } = await import('../../ml/io.js');
  const backend = await initBackend(backendRequest(ctx.settings.backend), ctx.log);
  ctx.setProvenance({ backend: backend.name });
  const p = ctx.params;
  const data = openPrepared(singleInput(ctx.inputs, 'dataset').dir);
  const { network: net } = await loadNetwork(singleInput(ctx.inputs, 'base').dir);
  try {
    const split = data.splits[p.split];
    if (!split) throw new Error(`importance: the dataset has no '${p.split}' split (set importance.split to train or test)`);
    const classIndex = (p.classes ?? data.classes).map((name) => {
      const k = data.classes.indexOf(name);
      if (k < 0) throw new Error(`importance.classes: unknown class '${name}'; the dataset's classes: ${data.classes.join(', ')}`);
      return k;
    });
    // The first `imagesPerClass` images of each scored class, in split order: deterministic.
    const taken = new Map(classIndex.map((k) => [k, 0]));
    const chosen: number[] = [];
    for (let i = 0; i < split.count; i++) {
      const k = split.labels[i]!;
      const n = taken.get(k);
      if (n !== undefined && (p.imagesPerClass === 'all' || n < p.imagesPerClass)) { chosen.push(i); taken.set(k, n + 1); }
    }
    const short = classIndex.filter((k) => taken.get(k)! === 0);
    if (short.length) throw new Error(`importance: no ${p.split} images of class ${short.map((k) => data.classes[k]).join(', ')}`);
    const cutPoints = net.cutPoints;
    const acc = new ImportanceAccumulator(cutPoints.length, data.classes.length);
    const geometry = { height: data.height, width: data.width, channels: data.channels };
    // Images and the perturbations at the cuts are rank 4 (NHWC) here.
    const forward: import('../../science/cui.js').TappedForward = (x, taps) =>
      net.forwardWithCuts(x as import('@tensorflow/tfjs').Tensor4D, { training: false, perturb: taps as import('@tensorflow/tfjs').Tensor4D[] | undefined, readPoint: p.readPoint });
    let agree = 0;
    // On the wasm heap a full-size network at 224 px cannot take a large batch through the
    // gradient pass: split it (values per image are unchanged) and say so.
    const { largestScoringBatch } = await import('../../ml/cost-model.js');
    const spec = net.spec;
    const batchSize = backend.name === 'wasm'
      ? Math.min(p.batchSize, largestScoringBatch(spec, p.batchSize))
      : p.batchSize;
    if (batchSize < p.batchSize) ctx.log(`importance: batches of ${batchSize} images instead of ${p.batchSize}: a larger one does not fit the wasm heap (the values do not depend on it)`);
    const { setMemoryContext } = await import('../../ml/heap.js');
    const restoreContext = setMemoryContext({
      activity: 'scoring the importance of', batchSetting: 'importance batchSize', model: spec.arch,
      resolution: `${spec.height}×${spec.width}`, batch: batchSize,
    });
    try {
      const { scoreInBatches } = await import('./batches.js');
      await scoreInBatches(chosen, batchSize, {
        log: (m) => ctx.log(m),
        score: async (indices, done, total) => {
          if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
          const labels = Int32Array.from(indices, (i) => split.labels[i]!);
          const x = imageBatch(split, indices, geometry, net.spec.normalize);
          let result: ReturnType<typeof importanceOfBatch>;
          try {
            result = importanceOfBatch(tf, forward, x, labels, p.target);
          } finally {
            x.dispose();
          }
          acc.add(result.values, labels);
          for (let i = 0; i < labels.length; i++) if (result.predicted[i] === labels[i]) agree++;
          ctx.progress({ phase: 'importance', batch: Math.ceil((done + indices.length) / batchSize), batches: Math.ceil(total / batchSize) });
          await new Promise((r) => setImmediate(r));
        },
      });
    } finally {
      restoreContext();
    }
    const cui = acc.overall();
    const log10Cui = log10Curve(cui);
    const cdeBytes = cutPoints.map((c) => net.cutShape(c).reduce((a, v) => a * v, 1) * 4);
    const curve = (values: number[]) => {
      const logs = log10Curve(values);
      return { candidates: candidatesOf(logs, p.candidates).map((i) => cutPoints[i]!), best: cutPoints[argMax(logs)]! };
    };
    const perClass = acc.perClass().flatMap((values, k) => (values ? [{ class: data.classes[k]!, cui: values, ...curve(values) }] : []));
    const metrics = {
      cutPoints,
      cui,
      log10Cui,
      ...curve(cui),
      cdeBytes,
      cdeCandidates: cdeCandidates(cdeBytes).map((i) => cutPoints[i]!),
      target: p.target,
      imagesPerClass: p.imagesPerClass,
      readPoint: p.readPoint,
      candidateRule: p.candidates,
      images: acc.images,
      split: p.split,
      /** Share of scored images the base network classifies correctly. */
      scoredAccuracy: agree / acc.images,
      perClass,
    };
    await writeFile(join(ctx.outDir, 'importance.json'), JSON.stringify(metrics, null, 2));
    ctx.log(`importance: best ${metrics.best}, candidates ${metrics.candidates.join(', ') || 'none'}; CDE candidates ${metrics.cdeCandidates.join(', ')}`);
    return { metrics };
  } finally {
    net.dispose();
    data.close();
  }
}
