// The evaluate stage's work: run a retrained split model on the test split — through the wire at
// each precision — and measure what a deployment needs to know about each side.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { StageContext, StageOutput } from '../types.js';
import { singleInput } from '../metrics.js';
import type { EvaluateParams } from './params.js';
import type { EvaluateMetrics } from './metrics.js';
import { CORRECTNESS_FILE } from '../validate/index.js';

export async function runEvaluate(ctx: StageContext<EvaluateParams>): Promise<StageOutput<EvaluateMetrics>> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../../ml/backend.js');
  const { backendRequest } = await import('../../ml/backend-names.js');
  const { imageBatch } = await import('../../ml/feed.js');
  const { loadSplit } = await import('../../ml/io.js');
  const { accountSplit, quantizeDequantize, PRECISIONS } = await import('../../ml/accounting.js');
  const { profileSplit } = await import('../../ml/profile.js');
  const { classificationMetrics } = await import('../../ml/train/index.js');
  const { openPrepared } = await import('../../data/prepared.js');
  type Precision = (typeof PRECISIONS)[number];
  const backend = await initBackend(backendRequest(ctx.settings.backend), ctx.log);
  ctx.setProvenance({ backend: backend.name });
  const p = ctx.params;
  const data = openPrepared(singleInput(ctx.inputs, 'dataset').dir);
  const baseCell = singleInput(ctx.inputs, 'base');
  const { split } = await loadSplit(singleInput(ctx.inputs, 'model').dir);
  try {
    const test = data.splits.test;
    const geometry = { height: data.height, width: data.width, channels: data.channels };
    const predictions = Object.fromEntries(PRECISIONS.map((q) => [q, new Int32Array(test.count)])) as Record<Precision, Int32Array>;
    const batches = Math.ceil(test.count / p.batchSize);
    for (let b = 0; b < batches; b++) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
      const start = b * p.batchSize;
      const indices = Int32Array.from({ length: Math.min(p.batchSize, test.count - start) }, (_, i) => start + i);
      tf.tidy(() => {
        const x = imageBatch(test, indices, geometry, split.network.spec.normalize);
        // The device runs once; each precision is what the server would receive.
        const code = split.device.apply(x, { training: false }) as tfTypes.Tensor;
        for (const q of PRECISIONS) {
          const logits = split.server.apply(quantizeDequantize(code, q), { training: false }) as tfTypes.Tensor;
          predictions[q].set(tf.argMax(logits, 1).dataSync() as Int32Array, start);
        }
      });
      ctx.progress({ phase: 'test', batch: b + 1, batches });
      await new Promise((r) => setImmediate(r));
    }
    const labels = test.labels;
    const classes = data.classes.length;
    const fp32 = classificationMetrics(labels, predictions.fp32, classes);
    const quantizedAccuracy = Object.fromEntries(PRECISIONS.map((q) => [q, classificationMetrics(labels, predictions[q], classes).accuracy])) as Record<Precision, number>;
    // Per-image correctness: what validate's bootstrap resamples.
    await writeFile(join(ctx.outDir, CORRECTNESS_FILE), Uint8Array.from(labels, (l, i) => (predictions.fp32[i] === l ? 1 : 0)));
    await writeFile(join(ctx.outDir, 'predictions.json'), JSON.stringify({ labels: Array.from(labels), ...Object.fromEntries(PRECISIONS.map((q) => [q, Array.from(predictions[q])])) }));
    const cost = accountSplit(split);
    ctx.progress({ phase: 'profile', message: 'timing device and server at batch 1' });
    const times = await profileSplit(split, { warmup: p.timing.warmup, runs: p.timing.repeats, signal: ctx.signal });
    const metrics = {
      cut: split.cut,
      accuracy: fp32.accuracy,
      balancedAccuracy: fp32.balancedAccuracy,
      perClassAccuracy: fp32.perClassAccuracy,
      testImages: test.count,
      baseAccuracy: (baseCell.metrics as { testAccuracy?: number }).testAccuracy ?? null,
      cutShape: cost.cutShape,
      codeShape: cost.codeShape,
      payload: cost.payload,
      quantizedAccuracy,
      device: { ...cost.device, timeMs: times.device },
      server: { ...cost.server, timeMs: times.server },
      network: { ...cost.network, timeMs: times.local },
    };
    ctx.log(`evaluate ${split.cut}: accuracy ${fp32.accuracy.toFixed(4)} (fp16 ${quantizedAccuracy.fp16.toFixed(4)}, int8 ${quantizedAccuracy.int8.toFixed(4)}); ` +
      `payload ${cost.payload.bytes.bottleneck.fp32} B fp32; device ${times.device.p50.toFixed(2)} ms, server ${times.server.p50.toFixed(2)} ms`);
    return { metrics };
  } finally {
    split.dispose();
    split.network.dispose();
    data.close();
  }
}
