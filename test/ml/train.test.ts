import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { PreparedSplit } from '../../src/data/prepared-types.js';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { networkParts, splitModel, splitParts } from '../../src/ml/split.js';
import { withTrainingDefaults, type TrainingSpec } from '../../src/ml/spec.js';
import { trainModel, evaluateSource, evaluateImages, networkLogitsFn, imageSource, runParts, learningRateAt, classificationMetrics, type EpochRecord } from '../../src/ml/train/index.js';
import { imageBatch } from '../../src/ml/feed.js';
import { initBackend } from '../../src/ml/backend.js';

const S = 32;
const CLASSES = 3;

/** A learnable synthetic split: class c is a bright square in a class-specific quadrant, on noise. */
function syntheticSplit(count: number, seed: number): PreparedSplit {
  let s = seed + 1;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const imgs = new Uint8Array(count * S * S * 3);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const c = n % CLASSES;
    labels[n] = c;
    const [oy, ox] = [[2, 2], [2, 18], [18, 10]][c];
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let ch = 0; ch < 3; ch++) {
      const inside = y >= oy && y < oy + 12 && x >= ox && x < ox + 12;
      imgs[((n * S + y) * S + x) * 3 + ch] = inside ? 200 + Math.floor(rnd() * 55) : Math.floor(rnd() * 90);
    }
  }
  return {
    count,
    labels,
    readImages(indices) {
      const out = new Uint8Array(indices.length * S * S * 3);
      for (let i = 0; i < indices.length; i++) out.set(imgs.subarray(indices[i] * S * S * 3, (indices[i] + 1) * S * S * 3), i * S * S * 3);
      return out;
    },
  };
}

const geometry = { height: S, width: S, channels: 3 };
const spec = (arch: 'vgg16' | 'resnet50' = 'vgg16') => resolveModelSpec({ arch, inputSize: S, inputChannels: 3, classes: CLASSES, width: 1 / 16 });
const data = { train: syntheticSplit(48, 1), val: syntheticSplit(24, 2), geometry, classes: CLASSES };
const tspec = (t: Partial<TrainingSpec>) => withTrainingDefaults({ batchSize: 16, epochs: 2, learningRate: 1e-3, seed: 3, ...t });

const allWeights = (layers: tf.layers.Layer[]) => layers.flatMap((l) => l.getWeights().map((w) => Array.from(w.dataSync())));
const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.map((x, i) => Math.max(...x.map((v, j) => Math.abs(v - b[i][j])))));

describe('ml/train', function () {
  this.timeout(120_000);
  // The fast wasm backend when it is available (its training kernels are the project's), else cpu.
  let backend = 'cpu';
  let previous = '';
  before(async () => {
    previous = tf.getBackend();
    try { backend = (await initBackend('wasm')).name; } catch { await tf.setBackend('cpu'); }
  });
  after(async () => { if (previous) await tf.setBackend(previous); });

  it('schedules: constant, step, cosine, warm-up', () => {
    assert.equal(learningRateAt(5, 10, 0.1), 0.1);
    assert.ok(Math.abs(learningRateAt(11, 30, 0.1, { kind: 'step', stepEpochs: 10 }) - 0.01) < 1e-12);
    assert.equal(learningRateAt(1, 10, 0.1, { kind: 'cosine' }), 0.1);
    assert.ok(learningRateAt(10, 10, 0.1, { kind: 'cosine' }) < 0.01);
    assert.ok(Math.abs(learningRateAt(1, 10, 0.1, { kind: 'constant', warmupEpochs: 1 }) - 0.05) < 1e-12);
  });

  it('metrics: accuracy, balanced accuracy, per-class, confusion', () => {
    const m = classificationMetrics([0, 0, 0, 1, 2, 2], [0, 0, 1, 1, 2, 0], 4);
    assert.equal(m.accuracy, 4 / 6);
    assert.deepEqual(m.confusion[0], [2, 1, 0, 0]);
    assert.ok(Number.isNaN(m.perClassAccuracy[3]));
    assert.ok(Math.abs(m.balancedAccuracy - (2 / 3 + 1 + 0.5) / 3) < 1e-12);
  });

  it('feed normalises per channel and flips horizontally', () => {
    const split = syntheticSplit(2, 9);
    const plain = imageBatch(split, [1], geometry, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const flipped = imageBatch(split, [1], geometry, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, [true]);
    const raw = split.readImages([1]);
    assert.ok(Math.abs(plain.dataSync()[0] - (raw[0] / 255 - 0.5) / 0.5) < 1e-6);
    assert.ok(tf.max(tf.abs(tf.sub(tf.reverse(plain, 2), flipped))).dataSync()[0] === 0);
    tf.dispose([plain, flipped]);
  });

  it('learns, is deterministic for a seed, and leaks no tensors across epochs (Adam, flip)', async () => {
    const run = async () => {
      const net = buildNetwork(spec(), 11);
      const counts: number[] = [];
      const events: number[] = [];
      const r = await trainModel({
        parts: networkParts(net), data, normalize: net.spec.normalize,
        training: tspec({ epochs: 8, learningRate: 2e-3, augment: { flip: true } }),
        onEpochEnd: () => counts.push(tf.memory().numTensors),
        onProgress: (e) => { if (e.phase === 'train') events.push(e.batch!); },
      });
      const w = allWeights(net.model.layers);
      net.dispose();
      return { r, counts, w, events };
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a.r.history.map((h: EpochRecord) => [h.loss, h.valAccuracy]), b.r.history.map((h: EpochRecord) => [h.loss, h.valAccuracy]));
    assert.equal(maxDiff(a.w, b.w), 0);
    assert.deepEqual(a.events.slice(0, 3), [1, 2, 3]);
    // Stable tensor count from the end of epoch 1 on.
    assert.ok(a.counts.every((c) => c === a.counts[0]), `tensor counts ${a.counts}`);
    assert.ok(a.r.history[7].loss < a.r.history[0].loss, `loss ${a.r.history.map((h) => h.loss)}`);
    assert.ok(a.r.history[7].valAccuracy! > 0.5, `above chance (1/3): ${a.r.history.map((h) => h.valAccuracy)}`);
  });

  it('SGD with momentum, weight decay and step schedule; early stopping restores the best epoch', async () => {
    const net = buildNetwork(spec('resnet50'), 2);
    const counts: number[] = [];
    const r = await trainModel({
      parts: networkParts(net), data, normalize: net.spec.normalize, onEpochEnd: () => counts.push(tf.memory().numTensors),
      training: tspec({ optimizer: 'sgd', learningRate: 0.01, weightDecay: 1e-4, epochs: 6, schedule: { kind: 'step', stepEpochs: 2 },
        earlyStopping: { patience: 1, metric: 'valLoss' } }),
    });
    assert.ok(r.history.length >= 2);
    // Batch-norm statistics updated in training mode leak nothing either.
    assert.ok(counts.every((c) => c === counts[0]), `tensor counts ${counts}`);
    const best = Math.min(...r.history.map((h) => h.valLoss!));
    assert.equal(r.history[r.bestEpoch - 1].valLoss, best);
    // The kept weights are the best epoch's: re-evaluating gives its validation loss.
    const ev = await evaluateSource(imageSource(data.val, geometry, net.spec.normalize), data.val, (x) => runParts(networkParts(net), x, true), { classes: CLASSES });
    assert.ok(Math.abs(ev.loss - best) < 1e-5 * Math.max(1, best), `${ev.loss} vs ${best}`);
    const ev2 = await evaluateImages(data.val, geometry, net.spec.normalize, networkLogitsFn(net), { classes: CLASSES, batchSize: 7 });
    assert.ok(Math.abs(ev2.loss - best) < 1e-5 * Math.max(1, best), `${ev2.loss} vs ${best} (${ev.loss})`);
    assert.equal(ev2.count, 24);
    assert.equal(ev2.confusion.flat().reduce((a, b) => a + b, 0), 24);
    net.dispose();
  });

  it('frozen head computed once gives the same result as the uncached run', async () => {
    const run = async (cache: boolean, memoryLimitBytes?: number, extra: { precision?: 'float16'; maxBytes?: number } = {}) => {
      const net = buildNetwork(spec('resnet50'), 4);
      const s = splitModel(net, 'layer2_1', { ratio: 8, expansion: 2 }, { seed: 5 });
      const parts = splitParts(s, 'bottleneck+classifier');
      const r = await trainModel({
        parts, data, normalize: net.spec.normalize, training: tspec({ epochs: 2 }),
        cache: cache ? { memoryLimitBytes, ...extra } : false,
      });
      const w = allWeights([...s.encoderBlock.layers, ...s.decoderBlock.layers, net.model.getLayer('fc')]);
      s.dispose();
      net.dispose();
      return { r, w };
    };
    const plain = await run(false);
    const mem = await run(true);
    const file = await run(true, 1);
    assert.equal(plain.r.cache, 'none');
    assert.equal(mem.r.cache, 'memory');
    assert.deepEqual(mem.r.cachedParts, ['head']);
    assert.equal(file.r.cache, 'file');
    const half = await run(true, 1, { precision: 'float16' });
    assert.equal(half.r.cache, 'file');
    // Adam turns tiny gradient differences into full steps, so compare losses, not weights.
    half.r.history.forEach((h, i) => assert.ok(Math.abs(h.loss - plain.r.history[i].loss) < 1e-2 * plain.r.history[i].loss, `float16 cache: loss ${h.loss} vs ${plain.r.history[i].loss}`));
    const over = await run(true, undefined, { maxBytes: 1000 });
    assert.equal(over.r.cache, 'none');
    assert.deepEqual(over.r.cachedParts, []);
    assert.equal(maxDiff(plain.w, over.w), 0);
    for (const other of [mem, file]) {
      assert.ok(maxDiff(plain.w, other.w) < 1e-5, `weights differ by ${maxDiff(plain.w, other.w)}`);
      other.r.history.forEach((h, i) => assert.ok(Math.abs(h.loss - plain.r.history[i].loss) < 1e-5));
    }
  });

  it('early stopping without validation images is a usage error', async () => {
    const net = buildNetwork(spec(), 0);
    await assert.rejects(
      trainModel({ parts: networkParts(net), data: { ...data, val: undefined }, normalize: net.spec.normalize, training: tspec({ earlyStopping: { patience: 2, metric: 'valAccuracy' } }) }),
      /needs validation images/,
    );
    net.dispose();
  });

  describe('on the cpu backend', () => {
    before(async () => { await tf.setBackend('cpu'); });
    after(async () => { await tf.setBackend(backend); });
    it('same seed → same numbers', async () => {
      const run = async () => {
        const net = buildNetwork(spec('resnet50'), 1);
        const r = await trainModel({ parts: networkParts(net), data: { ...data, val: undefined }, normalize: net.spec.normalize,
          training: tspec({ epochs: 1, batchSize: 8, augment: { flip: true }, maxBatchesPerEpoch: 1 }) });
        const w = allWeights(net.model.layers);
        net.dispose();
        return { r, w };
      };
      const a = await run();
      const b = await run();
      assert.equal(a.r.history[0].loss, b.r.history[0].loss);
      assert.equal(maxDiff(a.w, b.w), 0);
    });
  });
});
