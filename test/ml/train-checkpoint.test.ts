// Per-epoch checkpoints: training stopped after an epoch and started again from its checkpoint
// ends with exactly the weights of an uninterrupted run (what a requeued cluster job relies on).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { PreparedSplit } from '../../src/data/prepared-types.js';
import { initBackend } from '../../src/ml/backend.js';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { networkParts } from '../../src/ml/split.js';
import { withTrainingDefaults, type TrainingSpec } from '../../src/ml/spec.js';
import { trainModel } from '../../src/ml/train/index.js';

const S = 16;
const CLASSES = 3;

/** Class c: a bright patch in a class-specific corner, on seeded noise. */
function split(count: number, seed: number): PreparedSplit {
  let s = seed + 7;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const imgs = new Uint8Array(count * S * S * 3);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const c = n % CLASSES;
    labels[n] = c;
    const [oy, ox] = [[0, 0], [0, 8], [8, 4]][c]!;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let ch = 0; ch < 3; ch++) {
      const inside = y >= oy! && y < oy! + 8 && x >= ox! && x < ox! + 8;
      imgs[((n * S + y) * S + x) * 3 + ch] = inside ? 180 + Math.floor(rnd() * 70) : Math.floor(rnd() * 90);
    }
  }
  return {
    count, labels,
    readImages(indices) {
      const out = new Uint8Array(indices.length * S * S * 3);
      for (let i = 0; i < indices.length; i++) out.set(imgs.subarray(indices[i]! * S * S * 3, (indices[i]! + 1) * S * S * 3), i * S * S * 3);
      return out;
    },
  };
}

const data = { train: split(36, 1), val: split(12, 2), geometry: { height: S, width: S, channels: 3 }, classes: CLASSES };
const spec = () => resolveModelSpec({ arch: 'resnet50', inputSize: S, inputChannels: 3, classes: CLASSES, width: 1 / 16 });
const weightsOf = (net: ReturnType<typeof buildNetwork>) => net.model.layers.flatMap((l) => l.getWeights().map((w) => Array.from(w.dataSync())));

describe('ml/train checkpoints', function () {
  this.timeout(180_000);
  let previous = '';
  before(async () => {
    previous = tf.getBackend();
    try { await initBackend('wasm'); } catch { await tf.setBackend('cpu'); }
  });
  after(async () => { if (previous) await tf.setBackend(previous); });

  for (const t of [
    { name: 'Adam, early stopping state', training: { optimizer: 'adam', epochs: 4, earlyStopping: { patience: 3, metric: 'valLoss' } } },
    { name: 'SGD momentum, flips, step schedule', training: { optimizer: 'sgd', learningRate: 0.01, epochs: 4, augment: { flip: true }, schedule: { kind: 'step', stepEpochs: 2 } } },
  ] as { name: string; training: Partial<TrainingSpec> }[]) {
    it(`stopped after epoch 2 and resumed: the same final weights and history as one run (${t.name})`, async () => {
      const training = withTrainingDefaults({ batchSize: 12, learningRate: 1e-3, seed: 5, ...t.training });
      const straight = buildNetwork(spec(), 3);
      const r1 = await trainModel({ parts: networkParts(straight), data, normalize: straight.spec.normalize, training });
      const expected = weightsOf(straight);
      straight.dispose();

      const dir = mkdtempSync(join(tmpdir(), 'sei-ckpt-'));
      try {
        // First job: stopped (like a job killed at its time limit) once epoch 2 is checkpointed.
        const first = buildNetwork(spec(), 3);
        const controller = new AbortController();
        await assert.rejects(trainModel({
          parts: networkParts(first), data, normalize: first.spec.normalize, training, checkpointDir: dir, signal: controller.signal,
          onEpochEnd: (rec) => { if (rec.epoch === 2) controller.abort(new Error('time limit')); },
        }), /time limit/);
        first.dispose();
        assert.deepEqual(readdirSync(dir).sort(), ['epoch-2.bin', 'state.json']);
        // Requeued job: a fresh process state, the same seeded initialisation, then the checkpoint.
        const second = buildNetwork(spec(), 3);
        const logs: string[] = [];
        const epochsRun: number[] = [];
        const r2 = await trainModel({
          parts: networkParts(second), data, normalize: second.spec.normalize, training, checkpointDir: dir,
          log: (m) => logs.push(m), onEpochEnd: (rec) => epochsRun.push(rec.epoch),
        });
        assert.ok(logs.some((l) => /resumed from the checkpoint after epoch 2\/4/.test(l)), logs.join('\n'));
        assert.deepEqual(epochsRun, [3, 4]);
        const got = weightsOf(second);
        second.dispose();
        assert.equal(got.length, expected.length);
        for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], expected[i], `weight tensor ${i} differs`);
        assert.deepEqual(r2.history.map((h) => [h.epoch, h.loss, h.accuracy, h.valLoss]), r1.history.map((h) => [h.epoch, h.loss, h.accuracy, h.valLoss]));
        assert.equal(r2.bestEpoch, r1.bestEpoch);
        assert.ok(existsSync(join(dir, 'epoch-4.bin')));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
