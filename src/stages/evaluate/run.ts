// The evaluate stage's work: run a retrained split model on the test split — through the wire at
// each precision — and measure what a deployment needs to know about each side.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { StageContext, StageOutput, UpstreamOutput } from '../types.js';
import type { EvaluateParams } from './index.js';
import { PRECISIONS, payloadBytes, roundTrip, type Precision } from './quantize.js';
import { CORRECTNESS_FILE } from '../validate/index.js';

export async function runEvaluate(ctx: StageContext<EvaluateParams>): Promise<StageOutput> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../../ml/backend.js');
  const { imageBatch } = await import('../../ml/feed.js');
  const { classificationMetrics } = await import('../../ml/train/index.js');
  const { openPrepared } = await import('../../data/prepared.js');
  const { loadSplit } = await import('../split-retrain/run.js');
  const { sideAccounting } = await import('./accounting.js');
  const backend = await initBackend((ctx.settings.backend as never) ?? 'auto', ctx.log);
  ctx.setProvenance({ backend: backend.name });
  const p = ctx.params;
  const data = openPrepared((ctx.inputs.dataset as UpstreamOutput).dir);
  const modelCell = ctx.inputs.model as UpstreamOutput;
  const baseCell = ctx.inputs.base as UpstreamOutput;
  const loaded = await loadSplit(modelCell, data);
  const { split } = loaded;
  try {
    const test = data.splits.test;
    const geometry = { height: data.height, width: data.width, channels: data.channels };
    const normalize = split.network.spec.normalize;
    const codeElements = split.codeShape.reduce((a, v) => a * v, 1);
    const rawElements = split.cutShape.reduce((a, v) => a * v, 1);
    const predictions: Record<Precision, Int32Array> = { fp32: new Int32Array(test.count), fp16: new Int32Array(test.count), int8: new Int32Array(test.count) };
    const batches = Math.ceil(test.count / p.batchSize);
    for (let b = 0; b < batches; b++) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
      const start = b * p.batchSize;
      const indices = Int32Array.from({ length: Math.min(p.batchSize, test.count - start) }, (_, i) => start + i);
      const x = imageBatch(test, indices, geometry, normalize);
      const code = tf.tidy(() => split.device.apply(x, { training: false }) as tfTypes.Tensor);
      const codeValues = code.dataSync() as Float32Array;
      for (const precision of PRECISIONS) {
        const sent = roundTrip(Float32Array.from(codeValues), codeElements, precision);
        const predicted = tf.tidy(() => tf.argMax(split.server.apply(tf.tensor(sent, code.shape), { training: false }) as tfTypes.Tensor, 1));
        predictions[precision].set(predicted.dataSync() as Int32Array, start);
        predicted.dispose();
      }
      tf.dispose([x, code]);
      ctx.progress({ phase: 'test', batch: b + 1, batches });
      await new Promise((r) => setImmediate(r));
    }
    const labels = test.labels;
    const classes = data.classes.length;
    const fp32 = classificationMetrics(labels, predictions.fp32, classes);
    const quantizedAccuracy = Object.fromEntries(PRECISIONS.map((q) => [q, classificationMetrics(labels, predictions[q], classes).accuracy])) as Record<Precision, number>;
    const correct = Uint8Array.from(labels, (l, i) => (predictions.fp32[i] === l ? 1 : 0));
    await writeFile(join(ctx.outDir, CORRECTNESS_FILE), correct);
    await writeFile(join(ctx.outDir, 'predictions.json'), JSON.stringify({ labels: Array.from(labels), ...Object.fromEntries(PRECISIONS.map((q) => [q, Array.from(predictions[q])])) }));
    ctx.progress({ phase: 'profile', message: 'timing device and server at batch 1' });
    const sides = await sideAccounting(tf, split, { warmup: p.timing.warmup, repeats: p.timing.repeats });
    const bytes = (n: number) => Object.fromEntries(PRECISIONS.map((q) => [q, payloadBytes(n, q)])) as Record<Precision, number>;
    const metrics = {
      cut: split.cut,
      accuracy: fp32.accuracy,
      balancedAccuracy: fp32.balancedAccuracy,
      perClassAccuracy: fp32.perClassAccuracy,
      testImages: test.count,
      baseAccuracy: (baseCell.metrics as { testAccuracy?: number }).testAccuracy ?? null,
      payload: { rawElements, bottleneckElements: codeElements, cutShape: split.cutShape, codeShape: split.codeShape,
        bytes: { raw: bytes(rawElements), bottleneck: bytes(codeElements) } },
      quantizedAccuracy,
      device: sides.device,
      server: sides.server,
    };
    ctx.log(`evaluate ${split.cut}: accuracy ${fp32.accuracy.toFixed(4)} (fp16 ${quantizedAccuracy.fp16.toFixed(4)}, int8 ${quantizedAccuracy.int8.toFixed(4)}); ` +
      `payload ${codeElements * 4} B fp32; device ${sides.device.timeMs.p50.toFixed(2)} ms, server ${sides.server.timeMs.p50.toFixed(2)} ms`);
    return { metrics };
  } finally {
    loaded.dispose();
    data.close();
  }
}
