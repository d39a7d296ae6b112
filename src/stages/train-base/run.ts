// The train-base stage's work: build (or load) the base network, train it, record its accuracy.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageContext, StageOutput, UpstreamOutput } from '../types.js';
import type { TrainBaseParams } from './index.js';
import { networkLayers, saveLayerWeights, shapeOf } from './model-io.js';

export async function runTrainBase(ctx: StageContext<TrainBaseParams>): Promise<StageOutput> {
  const { initBackend } = await import('../../ml/backend.js');
  const { buildNetwork, resolveModelSpec } = await import('../../ml/models/index.js');
  const { networkParts } = await import('../../ml/split.js');
  const { withTrainingDefaults } = await import('../../ml/spec.js');
  const { trainModel, evaluateSource, imageSource } = await import('../../ml/train/index.js');
  const { openPrepared } = await import('../../data/prepared.js');
  const backend = await initBackend((ctx.settings.backend as never) ?? 'auto', ctx.log);
  ctx.setProvenance({ backend: backend.name });
  const data = openPrepared((ctx.inputs.dataset as UpstreamOutput).dir);
  const training = withTrainingDefaults(ctx.params.training);
  const spec = resolveModelSpec(ctx.params.model, shapeOf(data));
  const net = buildNetwork(spec, training.seed);
  try {
    if (spec.pretrained) {
      const { pretrainedPath } = await import('./index.js');
      const io = (await import('../../ml/io.js' as string).catch(() => undefined)) as
        | { loadPretrained?: (net: unknown, path: string, exclude?: string[]) => Promise<unknown> } | undefined;
      if (!io?.loadPretrained) throw new Error('model.pretrained: loading pretrained weights is not available in this build');
      await io.loadPretrained(net, pretrainedPath(ctx.params)!, spec.pretrainedExclude);
      ctx.log(`loaded pretrained weights from ${spec.pretrained}`);
    }
    const geometry = { height: data.height, width: data.width, channels: data.channels };
    const started = Date.now();
    const result = await trainModel({
      parts: networkParts(net),
      data: { train: data.splits.train, val: data.splits.val, geometry, classes: data.classes.length },
      normalize: spec.normalize,
      training,
      onProgress: (e) => ctx.progress(e),
      log: ctx.log,
      signal: ctx.signal,
    });
    const trainSeconds = (Date.now() - started) / 1000;
    const test = await evaluateSource(imageSource(data.splits.test, geometry, spec.normalize), data.splits.test,
      (x) => net.model.apply(x, { training: false }) as import('@tensorflow/tfjs').Tensor,
      { classes: data.classes.length, batchSize: 64, signal: ctx.signal, onBatch: (done, total) => ctx.progress({ phase: 'test', batch: done, batches: total }) });
    const saved = await saveLayerWeights(networkLayers(net), ctx.outDir);
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
      weightBytes: saved.bytes,
      trainSeconds,
      pretrained: spec.pretrained ?? null,
    };
    await writeFile(join(ctx.outDir, 'history.json'), JSON.stringify(result.history, null, 2));
    ctx.log(`base ${spec.arch}×${spec.widthMultiplier}: test accuracy ${test.accuracy.toFixed(4)} after ${result.epochsRun} epochs (${trainSeconds.toFixed(1)} s)`);
    return { metrics };
  } finally {
    net.dispose();
    data.close();
  }
}
