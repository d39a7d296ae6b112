// Training here against training in PyTorch (test/ml/torch_check.py, Debian's python3-torch):
// from the same initial weights, on the same batches, two epochs of Adam (weight decay as L2)
// under the cosine schedule end with the same weights — base training of ResNet-50 (batch-norm
// statistics) and of VGG16 (its two dropouts, masks from the project's seeded generator), and
// bottleneck training at a VGG16 cut (frozen head and tail, the bottleneck's batch norms) — on
// the wasm and cpu backends. "The same": every weight tensor, moving statistics included, within
// 1e-3 relative (L2 norm of the difference over the L2 norm of PyTorch's tensor), or, for a
// weight that this project's two backends already disagree on by more (rounding decides it, see
// below), within four times that disagreement.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { PreparedSplit } from '../../src/data/prepared-types.js';
import { normalizeInto } from '../../src/ml/feed.js';
import { initBackend } from '../../src/ml/backend.js';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { networkParts, splitModel, splitParts, type TrainPart } from '../../src/ml/split.js';
import { withTrainingDefaults } from '../../src/ml/spec.js';
import { allIndices, deriveSeed, Rng, trainModel } from '../../src/ml/train/index.js';
import { runTorch, skipWithoutTorch } from './torch-python.js';
import { decoderOutputPadding as bottleneckPadding } from '../../src/ml/bottleneck-geometry.js';

const S = 32, CLASSES = 3, IMAGES = 16, BATCH = 8, EPOCHS = 2, SEED = 5;
const TRAINING = withTrainingDefaults({
  epochs: EPOCHS, batchSize: BATCH, optimizer: 'adam', learningRate: 1e-3, weightDecay: 1e-4,
  schedule: { kind: 'cosine' }, seed: SEED,
});

/** Seeded noise images with a class-dependent bright square. */
function images(): { split: PreparedSplit; u8: Uint8Array } {
  const rng = new Rng(deriveSeed(1, 'train-equivalence'));
  const u8 = new Uint8Array(IMAGES * S * S * 3);
  const labels = new Int32Array(IMAGES);
  for (let n = 0; n < IMAGES; n++) {
    labels[n] = n % CLASSES;
    const o = 4 + 8 * labels[n]!;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) {
      const inside = y >= o && y < o + 10 && x >= o && x < o + 10;
      u8[((n * S + y) * S + x) * 3 + c] = Math.floor(rng.next() * 80) + (inside ? 170 : 0);
    }
  }
  const split: PreparedSplit = {
    count: IMAGES, labels,
    readImages(idx) {
      const out = new Uint8Array(idx.length * S * S * 3);
      for (let i = 0; i < idx.length; i++) out.set(u8.subarray(idx[i]! * S * S * 3, (idx[i]! + 1) * S * S * 3), i * S * S * 3);
      return out;
    },
  };
  return { split, u8 };
}

/** The batches trainModel draws each epoch (its seeded shuffle, no hold-out). */
function batches(): number[][][] {
  return Array.from({ length: EPOCHS }, (_, e) => {
    const order = new Rng(deriveSeed(SEED, `shuffle:${e + 1}`)).shuffle(allIndices(IMAGES).slice());
    return Array.from({ length: Math.ceil(IMAGES / BATCH) }, (_, b) => Array.from(order.subarray(b * BATCH, (b + 1) * BATCH)));
  });
}

interface Case { name: string; arch: 'vgg16' | 'resnet50'; width: number; cut?: string; ratio?: number }
const CASES: Case[] = [
  { name: 'ResNet-50 base training', arch: 'resnet50', width: 1 / 16 },
  { name: 'VGG16 base training (dropout)', arch: 'vgg16', width: 1 / 16 },
  { name: 'VGG16 bottleneck training at block3_pool', arch: 'vgg16', width: 1 / 16, cut: 'block3_pool', ratio: 2 },
];

/** Biases whose gradient is exactly zero: the bottleneck's convolutions followed by batch norm. */
const NO_GRADIENT = /^bottleneck_(enc_conv1|enc_conv2|dec_convt1)\/bias$/;

type Weights = Map<string, { shape: number[]; values: Float32Array }>;

function weightsOf(layers: tf.layers.Layer[]): Weights {
  const out: Weights = new Map();
  for (const l of layers) {
    l.weights.forEach((w) => {
      const v = w.read();
      out.set(`${l.name}/${w.originalName.split('/').pop()}`, { shape: v.shape, values: Float32Array.from(v.dataSync()) });
    });
  }
  return out;
}

/** Trains the case on the current backend; returns the initial and final weights and the job for PyTorch. */
async function trainHere(c: Case) {
  const spec = resolveModelSpec({ arch: c.arch, inputSize: S, inputChannels: 3, classes: CLASSES, width: c.width });
  const net = buildNetwork(spec, SEED);
  const split = c.cut ? splitModel(net, c.cut, { ratio: c.ratio!, expansion: 2 }, { seed: SEED }) : undefined;
  const parts: TrainPart[] = split ? splitParts(split, 'bottleneck') : networkParts(net);
  const layers = [...net.model.layers, ...(split ? [...split.encoderBlock.layers, ...split.decoderBlock.layers] : [])].filter((l) => l.weights.length > 0);
  const initial = weightsOf(layers);
  const { split: data } = images();
  await trainModel({ parts, data: { train: data, geometry: { height: S, width: S, channels: 3 }, classes: CLASSES }, normalize: spec.normalize, training: TRAINING });
  const final = weightsOf(layers);
  const names = (ls: tf.layers.Layer[]) => [...new Set(ls.filter((l) => l.weights.length > 0 || l.getClassName() === 'Dropout').map((l) => l.name))];
  const job = {
    model: { arch: c.arch, width: c.width, classes: CLASSES, channels: 3, size: S },
    networkSeed: SEED,
    split: split && {
      cut: c.cut, C: split.cutShape[2], ratio: c.ratio, expansion: 2,
      opRows: bottleneckPadding(split.cutShape[0]), opCols: bottleneckPadding(split.cutShape[1]),
    },
    trainable: names(parts.flatMap((p) => p.trainableLayers)),
    trainingMode: names(parts.filter((p) => p.trainingMode).flatMap((p) => p.blocks.flatMap((b) => b.layers))),
    training: { learningRate: TRAINING.learningRate, weightDecay: TRAINING.weightDecay, epochs: EPOCHS },
    batches: batches(),
  };
  split?.dispose();
  net.dispose();
  return { initial, final, job, normalize: spec.normalize };
}


/** Writes the job (weights and normalised images as raw float32) and runs PyTorch on it. */
function trainInTorch(dir: string, run: Awaited<ReturnType<typeof trainHere>>): Weights {
  const chunks: Buffer[] = [];
  let offset = 0;
  const add = (values: Float32Array, shape: number[]) => {
    chunks.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    const entry = { shape, offset };
    offset += values.byteLength;
    return entry;
  };
  const weights: Record<string, { shape: number[]; offset: number }> = {};
  for (const [name, w] of run.initial) weights[name] = add(w.values, w.shape);
  const { u8, split } = images();
  const x = new Float32Array(u8.length);
  normalizeInto(u8, x, 3, run.normalize);
  const imagesEntry = add(x, [IMAGES, S, S, 3]);
  writeFileSync(join(dir, 'tensors.bin'), Buffer.concat(chunks));
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ ...run.job, weights, images: imagesEntry, labels: Array.from(split.labels) }));
  runTorch(['train', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'torch.json'), 'utf8')) as { weights: Record<string, { shape: number[]; offset: number }> };
  const raw = readFileSync(join(dir, 'torch.bin'));
  const out: Weights = new Map();
  for (const [name, e] of Object.entries(manifest.weights)) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    out.set(name, { shape: e.shape, values: new Float32Array(raw.buffer.slice(raw.byteOffset + e.offset, raw.byteOffset + e.offset + 4 * n)) });
  }
  return out;
}

/** ‖a − b‖ / ‖b‖ per tensor. */
function relativeL2(a: Float32Array, b: Float32Array): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i]! - b[i]!) ** 2; n += b[i]! ** 2; }
  return n === 0 ? Math.sqrt(d) : Math.sqrt(d / n);
}

describe('ml/train: equivalence with PyTorch training', function () {
  this.timeout(600_000);
  let previous = '';
  const scratch = mkdtempSync(join(tmpdir(), 'sei-train-eq-'));
  before(async () => { previous = tf.getBackend(); });
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    if (previous) await tf.setBackend(previous);
  });

  for (const c of CASES) {
    it(`${c.name}: same weights as PyTorch after ${EPOCHS} epochs, on wasm and cpu`, async function () {
      skipWithoutTorch(this);
      const runs: Record<string, Awaited<ReturnType<typeof trainHere>>> = {};
      for (const backend of ['wasm', 'cpu']) {
        if (backend === 'wasm') await initBackend('wasm');
        else await tf.setBackend('cpu');
        runs[backend] = await trainHere(c);
      }
      const dir = mkdtempSync(join(scratch, 'job-'));
      const torch = trainInTorch(dir, runs.wasm!);
      for (const [backend, run] of Object.entries(runs)) {
        assert.equal(torch.size, run.final.size);
        let moved = 0;
        const errors: [string, number][] = [];
        for (const [name, w] of run.final) {
          const t = torch.get(name);
          assert.ok(t, `${name} missing from PyTorch's weights`);
          assert.deepEqual(t.shape, w.shape, name);
          if (relativeL2(run.initial.get(name)!.values, t.values) > 1e-3) moved++;
          // A convolution bias just before a training-mode batch norm has an exact zero gradient
          // (the norm subtracts the batch mean): both frameworks' float noise, which Adam turns
          // into full-size steps. Not a weight training can determine, so not compared.
          if (NO_GRADIENT.test(name)) continue;
          // Some weights are decided by rounding: a ResNet's batch-norm β feeding (through a
          // ReLU and a convolution) the next training-mode batch norm gets a near-zero gradient,
          // and Adam's normalised steps make its value differ by ~10 % between this project's
          // own two backends, as much as from PyTorch. Such a weight may differ from PyTorch by
          // four times the spread between wasm and cpu (three noisy runs: no pair is much closer than
          // another); every other weight by at most 1e-3.
          const spread = relativeL2(runs.wasm!.final.get(name)!.values, runs.cpu!.final.get(name)!.values);
          errors.push([name, relativeL2(w.values, t.values) / Math.max(1e-3, 4 * spread)]);
        }
        errors.sort((a, b) => b[1] - a[1]);
        assert.ok(errors[0]![1] <= 1, `${c.name} on ${backend}: differs from PyTorch (relative, over its bound): ` +
          errors.slice(0, 8).map(([n, e]) => `${n} ${e.toExponential(2)}`).join(', '));
        // Training changed the weights (so the comparison is not of two untouched copies).
        assert.ok(moved > 0, `${c.name} on ${backend}: no weight moved`);
      }
    });
  }
});
