// The train-base stage's work: build (or load) the base network, train it, record its accuracy.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageContext, StageOutput } from '../types.js';
import { singleInput } from '../metrics.js';
import type { TrainBaseParams } from './params.js';
import type { TrainBaseMetrics } from './metrics.js';
import type { PreparedDataset } from '../../data/prepared-types.js';

/** The dataset sizes a model spec is resolved against. */
export function shapeOf(data: PreparedDataset) {
  return { classes: data.classes.length, height: data.height, width: data.width, channels: data.channels };
}

export async function runTrainBase(ctx: StageContext<TrainBaseParams>): Promise<StageOutput<TrainBaseMetrics>> {
  const { initBackend } = await import('../../ml/backend.js');
  const { backendRequest } = await import('../../ml/backend-names.js');
  const { resolveModelSpec } = await import('../../ml/models/index.js');
  const { createNetwork, saveNetwork } = await import('../../ml/io.js');
  const { networkParts } = await import('../../ml/split.js');
  const { withTrainingDefaults } = await import('../../ml/spec.js');
  const { trainModel, evaluateSource, imageSource } = await import('../../ml/train/index.js');
  const { openPrepared } = await import('../../data/prepared.js');
  const backend = await initBackend(backendRequest(ctx.settings.backend), ctx.log);
  ctx.setProvenance({ backend: backend.name });
  const data = openPrepared(singleInput(ctx.inputs, 'dataset').dir);
  const training = withTrainingDefaults(ctx.params.training);
  const { pretrainedPath } = await import('./params.js');
  const spec = resolveModelSpec({ ...ctx.params.model, pretrained: pretrainedPath(ctx.params) }, shapeOf(data));
  // Seeded initialisation, then the user's pretrained weights when model.pretrained names a file.
  const { network: net, pretrained } = await createNetwork(spec, training.seed, { log: ctx.log });
  try {
    const geometry = { height: data.height, width: data.width, channels: data.channels };
    const started = Date.now();
    const { fitTraining } = await import('../../ml/cost-model.js');
    const fitted = fitTraining(backend.name, spec, training, undefined, ctx.log);
    const result = await trainModel({
      parts: networkParts(net),
      memoryContext: { model: spec.arch, resolution: `${spec.height}×${spec.width}` },
      data: { train: data.splits.train, val: data.splits.val, geometry, classes: data.classes.length },
      normalize: spec.normalize,
      training: fitted,
      onProgress: (e) => ctx.progress(e),
      log: ctx.log,
      signal: ctx.signal,
      ...(ctx.checkpointDir !== undefined ? { checkpointDir: ctx.checkpointDir } : {}),
    });
    const trainSeconds = (Date.now() - started) / 1000;
    const test = await evaluateSource(imageSource(data.splits.test, geometry, spec.normalize), data.splits.test,
      (x) => net.model.apply(x, { training: false }) as import('@tensorflow/tfjs').Tensor,
      { classes: data.classes.length, batchSize: 64, signal: ctx.signal, onBatch: (done, total) => ctx.progress({ phase: 'test', batch: done, batches: total }) });
    const metrics = {
      arch: spec.arch,
      widthMultiplier: spec.widthMultiplier,
      inputShape: [spec.height, spec.width, spec.inputChannels],
      classes: data.classes,
      cutPoints: net.cutPoints,
      testAccuracy: test.accuracy,
      balancedAccuracy: test.balancedAccuracy,
      perClassAccuracy: test.perClassAccuracy,
      valAccuracy: result.valAccuracy,
      epochs: result.epochsRun,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      history: result.history.map((h) => ({ epoch: h.epoch, loss: h.loss, accuracy: h.accuracy, valAccuracy: h.valAccuracy, valLoss: h.valLoss })),
      params: net.model.countParams(),
      trainSeconds,
      pretrained: pretrained ? { path: spec.pretrained, mapping: pretrained.mapping, loaded: pretrained.loaded.length, keptFresh: pretrained.skipped } : null,
    };
    await saveNetwork(ctx.outDir, net, { testAccuracy: test.accuracy });
    await writeFile(join(ctx.outDir, 'history.json'), JSON.stringify(result.history, null, 2));
    ctx.log(`base ${spec.arch}×${spec.widthMultiplier}: test accuracy ${test.accuracy.toFixed(4)} after ${result.epochsRun} epochs (${trainSeconds.toFixed(1)} s)`);
    return { metrics };
  } finally {
    net.dispose();
    data.close();
  }
}
