// Class subsets are checked at plan time: unknown names, an empty or one-class subset and a
// random draw larger than the dataset are config errors before any cell runs. The classes come
// from listClasses (no image decoded), which must agree with what the loaders list.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listClasses, listDataset } from '../../src/data/loaders/index.js';
import type { DatasetKind, DatasetSpec } from '../../src/data/spec.js';
import { checkClassSubset } from '../../src/data/subset.js';
import prepareStage from '../../src/stages/prepare-dataset/index.js';
import { TempProject, expectConfigError } from '../pipeline/helpers.js';
import { fixture } from './helpers.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sei = join(repo, 'bin', 'sei.js');

function cli(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [sei, ...args], { cwd, maxBuffer: 1 << 24, env: { ...process.env, SEI_STAGE_PATH: '' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A one-stage pipeline preparing `dataset` for each class subset of the sweep. */
function pipeline(dataset: string, subsets: string[]): string {
  return [
    'name: subsets',
    'stages:',
    '  data:',
    '    stage: prepare-dataset',
    `    params: { dataset: ${dataset} }`,
    '    sweep:',
    '      grid:',
    '        dataset.classes:',
    ...subsets.map((s) => `          - ${s}`),
  ].join('\n') + '\n';
}

const SYNTHETIC = '{ kind: synthetic, resolution: 8, channels: 3, synthetic: { classes: 4, perClass: 2 } }';
const spec = (kind: DatasetKind, path: string): DatasetSpec => ({ kind, path, resolution: 8, channels: 1 });

describe('data: class subsets checked at plan time', () => {
  let p: TempProject;
  beforeEach(() => { p = new TempProject(); });
  afterEach(() => p.remove());

  it('an unknown class name is a config error at its sweep value, naming it and the valid classes', async () => {
    const f = p.write('pipe.yaml', pipeline(SYNTHETIC, ['{ names: [disk, square] }', '{ names: [disk, nope, zzz] }']));
    const err = await expectConfigError(p.plan('pipe.yaml'),
      `${f}:10:13: stages.data.params.dataset.classes.names: unknown classes "nope", "zzz" (classes: disk, square, triangle, hstripes)`);
    assert.equal(err.problems.length, 1);
    assert.equal(existsSync(p.path('store')), false);
  });

  it('sei run refuses the pipeline before anything runs: exit 2, the message, no store', async () => {
    p.write('pipe.yaml', pipeline(SYNTHETIC, ['{ names: [disk, square] }', '{ names: [disk, circle] }']));
    const r = await cli(p.root, ['run', '--keep-going', '--no-progress', '--store', 'store', 'pipe.yaml']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /pipe\.yaml:10:13: stages\.data\.params\.dataset\.classes\.names: unknown class "circle" \(classes: disk, square, triangle, hstripes\)/);
    assert.equal(existsSync(p.path('store')), false);
    const plan = await cli(p.root, ['plan', 'pipe.yaml']);
    assert.equal(plan.code, 2);
    assert.match(plan.stderr, /unknown class "circle"/);
  });

  it('an empty or one-class subset and a random draw of more classes than there are are clear errors', async () => {
    const f = p.write('pipe.yaml', pipeline(SYNTHETIC, ['{ names: [] }', '{ names: [disk] }', '{ random: 9, seed: 1 }', '{ random: 1 }', '{ random: 4 }']));
    const err = await expectConfigError(p.plan('pipe.yaml'),
      `${f}:9:13: stages.data.params.dataset.classes.names: an empty class subset; give at least two class names (a classifier needs at least two classes)`,
      `${f}:10:13: stages.data.params.dataset.classes.names: a single class ("disk"); give at least two class names`,
      `${f}:11:13: stages.data.params.dataset.classes.random: 9 classes asked, the dataset has 4`,
      `${f}:12:13: stages.data.params.dataset.classes.random: 1 classes; draw at least 2`);
    assert.equal(err.problems.length, 4);
    p.write('pipe.yaml', pipeline(SYNTHETIC, ['{ names: [disk, 3] }', '{ random: 4 }']));
    assert.equal((await p.plan('pipe.yaml')).cells.length, 2);
  });

  it('an image folder: class folder names are listed without reading an image', async () => {
    const fx = await fixture('imagefolder', { perClass: 2 });
    const ds = `{ kind: imagefolder, path: ${JSON.stringify(fx.root)}, resolution: 8, channels: 1 }`;
    const f = p.write('pipe.yaml', pipeline(ds, ['{ names: [circles, squares] }', '{ names: [circles, hexagons] }']));
    await expectConfigError(p.plan('pipe.yaml'),
      `${f}:10:13: stages.data.params.dataset.classes.names: unknown class "hexagons" (classes: circles, squares, stripes)`);
    p.write('pipe.yaml', pipeline(ds, ['{ names: [circles, squares] }', '{ names: [Stripes, squares] }']));
    assert.equal((await p.plan('pipe.yaml')).cells.length, 2);
    assert.deepEqual(listClasses(spec('imagefolder', fx.root)), { classes: ['circles', 'squares', 'stripes'], classIds: ['circles', 'squares', 'stripes'] });
  });

  it('an image folder with split folders: the classes are those of train/, in the loader\'s order', () => {
    const root = p.path('split');
    for (const [s, c] of [['train', 'zebra'], ['train', 'Apple'], ['train', 'mango'], ['test', 'zebra'], ['test', 'mango']]) {
      mkdirSync(join(root, s!, c!), { recursive: true });
      writeFileSync(join(root, s!, c!, 'x.png'), ''); // listed, never read
    }
    mkdirSync(join(root, 'train', '__MACOSX'));
    const s = spec('imagefolder', root);
    const listing = listDataset(s);
    assert.deepEqual(listClasses(s), { classes: listing.classes, classIds: listing.classIds });
    assert.deepEqual(listing.classes, ['Apple', 'mango', 'zebra']);
    assert.deepEqual(checkClassSubset({ ...s, classes: { names: ['apple', 'kiwi', 'zebra'] } }),
      ['dataset.classes.names: unknown class "kiwi" (classes: Apple, mango, zebra)']);
  });

  it('listClasses agrees with the loaders on every kind', async () => {
    for (const kind of ['imagefolder', 'notmnist', 'chest-xray', 'idx', 'tiny-imagenet-200'] as const) {
      const fx = await fixture(kind, { perClass: 2 });
      const s = spec(kind, fx.root);
      const listing = listDataset(s);
      assert.deepEqual(listClasses(s), { classes: listing.classes, classIds: listing.classIds }, kind);
    }
    const idx = await fixture('idx', { perClass: 2 });
    const named = { ...spec('idx', idx.root), labelNames: ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'] };
    const listing = listDataset(named);
    assert.deepEqual(listClasses(named), { classes: listing.classes, classIds: listing.classIds });
    const synthetic: DatasetSpec = { kind: 'synthetic', resolution: 8, channels: 3, synthetic: { classes: 5 } };
    assert.deepEqual(listClasses(synthetic)!.classes, listDataset(synthetic).classes);
  });

  it('tiny-imagenet-200: names from words.txt and WordNet ids both select; an unknown one lists both', async () => {
    const fx = await fixture('tiny-imagenet-200', { perClass: 2 });
    const s = spec('tiny-imagenet-200', fx.root);
    assert.deepEqual(checkClassSubset({ ...s, classes: { names: ['goldfish', 'n01443537'] } }), ['dataset.classes.names: class "goldfish" is listed twice']);
    const [msg] = checkClassSubset({ ...s, classes: { names: ['goldfish', 'unicorn'] } });
    assert.match(msg!, /^dataset\.classes\.names: unknown class "unicorn" \(classes: goldfish, .*; ids: n01443537, /);
  });

  it('a missing dataset folder is left to the planner: no class message, the cells are blocked in sei plan', async () => {
    const missing = p.path('no-such-folder');
    assert.equal(listClasses(spec('imagefolder', missing)), undefined);
    const params = { dataset: { ...spec('imagefolder', missing), classes: { names: ['a', 'b'] } } };
    assert.deepEqual(prepareStage.validate!(params, { pipelineDir: p.root, projectRoot: p.root }), []);
    p.write('pipe.yaml', pipeline(`{ kind: imagefolder, path: ${JSON.stringify(missing)}, resolution: 8, channels: 1 }`, ['{ names: [a, b] }']));
    const r = await cli(p.root, ['plan', 'pipe.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /unknown class/);
  });
});
