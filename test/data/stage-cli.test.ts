// The prepare-dataset stage, the shipped dataset configs and the `sei dataset` commands (run as
// real processes).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { checkSchema } from '../../src/config/schema.js';
import { openPrepared } from '../../src/data/prepared.js';
import { checkSpec, DatasetSpecSchema, type DatasetSpec } from '../../src/data/spec.js';
import stage from '../../src/stages/prepare-dataset/index.js';
import type { StageContext } from '../../src/stages/types.js';
import { scratch } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const run = promisify(execFile);

async function sei(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'sei.js'), ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function context(params: { dataset: DatasetSpec }, outDir: string, log: string[]): StageContext<{ dataset: DatasetSpec }> {
  return {
    params, inputs: {}, outDir, cacheDir: scratch(), settings: {},
    log: (m) => log.push(m), progress: () => {}, setProvenance: () => {}, signal: new AbortController().signal,
  };
}

describe('prepare-dataset stage, configs and CLI', function () {
  this.timeout(60_000);

  it('every shipped dataset config is valid', () => {
    const dir = join(root, 'configs', 'datasets');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(files.sort(), ['chest-xray.yaml', 'fashion-mnist.yaml', 'notmnist-large.yaml', 'notmnist-small.yaml', 'synthetic-demo.yaml', 'tiny-imagenet-200.yaml']);
    for (const f of files) {
      const doc = parse(readFileSync(join(dir, f), 'utf8')) as DatasetSpec;
      assert.deepEqual(checkSchema(DatasetSpecSchema, doc, true), [], f);
      assert.deepEqual(checkSpec(doc), [], f);
    }
  });

  it('runs: writes the tensors and returns the metrics of ARCHITECTURE.md', async () => {
    const out = scratch();
    const log: string[] = [];
    const params = { dataset: { kind: 'synthetic', resolution: 16, channels: 3, synthetic: { classes: 3, perClass: 10, testPerClass: 4, seed: 0 }, split: { valFraction: 0.2 } } as DatasetSpec };
    assert.deepEqual(checkSchema(stage.params, params, true), []);
    const { metrics } = await stage.run(context(params, out, log));
    assert.deepEqual(metrics.classes, ['disk', 'square', 'triangle']);
    assert.equal(metrics.height, 16);
    assert.deepEqual(metrics.splits, { train: { count: 24, perClass: [8, 8, 8] }, val: { count: 6, perClass: [2, 2, 2] }, test: { count: 12, perClass: [4, 4, 4] } });
    assert.deepEqual(metrics.skipped, []);
    assert.equal(metrics.skippedCount, 0);
    assert.match(String(metrics.splitProtocol), /val: stratified 20% of train/);
    assert.ok(log.some((l) => /synthetic: 3 classes/.test(l)));
    openPrepared(out).close();
  });

  it('stops cleanly when cancelled mid-way', async () => {
    const { prepareDataset } = await import('../../src/data/prepare.js');
    const ac = new AbortController();
    const spec: DatasetSpec = { kind: 'synthetic', resolution: 32, channels: 3, synthetic: { classes: 4, perClass: 3000, seed: 0 } };
    let events = 0;
    await assert.rejects(
      prepareDataset(spec, scratch(), { signal: ac.signal, progress: () => { if (++events === 1) ac.abort(); } }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
  });

  it('declares the dataset folder and WordNet as external inputs; validates paths and kinds at plan time', () => {
    const ctx = { pipelineDir: root, projectRoot: root };
    const spec: DatasetSpec = { kind: 'tiny-imagenet-200', path: 'data/tiny', resolution: 64, channels: 3, classes: { wordnetAncestor: 'dog' } };
    assert.deepEqual(stage.externalInputs!({ dataset: spec }, ctx), [resolve('data/tiny'), '/usr/share/wordnet/data.noun']);
    assert.deepEqual(stage.externalInputs!({ dataset: { kind: 'synthetic', resolution: 32, channels: 3 } }, ctx), []);
    // A missing folder is the planner's concern (an external input): not a validation error.
    assert.deepEqual(stage.validate!({ dataset: { ...spec, path: '/no/such/folder' } }, ctx), []);
    assert.ok(stage.validate!({ dataset: { kind: 'synthetic', path: '/x', resolution: 32, channels: 3 } }, ctx).some((e) => /a synthetic dataset has no path/.test(e)));
    assert.ok(stage.validate!({ dataset: { kind: 'idx', resolution: 32, channels: 3 } }, ctx).some((e) => /dataset.path: required for kind "idx"/.test(e)));
    assert.notDeepEqual(checkSchema(stage.params, { dataset: { kind: 'mnist', resolution: 32, channels: 3 } }, true), []);
    assert.notDeepEqual(checkSchema(stage.params, { dataset: { kind: 'idx', path: '/x', resolution: 32, channels: 2 } }, true), []);
    assert.notDeepEqual(checkSchema(stage.params, { dataset: { kind: 'idx', path: '/x', resolution: 32, channels: 3, colour: true } }, true), []);
  });

  it('sei dataset fixture + inspect --json: counts, skipped files with reasons, image statistics', async () => {
    const out = join(scratch(), 'chest_xray');
    const f = await sei('dataset', 'fixture', 'chest-xray', out, '--per-class', '4', '--seed', '3');
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /wrote chest-xray fixture .*: \d+ images, 4 traps/);
    const again = await sei('dataset', 'fixture', 'chest-xray', out);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists and is not empty/);
    const r = await sei('dataset', 'inspect', 'chest-xray', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.classes, ['NORMAL', 'PNEUMONIA']);
    assert.deepEqual(report.splits.train.perClass, [5, 8]);
    assert.equal(report.skippedCount, 4);
    assert.ok(report.skipped.some((s: { reason: string }) => /truncated or corrupt image/.test(s.reason)));
    assert.equal(report.images.formats.png, 1);
    assert.ok(report.images.width.min >= 60 && report.images.width.max <= 160);
    assert.ok(report.images.channels['1'] > 0 && report.images.channels['4'] === 1);
    const text = await sei('dataset', 'inspect', 'chest-xray', out);
    assert.match(text.stdout, /skipped: 4 files/);
    assert.match(text.stdout, /NORMAL\s+5\s+2\s+2/);
  });

  it('inspect reports every trap of every fixture kind, and the official splits', async () => {
    const { inspectDataset } = await import('../../src/data/inspect.js');
    const { fixture } = await import('./helpers.js');
    for (const kind of ['tiny-imagenet-200', 'notmnist', 'chest-xray', 'idx', 'imagefolder'] as const) {
      const fx = await fixture(kind, { perClass: 3 });
      const r = await inspectDataset(kind, fx.root);
      assert.equal(r.skippedCount, fx.traps.length, `${kind}: ${JSON.stringify(r.skipped)}`);
      for (const t of fx.traps) assert.ok(r.skipped.some((s) => s.file === t.file && s.reason.startsWith(t.expect)), `${kind}: ${t.file}`);
      const counted = Object.values(r.splits).reduce((n, s) => n + s!.count, 0);
      assert.equal(counted, fx.images, kind);
      assert.equal(r.images.count, fx.images, kind);
    }
  });

  it('sei dataset: exit code 2 and a clear message for bad input', async () => {
    const d = scratch();
    const missing = await sei('dataset', 'inspect', 'notmnist', join(d, 'nope'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /does not exist \(expected the unpacked notmnist folder/);
    const kind = await sei('dataset', 'inspect', 'mnist', d);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /unknown dataset kind "mnist"/);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) writeFileSync(join(d, f), Buffer.alloc(16));
    const idx = await sei('dataset', 'inspect', 'idx', d);
    assert.equal(idx.code, 2);
    assert.match(idx.stderr, /IDX magic 0x00000000, expected 0x00000803/);
    const synth = await sei('dataset', 'fixture', 'synthetic', join(d, 'x'));
    assert.equal(synth.code, 2);
  });
});
