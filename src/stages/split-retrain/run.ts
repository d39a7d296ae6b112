// The split-retrain stage's work: split the base at the cut, inject the bottleneck, retrain.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageContext, StageOutput } from '../types.js';
import { singleInput } from '../metrics.js';
import type { SplitRetrainParams } from './params.js';
import type { SplitRetrainMetrics } from './metrics.js';
import { canonicalJson } from '../../util/hash.js';

export async function runSplitRetrain(ctx: StageContext<SplitRetrainParams>): Promise<StageOutput<SplitRetrainMetrics>> {
  const { initBackend } = await import('../../ml/backend.js');
  const { backendRequest } = await import('../../ml/backend-names.js');
  const { splitModel, splitParts } = await import('../../ml/split.js');
  const { loadNetwork, saveSplit } = await import('../../ml/io.js');
  const { withTrainingDefaults } = await import('../../ml/spec.js');
  const { trainModel } = await import('../../ml/train/index.js');
  const { openPrepared } = await import('../../data/prepared.js');
  const backend = await initBackend(backendRequest(ctx.settings.backend), ctx.log);
  ctx.setProvenance({ backend: backend.name });
  const p = ctx.params;
  const baseCell = singleInput(ctx.inputs, 'base');
  const baseModel = (baseCell.params as { model: Record<string, unknown> }).model;
  const strip = (m: Record<string, unknown>) => canonicalJson({ ...m, pretrained: undefined, pretrainedExclude: undefined });
  if (strip(baseModel) !== strip(p.model as Record<string, unknown>)) {
    throw new Error(`split-retrain.model ${strip(p.model as Record<string, unknown>)} differs from the base's model ${strip(baseModel)}: give both the same spec`);
  }
  const data = openPrepared(singleInput(ctx.inputs, 'dataset').dir);
  const { network: net } = await loadNetwork(baseCell.dir);
  const split = splitModel(net, p.cut, p.bottleneck, { seed: p.seed });
  try {
    const { fitTraining } = await import('../../ml/cost-model.js');
    const trainable = splitParts(split, p.regime).flatMap((part) => part.trainableLayers).reduce((n, l) => n + l.countParams(), 0);
    const training = fitTraining(backend.name, net.spec, withTrainingDefaults({ ...p.training, seed: p.seed }), trainable, ctx.log);
    const result = await trainModel({
      parts: splitParts(split, p.regime),
      memoryContext: { model: `${net.spec.arch} split at ${p.cut}`, resolution: `${net.spec.height}×${net.spec.width}` },
      data: { train: data.splits.train, val: data.splits.val, geometry: { height: data.height, width: data.width, channels: data.channels }, classes: data.classes.length },
      normalize: net.spec.normalize,
      training,
      onProgress: (e) => ctx.progress(e),
      log: ctx.log,
      signal: ctx.signal,
      ...(ctx.checkpointDir !== undefined ? { checkpointDir: ctx.checkpointDir } : {}),
    });
    await saveSplit(ctx.outDir, split, { seed: p.seed, regime: p.regime });
    await writeFile(join(ctx.outDir, 'history.json'), JSON.stringify(result.history, null, 2));
    const metrics = {
      cut: p.cut,
      ratio: p.bottleneck.ratio,
      expansion: p.bottleneck.expansion,
      regime: p.regime,
      seed: p.seed,
      cutShape: split.cutShape,
      codeShape: split.codeShape,
      valAccuracy: result.valAccuracy,
      epochs: result.epochsRun,
      bestEpoch: result.bestEpoch,
      history: result.history.map((h) => ({ epoch: h.epoch, loss: h.loss, accuracy: h.accuracy, valAccuracy: h.valAccuracy, valLoss: h.valLoss })),
      cachedParts: result.cachedParts,
    };
    ctx.log(`split at ${p.cut} (code ${split.codeShape.join('×')}), ${p.regime}: val accuracy ${result.valAccuracy?.toFixed(4) ?? 'n/a'}`);
    return { metrics };
  } finally {
    split.dispose();
    net.dispose();
    data.close();
  }
}
