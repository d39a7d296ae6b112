// Real data installed by Debian packages (CI installs both): Fashion-MNIST from
// dataset-fashion-mnist and WordNet 3.0 from wordnet-base.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isUsageError } from '../../src/util/errors.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { openPrepared } from '../../src/data/prepared.js';
import { FIXTURE_WNIDS } from '../../src/data/fixtures.js';
import { chooseClasses } from '../../src/data/subset.js';
import { loadWordNet, resolveAncestor, wnidsUnder } from '../../src/data/wordnet.js';
import type { DatasetSpec } from '../../src/data/spec.js';
import { FASHION_DIR, fixture, scratch, WORDNET_INSTALLED } from './helpers.js';
import { existsSync } from 'node:fs';

const FASHION_INSTALLED = existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'));

describe('real Fashion-MNIST (Debian dataset-fashion-mnist)', function () {
  this.timeout(90_000);
  before(function () {
    if (!FASHION_INSTALLED) {
      // eslint-disable-next-line no-console
      console.log(`      skipped: ${FASHION_DIR} not found (install Debian's dataset-fashion-mnist package)`);
      this.skip();
    }
  });

  it('prepares all 70,000 images at 28×28×1 with the published counts and untouched pixels', async () => {
    const out = scratch();
    const spec: DatasetSpec = { kind: 'idx', path: FASHION_DIR, resolution: 28, channels: 1, split: { valFraction: 0.1, seed: 0 } };
    const m = await prepareDataset(spec, out);
    assert.equal(m.skippedCount, 0);
    assert.equal(m.splits.train.count + m.splits.val.count, 60_000);
    assert.equal(m.splits.test.count, 10_000);
    assert.deepEqual(m.splits.test.perClass, new Array(10).fill(1000));
    assert.deepEqual(m.splits.val.perClass, new Array(10).fill(600));
    assert.deepEqual(m.splits.train.perClass, new Array(10).fill(5400));
    const ds = openPrepared(out);
    // The test split is the t10k file in order: compare with the file itself.
    const raw = gunzipSync(readFileSync(join(FASHION_DIR, 't10k-images-idx3-ubyte.gz')));
    const labels = gunzipSync(readFileSync(join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz')));
    for (const i of [0, 1, 4567, 9999]) {
      assert.deepEqual(Buffer.from(ds.splits.test.readImages([i])), raw.subarray(16 + i * 784, 16 + (i + 1) * 784));
      assert.equal(ds.splits.test.labels[i], labels[8 + i]);
    }
    ds.close();
  });

  it('uses the class names of the shipped config and resizes to 32×32 RGB', async () => {
    const out = scratch();
    const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
    const m = await prepareDataset({ kind: 'idx', path: FASHION_DIR, resolution: 32, channels: 3, labelNames: names, maxPerClass: 30, classes: { names: ['Trouser', 'Bag', 'Sneaker'] } }, out);
    assert.deepEqual(m.classes, ['Trouser', 'Sneaker', 'Bag']);
    assert.deepEqual(m.splits.train.perClass, [30, 30, 30]);
    const ds = openPrepared(out);
    const px = ds.splits.train.readImages([0]);
    assert.equal(px.length, 32 * 32 * 3);
    assert.ok(px.some((v) => v > 0));
    ds.close();
  });
});

describe('WordNet ancestors (Debian wordnet-base)', function () {
  this.timeout(30_000);
  before(function () {
    if (!WORDNET_INSTALLED) {
      // eslint-disable-next-line no-console
      console.log('      skipped: /usr/share/wordnet/data.noun not found (install Debian\'s wordnet-base package)');
      this.skip();
    }
  });

  const wnids = FIXTURE_WNIDS.map(([w]) => w);

  it('resolves lemmas, senses and offsets', () => {
    const wn = loadWordNet();
    assert.equal(resolveAncestor(wn, 'dog').offset, '02084071');
    assert.equal(resolveAncestor(wn, 'dog.n.01').offset, '02084071');
    assert.equal(resolveAncestor(wn, 'n02084071').words[0], 'dog');
    assert.equal(resolveAncestor(wn, 'hunting dog').offset, '02087122');
    assert.throws(() => resolveAncestor(wn, 'flibbertigibbet-xyz'), /is not a WordNet noun/);
    assert.throws(() => resolveAncestor(wn, 'dog.n.99'), /has 7 sense\(s\)/);
  });

  it('finds the classes under dog, vehicle, terrier, animal, bird and food', () => {
    assert.deepEqual(wnidsUnder(wnids, 'dog').matches, ['n02085620', 'n02094433', 'n02099601', 'n02106662']);
    assert.deepEqual(wnidsUnder(wnids, 'vehicle').matches, ['n03417042', 'n04285008']);
    assert.deepEqual(wnidsUnder(wnids, 'terrier').matches, ['n02094433']);
    assert.deepEqual(wnidsUnder(wnids, 'animal').matches, ['n01443537', 'n02056570', 'n02085620', 'n02094433', 'n02099601', 'n02106662']);
    assert.deepEqual(wnidsUnder(wnids, 'bird').matches, ['n02056570']);
    assert.deepEqual(wnidsUnder(wnids, 'food').matches, ['n07873807']);
  });

  it('a bare noun means its first sense and names the other senses; a list takes the union', () => {
    // Tiny-ImageNet foods: ice cream, pretzel, mashed potato, cauliflower, bell pepper, orange, banana, pizza.
    const foods = ['n07614500', 'n07695742', 'n07711569', 'n07715103', 'n07720875', 'n07747607', 'n07753592', 'n07873807'];
    const ids = [...foods, 'n01443537', 'n04285008'];
    const first = chooseClasses({ wordnetAncestor: 'food' }, ids, ids);
    assert.deepEqual(first.keep, [0, 1, 2, 7]);
    assert.match(first.description, /under WordNet n00021265 \(food, nutrient\) \(first sense of a bare noun; other senses: food.n.02 \(food, solid_food\) would hold 6\)/);
    const both = chooseClasses({ wordnetAncestor: ['food.n.01', 'food.n.02'] }, ids, ids);
    assert.deepEqual(both.keep, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.throws(() => chooseClasses({ wordnetAncestor: 'furniture' }, ids, ids), /no class of this dataset is under "furniture" = n\d+ \(furniture, piece_of_furniture, article_of_furniture\)/);
  });

  it('prepares a Tiny-ImageNet subset under an ancestor, re-labelled with names kept', async () => {
    const fx = await fixture('tiny-imagenet-200', { perClass: 3, traps: false });
    const m = await prepareDataset({ kind: 'tiny-imagenet-200', path: fx.root, resolution: 32, channels: 3, classes: { wordnetAncestor: 'vehicle' } }, scratch());
    assert.deepEqual(m.classes, ['garbage truck', 'sports car']);
    assert.deepEqual(m.classIds, ['n03417042', 'n04285008']);
    assert.deepEqual(m.splits.train.perClass, [3, 3]);
    assert.match(m.splitProtocol, /2 classes of 9 under WordNet n\d+ \(vehicle\)/);
    await assert.rejects(
      prepareDataset({ kind: 'tiny-imagenet-200', path: fx.root, resolution: 32, channels: 3, classes: { wordnetAncestor: 'cat' } }, scratch()),
      /no class of this dataset is under "cat"/,
    );
  });

  it('names the package when the database is missing', () => {
    assert.throws(() => loadWordNet(scratch()), (e: unknown) => isUsageError(e) && /install Debian's wordnet-base package/.test((e as Error).message));
  });
});
