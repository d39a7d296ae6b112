// The I-SPLIT stages end to end through the real CLI (`node bin/sei.js run`): a tiny pipeline run
// twice from empty stores gives the same metrics and artifacts to the bit, and bad sweeps are
// refused before anything runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sei = join(root, 'bin', 'sei.js');
const tiny = join(root, 'test', 'e2e', 'fixtures', 'tiny.yaml');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [sei, ...args], { cwd: root, maxBuffer: 1 << 24, env: { ...process.env, SEI_STAGE_PATH: '' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Every result.json of a store, by artifact key. */
function results(store: string): Map<string, { metrics: Record<string, unknown> }> {
  const out = new Map<string, { metrics: Record<string, unknown> }>();
  const objects = join(store, 'objects');
  for (const shard of readdirSync(objects)) {
    for (const key of readdirSync(join(objects, shard))) {
      const file = join(objects, shard, key, 'result.json');
      if (existsSync(file)) out.set(key, JSON.parse(readFileSync(file, 'utf8')));
    }
  }
  return out;
}

/** Every artifact file but result.json (compared by its metrics), by key and path. */
function artifactFiles(store: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else if (e.name !== 'result.json') out.set(r, readFileSync(join(dir, e.name)));
    }
  };
  walk(join(store, 'objects'), '');
  return out;
}

/** Wall-clock measurements (and file times in a manifest) differ between runs by nature; everything else must not. */
const TIMING_KEYS = new Set(['timeMs', 'trainSeconds', 'seconds', 'mtimeMs']);

/**
 * A parsed JSON artifact; a folder's cell.json without its attempt (the run that made it: run id,
 * times, log) and its manifest (sizes, times and hashes of the folder's files, which are compared
 * one by one here; a JSON file's hash changes with the timings it records).
 */
function withoutAttempt(path: string, bytes: Buffer): unknown {
  const value = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  if (!path.endsWith('cell.json')) return value;
  const { attempt: _attempt, manifest: _manifest, ...rest } = value;
  return rest;
}

function compare(a: unknown, b: unknown, path: string, tolerance: number): void {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.abs(a - b) <= tolerance || (Number.isNaN(a) && Number.isNaN(b)), `${path}: ${a} vs ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: lengths differ`);
    a.forEach((v, i) => compare(v, b[i], `${path}[${i}]`, tolerance));
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a).filter((k) => !TIMING_KEYS.has(k));
    assert.deepEqual(keys.sort(), Object.keys(b).filter((k) => !TIMING_KEYS.has(k)).sort(), `${path}: keys differ`);
    for (const k of keys) compare((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, tolerance);
  } else {
    assert.deepEqual(a, b, path);
  }
}

describe('e2e: the I-SPLIT pipeline through sei run', function () {
  this.timeout(600_000);
  const stores: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'sei-isplit-e2e-'));
  after(() => { for (const s of [...stores, scratch]) rmSync(s, { recursive: true, force: true }); });

  it('runs every stage, twice from empty stores, with the same metrics and artifacts to the bit (wasm)', async () => {
    const stores2 = [join(scratch, 'a'), join(scratch, 'b')];
    stores.push(...stores2);
    for (const store of stores2) {
      const r = await run(['run', tiny, '--store', store, '--backend', 'wasm', '--no-progress', '-j', '2']);
      assert.equal(r.code, 0, `sei run failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /10\/10 cells done/);
    }
    const [a, b] = stores2.map(results);
    assert.equal(a!.size, 10);
    assert.deepEqual([...a!.keys()].sort(), [...b!.keys()].sort(), 'same cells, same cache keys');
    for (const [key, result] of a!) compare(result.metrics, b!.get(key)!.metrics, key.slice(0, 12), 0);
    // Weights, correctness vectors, prepared images: byte for byte.
    const [fa, fb] = stores2.map(artifactFiles);
    assert.deepEqual([...fa!.keys()].sort(), [...fb!.keys()].sort(), 'same artifact files');
    for (const [path, bytes] of fa!) {
      // JSON files may record timings (a training history's seconds): the rest of them must match.
      if (path.endsWith('.json')) compare(withoutAttempt(path, bytes), withoutAttempt(path, fb!.get(path)!), path, 0);
      else assert.ok(bytes.equals(fb!.get(path)!), `${path} differs between the two runs`);
    }

    const all = [...a!.values()].map((r) => r.metrics);
    const validation = all.find((m) => 'spearman' in m && 'calibration' in m) as Record<string, any>;
    assert.deepEqual(validation.cuts, ['block1_pool', 'block2_pool', 'block3_pool']);
    assert.equal(validation.accuracy.length, 3);
    assert.ok(validation.spearman.value >= -1 && validation.spearman.value <= 1 || Number.isNaN(validation.spearman.value));
    const importance = all.find((m) => 'log10Cui' in m) as Record<string, any>;
    assert.equal(importance.cutPoints.length, 18);
    assert.equal(importance.cui.length, 18);
    assert.ok(importance.cui.every((v: number) => v >= 0));
    assert.deepEqual(importance.cdeCandidates, ['block1_pool', 'block2_pool', 'block3_pool', 'block4_pool', 'block5_pool']);
    assert.equal(importance.perClass.length, 3);
    const evaluation = all.find((m) => m.cut === 'block2_pool' && 'quantizedAccuracy' in m) as Record<string, any>;
    // block2_pool at width 1/16: 8×8×8 raw; ratio 2 → f = 4, code 2·4 × 2 × 2.
    assert.equal(evaluation.payload.rawElements, 8 * 8 * 8);
    assert.equal(evaluation.payload.bottleneckElements, 8 * 2 * 2);
    assert.deepEqual(evaluation.payload.bytes.bottleneck, { fp32: 128, fp16: 64, int8: 36 });
    assert.ok(evaluation.device.flops > 0 && evaluation.server.flops > 0);
  });

  it('runs ResNet-50 fine-tuned from a pretrained tfjs model (predicted-class importance, classifier regime)', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { buildNetwork, resolveModelSpec } = await import('../../src/ml/models/index.js');
    const { saveNetwork } = await import('../../src/ml/io.js');
    await tf.setBackend('cpu');
    const pretrained = join(scratch, 'pretrained');
    const net = buildNetwork(resolveModelSpec({ arch: 'resnet50', width: 0.0625, inputSize: 32, inputChannels: 3, classes: 3 }), 7);
    try { await saveNetwork(pretrained, net); } finally { net.dispose(); }
    const store = join(scratch, 'resnet');
    stores.push(store);
    const r = await run(['run', join(root, 'test', 'e2e', 'fixtures', 'tiny-resnet.yaml'), '--store', store, '--backend', 'wasm', '--no-progress',
      '--set', `stages.base.params.model.pretrained=${join(pretrained, 'model.json')}`]);
    assert.equal(r.code, 0, `sei run failed:\n${r.stdout}\n${r.stderr}`);
    const all = [...results(store).values()].map((x) => x.metrics as Record<string, any>);
    const base = all.find((m) => 'testAccuracy' in m)!;
    assert.equal(base.arch, 'resnet50');
    assert.equal(base.pretrained.mapping, 'name');
    const importance = all.find((m) => 'log10Cui' in m)!;
    assert.equal(importance.target, 'predicted');
    assert.equal(importance.cutPoints[0], 'conv1');
    assert.ok(importance.cui.every((v: number) => Number.isFinite(v) && v >= 0));
    const validation = all.find((m) => 'calibration' in m)!;
    assert.deepEqual(validation.cuts, ['maxpool', 'layer2_1', 'layer3_1']);
  });

  it('refuses an unknown cut point and a zero-channel ratio before anything runs', async () => {
    const store = join(scratch, 'bad');
    let r = await run(['run', tiny, '--store', store, '--set', 'stages.retrain.sweep.grid.cut=[block1_pool, block9_pool, block3_pool]']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /unknown cut point 'block9_pool' for vgg16; valid cut points: block1_conv1/);
    assert.equal(existsSync(join(store, 'objects')), false, 'nothing was written');
    // block1_pool at width 1/16 has 4 channels: round(4/9) = 0.
    r = await run(['plan', tiny, '--store', store, '--set', 'stages.retrain.params.bottleneck.ratio=9']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /bottleneck.ratio 9 leaves the encoder with 0 channels at block1_pool/);
  });

  it('refuses an empty class subset and an unknown class at plan time, before anything runs', async () => {
    const empty = join(scratch, 'empty-subset.yaml');
    writeFileSync(empty, readFileSync(tiny, 'utf8').replace('synthetic: { classes: 3', 'classes: { names: [] }\n        synthetic: { classes: 3'));
    let r = await run(['plan', empty, '--store', join(scratch, 'bad2')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /stages\.data\.params\.dataset\.classes\.names: an empty class subset; give at least two class names/);
    const unknown = join(scratch, 'unknown-subset.yaml');
    writeFileSync(unknown, readFileSync(tiny, 'utf8').replace('synthetic: { classes: 3', 'classes: { names: [disk, nosuchclass] }\n        synthetic: { classes: 3'));
    const store = join(scratch, 'bad3');
    r = await run(['run', unknown, '--store', store, '--no-progress']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /stages\.data\.params\.dataset\.classes\.names: unknown class "nosuchclass" \(classes: disk, square, triangle\)/);
    assert.equal(existsSync(store), false);
  });
});
