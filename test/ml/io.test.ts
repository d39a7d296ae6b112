import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { splitModel } from '../../src/ml/split.js';
import { fileIOHandler, saveNetwork, loadNetwork, saveSplit, loadSplit, loadPretrained, createNetwork, readSavedMeta } from '../../src/ml/io.js';
import { isUsageError } from '../../src/util/errors.js';
import type { Arch } from '../../src/ml/spec.js';
import type { Network } from '../../src/ml/models/network.js';

const spec = (arch: Arch, width: number, classes = 4) => resolveModelSpec({ arch, inputSize: 32, inputChannels: 3, classes, width });
const x = () => tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 42);
const diff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** Give batch norms non-trivial statistics so that saving them matters. */
function perturbBatchNorms(net: Network): void {
  for (const l of net.model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const ws = l.getWeights().map((w, i) => tf.add(w, tf.mul(tf.randomUniform(w.shape, 0, 0.5, 'float32', i + 1), 1)));
    l.setWeights(ws);
    tf.dispose(ws);
  }
}

/** Write a layers-model file holding the given named weights (what a converter would produce). */
async function writeForeign(dir: string, named: { name: string; tensor: tf.Tensor }[]): Promise<string> {
  const { data, specs } = await tf.io.encodeWeights(named);
  writeFileSync(join(dir, 'w.bin'), new Uint8Array(data));
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify({ format: 'layers-model', modelTopology: {}, weightsManifest: [{ paths: ['w.bin'], weights: specs }] }));
  return path;
}

describe('ml/io', function () {
  this.timeout(60_000);
  let dir: string;
  // The cpu backend for these shape and bookkeeping tests; the previous one is restored after.
  let previous = '';
  before(async () => { previous = tf.getBackend(); await tf.setBackend('cpu'); });
  after(async () => { if (previous) await tf.setBackend(previous); });
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'sei-io-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads a network (model.json + weights.bin), also readable by tf.loadLayersModel', async () => {
    const net = buildNetwork(spec('resnet50', 1 / 16), 3);
    perturbBatchNorms(net);
    await saveNetwork(dir, net, { note: 'test' });
    assert.ok(existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin')));
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.equal(readSavedMeta(dir).spec.arch, 'resnet50');
    const { network, meta } = await loadNetwork(dir);
    assert.deepEqual(meta.extra, { note: 'test' });
    const generic = await tf.loadLayersModel(fileIOHandler(join(dir, 'model.json')));
    tf.tidy(() => {
      const input = x();
      const ref = net.model.predict(input) as tf.Tensor;
      assert.equal(diff(ref, network.model.predict(input) as tf.Tensor), 0);
      assert.ok(diff(ref, generic.predict(input) as tf.Tensor) < 1e-5);
    });
    [net, network].forEach((n) => n.dispose());
    generic.dispose();
  });

  it('saves and loads a split model with its cut and bottleneck', async () => {
    const net = buildNetwork(spec('vgg16', 1 / 16), 1);
    const s = splitModel(net, 'block3_conv2', { ratio: 4, expansion: 2 }, { seed: 9 });
    await saveSplit(dir, s);
    const { split, meta } = await loadSplit(dir);
    assert.equal(meta.cut, 'block3_conv2');
    const generic = await tf.loadLayersModel(fileIOHandler(join(dir, 'model.json')));
    tf.tidy(() => assert.ok(diff(s.full.predict(x()) as tf.Tensor, generic.predict(x()) as tf.Tensor) < 1e-5));
    generic.dispose();
    assert.deepEqual(split.codeShape, s.codeShape);
    tf.tidy(() => assert.equal(diff(s.full.predict(x()) as tf.Tensor, split.full.predict(x()) as tf.Tensor), 0));
    // The underlying network of a split save loads as a network too.
    const { network } = await loadNetwork(dir);
    tf.tidy(() => assert.equal(diff(net.model.predict(x()) as tf.Tensor, network.model.predict(x()) as tf.Tensor), 0));
    await assert.rejects(loadSplit(await (async () => { const d2 = join(dir, 'n'); await saveNetwork(d2, net); return d2; })()), /not a split model/);
    [s, split].forEach((m) => m.dispose());
    [net, split.network, network].forEach((n) => n.dispose());
  });

  it('loads a pretrained VGG16 by Keras layer names, keeping an excluded classifier fresh', async () => {
    const src = buildNetwork(spec('vgg16', 1 / 16, 10), 5);
    await saveNetwork(dir, src);
    const dst = buildNetwork(spec('vgg16', 1 / 16, 4), 6);
    const before = dst.model.getLayer('predictions').getWeights()[0].dataSync().slice();
    const r = await loadPretrained(dst, join(dir, 'model.json'), { exclude: ['predictions'] });
    assert.equal(r.mapping, 'name');
    assert.deepEqual(r.skipped, ['predictions']);
    assert.deepEqual(dst.model.getLayer('block4_conv2').getWeights()[0].dataSync(), src.model.getLayer('block4_conv2').getWeights()[0].dataSync());
    assert.deepEqual(dst.model.getLayer('predictions').getWeights()[0].dataSync(), before);
    // Without the exclusion, the classifier's shape clash is named.
    await assert.rejects(loadPretrained(dst, join(dir, 'model.json')),
      (e: unknown) => isUsageError(e) && /layer predictions \(kernel\): expected shape \[256, 4\], got \[256, 10\]/.test((e as Error).message));
    // A headless file (Keras include_top=False) names what to exclude.
    const headless = src.model.layers.filter((l) => !['fc1', 'fc2', 'predictions'].includes(l.name))
      .flatMap((l) => l.weights.map((w, i) => ({ name: w.originalName, tensor: l.getWeights()[i] })));
    const hdir = join(dir, 'headless');
    (await import('node:fs')).mkdirSync(hdir);
    const hpath = await writeForeign(hdir, headless);
    await assert.rejects(loadPretrained(dst, hpath),
      (e: unknown) => isUsageError(e) && /no weights for layers fc1, fc2, predictions of vgg16; add them to model.pretrainedExclude/.test((e as Error).message));
    assert.equal((await loadPretrained(dst, hpath, { exclude: ['fc1', 'fc2', 'predictions'] })).loaded.length, 13);
    // Through the spec: createNetwork applies `pretrained` and `pretrainedExclude`.
    const made = await createNetwork({ ...dst.spec, pretrained: dir, pretrainedExclude: ['predictions'] }, 0);
    assert.equal(made.pretrained?.loaded.length, 15);
    [src, dst, made.network].forEach((n) => n.dispose());
  });

  it('weights whose shapes do not match the architecture: clear error naming the layer', async () => {
    const src = buildNetwork(spec('vgg16', 1 / 16), 0);
    await saveNetwork(dir, src);
    const wider = buildNetwork(spec('vgg16', 1 / 8), 0);
    await assert.rejects(loadPretrained(wider, join(dir, 'model.json')),
      (e: unknown) => isUsageError(e) && /layer block1_conv1 \(kernel\): expected shape \[3, 3, 3, 8\], got \[3, 3, 3, 4\]/.test((e as Error).message));
    await assert.rejects(loadPretrained(wider, join(dir, 'missing.json')), /model file not found/);
    [src, wider].forEach((n) => n.dispose());
  });

  it('maps Keras ResNet50 names, folding conv biases into batch norm', async () => {
    const src = buildNetwork(spec('resnet50', 1 / 16), 7);
    perturbBatchNorms(src);
    const keras = (ours: string) => {
      if (ours === 'fc') return 'predictions';
      const m = /^layer(\d)_(\d+)_(conv|bn|down_conv|down_bn)(\d?)$/.exec(ours);
      if (!m) return ours;
      const kind = m[3].replace('down_', '');
      return `conv${Number(m[1]) + 1}_block${m[2]}_${m[3].startsWith('down') ? 0 : m[4]}_${kind}`;
    };
    const named: { name: string; tensor: tf.Tensor }[] = [];
    const biases = new Map<string, tf.Tensor>();
    for (const l of src.model.layers) {
      l.weights.forEach((w, i) => {
        const short = w.originalName.split('/').pop()!;
        let t = l.getWeights()[i];
        if (short === 'moving_mean') {
          const b = tf.randomNormal(t.shape, 0, 0.3, 'float32', 3);
          biases.set(l.name.replace(/bn(\d?)$/, 'conv$1'), b);
          t = tf.add(t, b); // what the file holds when Keras' conv adds b before BN
        }
        named.push({ name: `resnet50/${keras(l.name)}/${short}`, tensor: t });
      });
      if (l.getClassName() === 'Conv2D') named.push({ name: `resnet50/${keras(l.name)}/bias`, tensor: biases.get(l.name) ?? tf.zeros([1]) });
    }
    // Biases were registered after their conv for BN-after-conv order; rebuild the list with them.
    const fixed = named.map((n) => {
      const m = /^resnet50\/(.*)\/bias$/.exec(n.name);
      if (!m) return n;
      const layer = src.model.layers.find((l) => keras(l.name) === m[1])!;
      if (layer.getClassName() !== 'Conv2D') return n;
      return { name: n.name, tensor: biases.get(layer.name)! };
    });
    const path = await writeForeign(dir, fixed);
    const dst = buildNetwork(spec('resnet50', 1 / 16), 8);
    const r = await loadPretrained(dst, path);
    assert.equal(r.mapping, 'keras-resnet50');
    tf.tidy(() => {
      const ref = src.model.predict(x()) as tf.Tensor;
      const d = diff(ref, dst.model.predict(x()) as tf.Tensor);
      assert.ok(d < 1e-4 * Math.max(1, tf.max(tf.abs(ref)).dataSync()[0]), `logits differ by ${d}: ${ref.dataSync()}`);
    });
    [src, dst].forEach((n) => n.dispose());
  });

  it('falls back to layer order when names differ', async () => {
    const src = buildNetwork(spec('vgg16', 1 / 16), 2);
    const named = src.model.layers.flatMap((l, li) => l.weights.map((w, i) => ({ name: `m/layer_${li}/${i === 0 ? 'kernel' : 'bias'}`, tensor: l.getWeights()[i] })));
    const path = await writeForeign(dir, named);
    const dst = buildNetwork(spec('vgg16', 1 / 16), 3);
    const r = await loadPretrained(dst, path);
    assert.equal(r.mapping, 'order');
    tf.tidy(() => assert.equal(diff(src.model.predict(x()) as tf.Tensor, dst.model.predict(x()) as tf.Tensor), 0));
    [src, dst].forEach((n) => n.dispose());
  });
});
