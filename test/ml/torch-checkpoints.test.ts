// Cross-framework tests against real PyTorch (Debian's python3-torch and python3-torchvision):
// randomly initialised torchvision VGG16 and ResNet-50, saved by torch.save in a Python script
// (test/ml/torchvision_reference.py), loaded through model.pretrained, must give PyTorch's logits
// and PyTorch's channel-mean Grad-CAM importance (METHOD.md) at all 18 cut points, in both read
// points. Skipped, with the reason, only when /usr/bin/python3 cannot import torch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { checkTorch, DEFAULT_PYTHON } from '../../src/ml/bench.js';
import { createNetwork } from '../../src/ml/io.js';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import type { ReadPoint } from '../../src/ml/models/network.js';
import { importanceOfBatch, type TappedForward } from '../../src/science/cui.js';
import { readCheckpoint } from '../../src/ml/checkpoints/read.js';
import type { Arch } from '../../src/ml/spec.js';
import trainBase from '../../src/stages/train-base/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const SCRIPT = join(repo, 'test', 'ml', 'torchvision_reference.py');
const SEI = join(repo, 'bin', 'sei.js');

interface Reference { logits: number[][]; targets: number[]; cui?: Record<ReadPoint, number[]>; cutPoints?: string[] }
interface Case { arch: Arch; width: number; classes: number; size: number; images: number; cui?: boolean; safetensors?: boolean }

function runPython(args: string[]): void {
  // OMP_NUM_THREADS must be set before torch is imported: it is, in the child's environment.
  const r = spawnSync(DEFAULT_PYTHON, args, { env: { ...process.env, OMP_NUM_THREADS: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Why these tests cannot run here (no torch or no torchvision for /usr/bin/python3), or null. */
async function torchMissing(): Promise<string | null> {
  const missing = await checkTorch(DEFAULT_PYTHON);
  if (missing) return missing;
  const v = spawnSync(DEFAULT_PYTHON, ['-c', 'import torchvision'], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  return v.status === 0 ? null : `${DEFAULT_PYTHON} has no torchvision (Debian: apt-get install python3-torchvision)`;
}

/** Runs the reference script for a case; returns its folder and result. */
function pytorch(root: string, c: Case): { dir: string; ref: Reference; seconds: number } {
  const dir = join(root, `${c.arch}-w${c.width}-${c.size}px`);
  const t0 = Date.now();
  runPython([SCRIPT, '--arch', c.arch, '--width', String(c.width), '--classes', String(c.classes), '--size', String(c.size),
    '--images', String(c.images), '--out', dir, ...(c.cui ? ['--cui'] : []), ...(c.safetensors ? ['--safetensors'] : [])]);
  return { dir, ref: JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference, seconds: (Date.now() - t0) / 1000 };
}

/** The script's N×3×H×W float32 images as N×H×W×3. */
function images(dir: string, c: Case): tf.Tensor4D {
  const raw = readFileSync(join(dir, 'images.bin'));
  const nchw = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [c.images, 3, c.size, c.size]);
  const nhwc = tf.transpose(nchw, [0, 2, 3, 1]) as tf.Tensor4D;
  nchw.dispose();
  return nhwc;
}

async function load(c: Case, file: string) {
  const spec = resolveModelSpec({ arch: c.arch, inputSize: c.size, inputChannels: 3, classes: c.classes, width: c.width, pretrained: file });
  return createNetwork(spec, 0);
}

/** max |a − b| / max |b| over a logit matrix. */
function relativeError(a: number[][], b: number[][]): number {
  let num = 0, den = 0;
  b.forEach((row, i) => row.forEach((v, j) => { num = Math.max(num, Math.abs(a[i]![j]! - v)); den = Math.max(den, Math.abs(v)); }));
  return num / den;
}

describe('PyTorch checkpoints: torchvision VGG16 and ResNet-50 loaded and checked against PyTorch', function () {
  this.timeout(600_000);
  let root = '';
  const timings: string[] = [];

  before(async function () {
    const missing = await torchMissing();
    if (missing) { console.log(`      skipped: ${missing}`); this.skip(); }
    await initBackend('wasm');
    root = mkdtempSync(join(tmpdir(), 'sei-torch-'));
  });
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    if (timings.length) console.log(`      timings: ${timings.join('; ')}`);
  });

  async function logitsCase(c: Case, file = 'model.pth') {
    const { dir, ref, seconds } = pytorch(root, c);
    const t0 = Date.now();
    const { network: net, pretrained } = await load(c, join(dir, file));
    try {
      assert.equal(pretrained?.mapping, 'torchvision');
      const x = images(dir, c);
      const logits = tf.tidy(() => net.model.predict(x) as tf.Tensor).arraySync() as number[][];
      x.dispose();
      const err = relativeError(logits, ref.logits);
      timings.push(`${c.arch} w${c.width} ${c.size}px ×${c.images}: PyTorch ${seconds.toFixed(1)} s, sei ${((Date.now() - t0) / 1000).toFixed(1)} s, logits rel. error ${err.toExponential(1)}`);
      assert.ok(err < 1e-4, `${c.arch} logits differ from PyTorch by ${err} (relative to the largest logit)`);
      return { dir, ref };
    } finally {
      net.dispose();
    }
  }

  it('full-size VGG16 at 224 px: the same logits as PyTorch (inference mode)', async () => {
    await logitsCase({ arch: 'vgg16', width: 1, classes: 1000, size: 224, images: 1 });
  });

  it('full-size ResNet-50 at 224 px: the same logits as PyTorch (inference mode)', async () => {
    await logitsCase({ arch: 'resnet50', width: 1, classes: 1000, size: 224, images: 1 });
  });

  it("VGG16 at other input sizes: torchvision's adaptive 7×7 pool is folded into fc1, logits still equal", async () => {
    for (const size of [64, 96, 288]) await logitsCase({ arch: 'vgg16', width: 0.125, classes: 10, size, images: 2 });
  });

  // At 224 px the wasm backend's activations differ from PyTorch's by float32 summation order
  // (about 3e-7 relative), and that is enough to move the maximum of one 2×2 window of block4_conv3
  // out of 50,176 (two values that nearly tie): the gradient then takes another path below it, and
  // the early cuts' CUI, a remainder of about 1e-8 of gradients that cancel, moves by up to 5e-4
  // relative. That is max pooling's non-differentiability, not a lost precision: the activations,
  // the later cuts (1e-6) and the cpu backend (4e-7) agree. The importance's own means are taken
  // in float64 (science/cui.ts), so they add nothing to it.
  const CUI_TOLERANCE = 1e-3;
  const CUI_TOLERANCE_CPU = 1e-4;
  /** ResNet-50 conv1's relative CUI error, post-activation (checked in its own test below). */

  const cuiCases = [
    { width: 0.25, size: 224, backend: 'wasm', tolerance: CUI_TOLERANCE },
    { width: 0.125, size: 64, backend: 'cpu', tolerance: CUI_TOLERANCE_CPU },
  ] as const;
  for (const arch of ['vgg16', 'resnet50'] as const) for (const cc of cuiCases) {
    it(`${arch} (width ${cc.width}, ${cc.size} px, ${cc.backend}): the CUI at all 18 cuts equals PyTorch's Grad-CAM within ${cc.tolerance}, in both read points; .safetensors loads the same`, async () => {
      const c: Case = { arch, width: cc.width, classes: 10, size: cc.size, images: 2, cui: true, safetensors: true };
      const { dir, ref } = pytorch(root, c);
      await tf.setBackend(cc.backend);
      const CUI_TOLERANCE = cc.tolerance;
      const t0 = Date.now();
      const { network: net } = await load(c, join(dir, 'model.pth'));
      const { network: fromSafetensors } = await load(c, join(dir, 'model.safetensors'));
      try {
        assert.deepEqual(net.cutPoints, ref.cutPoints);
        // Same weights from both files.
        net.model.layers.forEach((l, i) => l.getWeights().forEach((w, k) => {
          assert.deepEqual(w.dataSync(), fromSafetensors.model.layers[i]!.getWeights()[k]!.dataSync(), `${l.name} differs between .pth and .safetensors`);
        }));
        const x = images(dir, c);
        const labels = Int32Array.from(ref.targets);
        for (const readPoint of ['post-activation', 'reference'] as const) {
          const forward: TappedForward = (input, taps) => net.forwardWithCuts(input as tf.Tensor4D, { training: false, perturb: taps, readPoint });
          const r = importanceOfBatch(tf, forward, x, labels, 'label');
          assert.deepEqual(Array.from(r.predicted), ref.targets, 'predicted classes differ');
          const ours = r.values.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
          const theirs = ref.cui![readPoint];
          let worst = 0;
          ours.forEach((v, i) => {
            const cut = net.cutPoints[i]!;
            const rel = theirs[i] === 0 ? Math.abs(v) : Math.abs(v - theirs[i]!) / Math.abs(theirs[i]!);
            worst = Math.max(worst, rel);
            assert.ok(rel < CUI_TOLERANCE, `${arch} ${readPoint} ${cut}: CUI ${v} vs PyTorch ${theirs[i]} (relative ${rel})`);
          });
          timings.push(`${arch} ${cc.size}px ${cc.backend} ${readPoint}: worst CUI rel. error ${worst.toExponential(1)}`);
        }
        x.dispose();
        timings.push(`${arch} w${cc.width} ${cc.size}px CUI both read points: sei ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } finally {
        net.dispose();
        fromSafetensors.dispose();
        await tf.setBackend('wasm');
      }
    });
  }
});

/** Writes tensors as a .safetensors file (float32), to build damaged checkpoints. */
function writeSafetensors(path: string, tensors: { name: string; shape: number[]; values: Float32Array }[]): void {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.values.byteLength] };
    offset += t.values.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([length, json, ...tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength))]));
}

describe('PyTorch checkpoints: bad input is refused with the tensor, the expected and the found shape', function () {
  this.timeout(300_000);
  let root = '';
  let dir = '';
  const c: Case = { arch: 'vgg16', width: 0.125, classes: 10, size: 32, images: 1, safetensors: true };

  before(async function () {
    const missing = await torchMissing();
    if (missing) { console.log(`      skipped: ${missing}`); this.skip(); }
    await initBackend('wasm');
    root = mkdtempSync(join(tmpdir(), 'sei-torch-bad-'));
    dir = pytorch(root, c).dir;
  });
  after(() => { if (root) rmSync(root, { recursive: true, force: true }); });

  const refused = async (spec: Partial<Case>, file: string, pattern: RegExp) => {
    await assert.rejects(load({ ...c, ...spec }, file), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 2, `not a usage error: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    });
  };

  it('another architecture, another width, another class count', async () => {
    await refused({ arch: 'resnet50' }, join(dir, 'model.pth'), /does not match resnet50 width 0\.125.*it looks like torchvision vgg16 width 0\.125 \(10 classes/s);
    await refused({ width: 0.25 }, join(dir, 'model.pth'), /tensor features\.0\.weight \(layer block1_conv1\): expected shape \[16, 3, 3, 3\], found \[8, 3, 3, 3\]/);
    await refused({ classes: 5 }, join(dir, 'model.safetensors'), /tensor classifier\.6\.weight \(layer predictions\): expected shape \[5, 512\], found \[10, 512\]/);
  });

  it('is refused at plan time by train-base, before anything runs', () => {
    const training = { epochs: 1, batchSize: 8, optimizer: 'adam' as const, learningRate: 1e-3, momentum: 0.9, weightDecay: 0, seed: 0, augment: { flip: false } };
    const ctx = { pipelineDir: '.', projectRoot: '.' };
    const ok = trainBase.validate!({ model: { arch: 'vgg16', width: 0.125, pretrained: join(dir, 'model.pth') }, training }, ctx);
    assert.deepEqual(ok, []);
    const [msg] = trainBase.validate!({ model: { arch: 'vgg16', width: 0.25, pretrained: join(dir, 'model.pth') }, training }, ctx);
    assert.match(msg!, /^model\.pretrained: .*model\.pth does not match vgg16 width 0\.25; it looks like torchvision vgg16 width 0\.125 .*tensor features\.0\.weight \(layer block1_conv1\): expected shape \[16, 3, 3, 3\], found \[8, 3, 3, 3\]/);
  });

  it('a missing or an extra tensor', async () => {
    const all = readCheckpoint(join(dir, 'model.safetensors')).tensors.map((t) => ({ name: t.name, shape: t.shape, values: t.read() }));
    writeSafetensors(join(root, 'missing.safetensors'), all.filter((t) => t.name !== 'features.2.bias'));
    await refused({}, join(root, 'missing.safetensors'), /missing tensor features\.2\.bias \[8\]/);
    writeSafetensors(join(root, 'extra.safetensors'), [...all, { name: 'classifier.9.weight', shape: [2, 2], values: new Float32Array(4) }]);
    await refused({}, join(root, 'extra.safetensors'), /unexpected tensor classifier\.9\.weight \[2, 2\]/);
    // An excluded layer may be missing or of another shape: it keeps its fresh initialisation.
    const spec = resolveModelSpec({ arch: 'vgg16', inputSize: 32, inputChannels: 3, classes: 5, width: 0.125,
      pretrained: join(dir, 'model.pth'), pretrainedExclude: ['predictions'] });
    const { network, pretrained } = await createNetwork(spec, 0);
    assert.deepEqual(pretrained?.skipped, ['predictions']);
    // The excluded layer has the seeded initialisation a fresh network of the same seed has.
    const fresh = buildNetwork(spec, 0);
    fresh.model.getLayer('predictions').getWeights().forEach((w, i) => {
      const mine = network.model.getLayer('predictions').getWeights()[i]!;
      assert.deepEqual(mine.dataSync(), w.dataSync());
    });
    assert.ok(Math.max(...network.model.getLayer('predictions').getWeights()[0]!.dataSync().map(Math.abs)) > 0, 'left at zero');
    fresh.dispose();
    network.dispose();
  });

  it('a truncated file, in either format', async () => {
    for (const name of ['model.pth', 'model.safetensors']) {
      const cut = join(root, `cut-${name}`);
      copyFileSync(join(dir, name), cut);
      truncateSync(cut, Math.floor(statSync(cut).size * 0.6));
      await refused({}, cut, /truncated/);
    }
  });

  it('a pickle that asks to run code is refused, nothing is run, and `sei weights inspect` exits 2', async () => {
    const marker = join(root, 'ran');
    const evil = join(root, 'evil.pth');
    runPython(['-c', [
      'import os, sys, torch',
      'class Evil:',
      `    def __reduce__(self): return (os.system, ("touch ${marker}",))`,
      `torch.save({"features.0.weight": torch.zeros(1), "x": Evil()}, "${evil}")`,
    ].join('\n')]);
    await refused({}, evil, /asks for the Python object posix\.system.*refused without running anything/);
    const r = spawnSync(process.execPath, [SEI, 'weights', 'inspect', evil], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /posix\.system/);
    assert.equal(existsSync(marker), false, 'the pickle ran code');
    assert.deepEqual(readdirSync(root).sort(), ['cut-model.pth', 'cut-model.safetensors', 'evil.pth', 'extra.safetensors', 'missing.safetensors', `${c.arch}-w${c.width}-${c.size}px`].sort());
  });

  it('`sei weights inspect` lists tensors, parameter count and the architecture it matches', () => {
    const r = spawnSync(process.execPath, [SEI, 'weights', 'inspect', join(dir, 'model.pth'), '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { architecture: unknown; parameters: number; tensors: { name: string; target: string; shape: number[] }[] };
    assert.deepEqual(j.architecture, { arch: 'vgg16', width: 0.125, classes: 10, inputChannels: 3 });
    // Parameters as PyTorch counts them (conv and FC weights and biases), from the script's model.
    const expected = Number(spawnSync(DEFAULT_PYTHON, ['-c',
      `import torch; print(sum(t.numel() for t in torch.load("${join(dir, 'model.pth')}").values()))`], { env: { ...process.env, OMP_NUM_THREADS: '1' }, encoding: 'utf8' }).stdout.trim());
    assert.equal(j.parameters, expected);
    assert.deepEqual(j.tensors.find((t) => t.name === 'classifier.0.weight'), { name: 'classifier.0.weight', dtype: 'float32', shape: [512, 64 * 49], elements: 512 * 64 * 49, target: 'fc1/kernel', conversion: 'vgg-fc1' });
    const text = spawnSync(process.execPath, [SEI, 'weights', 'inspect', join(dir, 'model.safetensors')], { encoding: 'utf8' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /matches: torchvision vgg16 width 0\.125 \(10 classes, 3 input channels\) → model\.arch vgg16, model\.width 0\.125, classes 10/);
  });
});
