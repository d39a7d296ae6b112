// Every dataset kind on fixtures in its published layout (real JPEG/PNG/IDX bytes), prepared into
// uint8 tensors: counts, labels, the traps skipped with their reasons, odd images converted.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { prepareDataset, type PrepareMetrics } from '../../src/data/prepare.js';
import { openPrepared } from '../../src/data/prepared.js';
import type { FixtureSummary } from '../../src/data/fixtures.js';
import type { DatasetKind, DatasetSpec } from '../../src/data/spec.js';
import { fixture, scratch } from './helpers.js';

function assertTrapsSkipped(m: PrepareMetrics, fx: FixtureSummary): void {
  for (const t of fx.traps) {
    const hit = m.skipped.find((s) => s.file === t.file);
    assert.ok(hit, `trap ${t.file} not reported as skipped (skipped: ${JSON.stringify(m.skipped)})`);
    assert.ok(hit.reason.startsWith(t.expect), `trap ${t.file}: reason "${hit.reason}", expected "${t.expect}…"`);
  }
  assert.equal(m.skippedCount, fx.traps.length, `skipped ${JSON.stringify(m.skipped)}`);
}

function total(m: PrepareMetrics): number {
  return m.splits.train.count + m.splits.val.count + m.splits.test.count;
}

async function prep(kind: DatasetKind, fx: FixtureSummary, extra: Partial<DatasetSpec> = {}) {
  const out = scratch();
  const spec = { kind, path: fx.root, resolution: 32, channels: 3, ...extra } as DatasetSpec;
  const m = await prepareDataset(spec, out);
  return { m, out, ds: openPrepared(out) };
}

describe('dataset loaders on fixtures', function () {
  this.timeout(60_000);

  it('tiny-imagenet-200: words.txt names, val as test, traps skipped, gray JPEGs converted', async () => {
    const fx = await fixture('tiny-imagenet-200', { perClass: 6 });
    const { m, ds } = await prep('tiny-imagenet-200', fx);
    assert.deepEqual(m.classes, ['goldfish', 'king penguin', 'Chihuahua', 'Yorkshire terrier', 'golden retriever', 'German shepherd', 'garbage truck', 'sports car', 'pizza']);
    assert.equal(m.classIds[2], 'n02085620');
    assertTrapsSkipped(m, fx);
    assert.deepEqual(m.splits.train.perClass, new Array(9).fill(6));
    assert.deepEqual(m.splits.test.perClass, new Array(9).fill(3));
    assert.equal(m.splits.val.count, 0);
    assert.equal(ds.splits.val, undefined);
    assert.match(m.splitProtocol, /test: the official val split/);
    assert.equal(total(m), fx.images);
    // The single-channel JPEG (second image of each class) became three equal channels.
    const px = ds.splits.train.readImages([1]);
    assert.equal(px.length, 32 * 32 * 3);
    for (let i = 0; i < px.length; i += 3) assert.ok(px[i] === px[i + 1] && px[i] === px[i + 2]);
    ds.close();
  });

  it('notmnist: seeded stratified test split recorded, zero-length and truncated PNGs skipped', async () => {
    const fx = await fixture('notmnist', { perClass: 10 });
    const { m, ds } = await prep('notmnist', fx, { channels: 1, resolution: 28, split: { testFraction: 0.2, valFraction: 0.1, seed: 3 } });
    assert.deepEqual(m.classes, ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J']);
    assertTrapsSkipped(m, fx);
    assert.equal(total(m), fx.images);
    assert.match(m.splitProtocol, /test: stratified 20% of the images, seed 3/);
    assert.match(m.splitProtocol, /val: stratified 10% of train, seed 3/);
    // C … J hold 10 readable images each: 2 test, 1 val, 7 train.
    for (let c = 2; c < 10; c++) {
      assert.equal(m.splits.test.perClass[c], 2);
      assert.equal(m.splits.val.perClass[c], 1);
      assert.equal(m.splits.train.perClass[c], 7);
    }
    assert.equal(ds.channels, 1);
    assert.equal(ds.splits.train.readImages([0, 1, 2]).length, 3 * 28 * 28);
    ds.close();
  });

  it('chest-xray: official splits, any image size, CMYK and 16-bit converted, nested copy and metadata skipped', async () => {
    const fx = await fixture('chest-xray', { perClass: 6 });
    const { m, ds } = await prep('chest-xray', fx, { resolution: 48 });
    assert.deepEqual(m.classes, ['NORMAL', 'PNEUMONIA']);
    assertTrapsSkipped(m, fx);
    assert.deepEqual(m.splits.train.perClass, [7, 12]); // 6 + the CMYK one; 12 (truncated one skipped)
    assert.deepEqual(m.splits.val.perClass, [2, 2]);
    assert.deepEqual(m.splits.test.perClass, [3, 7]); // 6 + the 16-bit PNG
    assert.equal(ds.height, 48);
    assert.equal(ds.splits.val!.count, 4);
    ds.close();
    // Carving validation out of train merges the official val split first.
    const carved = await prep('chest-xray', fx, { split: { valFraction: 0.25, seed: 1 } });
    assert.equal(carved.m.splits.train.count + carved.m.splits.val.count, 7 + 12 + 4);
    assert.match(carved.m.splitProtocol, /official val split \(4 images\) merged into train/);
    carved.ds.close();
  });

  it('idx: gzipped and raw files give the same tensors; labels follow the label file', async () => {
    const gz = await fixture('idx', { perClass: 4 });
    const raw = await fixture('idx', { perClass: 4, gzip: false, traps: false });
    const a = await prep('idx', gz, { resolution: 28, channels: 1 });
    const b = await prep('idx', raw, { resolution: 28, channels: 1 });
    assertTrapsSkipped(a.m, gz);
    assert.equal(b.m.skippedCount, 0);
    assert.deepEqual(a.m.splits.train.perClass, new Array(10).fill(4));
    assert.deepEqual(a.m.splits.test.perClass, new Array(10).fill(2));
    assert.deepEqual([...a.ds.splits.train.labels.slice(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const all = Array.from({ length: 40 }, (_, i) => i);
    assert.deepEqual(a.ds.splits.train.readImages(all), b.ds.splits.train.readImages(all));
    // At the same size and one channel the pixels are the file's bytes, untouched.
    const file = readFileSync(join(raw.root, 'train-images-idx3-ubyte'));
    assert.deepEqual(Buffer.from(b.ds.splits.train.readImages([5])), file.subarray(16 + 5 * 784, 16 + 6 * 784));
    a.ds.close(); b.ds.close();
  });

  it('imagefolder: JPEG, PNG and WebP of any size; split folders are honoured', async () => {
    const fx = await fixture('imagefolder', { perClass: 8 });
    const { m, ds } = await prep('imagefolder', fx, { split: { testFraction: 0.25, seed: 0 } });
    assert.deepEqual(m.classes, ['circles', 'squares', 'stripes']);
    assertTrapsSkipped(m, fx);
    assert.equal(total(m), fx.images);
    ds.close();
    // The chest-xray fixture is also a valid split-folder imagefolder.
    const cx = await fixture('chest-xray', { perClass: 4, traps: false });
    const viaFolder = await prep('imagefolder', cx);
    assert.deepEqual(viaFolder.m.classes, ['NORMAL', 'PNEUMONIA']);
    assert.equal(viaFolder.m.splits.val.count, 4);
    assert.match(viaFolder.m.splitProtocol, /official splits from the folders train\/, val\/, test\//);
    viaFolder.ds.close();
  });

  it('synthetic: seeded, drawn at the resolution, same seed same pixels', async () => {
    const spec: DatasetSpec = { kind: 'synthetic', resolution: 24, channels: 3, synthetic: { classes: 12, perClass: 5, testPerClass: 2, seed: 7, noise: 0.1 } };
    const o1 = scratch(); const o2 = scratch(); const o3 = scratch();
    const m = await prepareDataset(spec, o1);
    await prepareDataset(spec, o2);
    await prepareDataset({ ...spec, synthetic: { ...spec.synthetic!, seed: 8 } }, o3);
    assert.equal(m.classes.length, 12);
    assert.equal(m.splits.train.count, 60);
    assert.equal(m.splits.test.count, 24);
    const [d1, d2, d3] = [o1, o2, o3].map(openPrepared);
    const idx = [0, 17, 59];
    assert.deepEqual(d1!.splits.train.readImages(idx), d2!.splits.train.readImages(idx));
    assert.notDeepEqual(d1!.splits.train.readImages(idx), d3!.splits.train.readImages(idx));
    for (const d of [d1, d2, d3]) d!.close();
  });

  it('channels: 1 turns colour images into luma, 3 replicates gray', async () => {
    const fx = await fixture('imagefolder', { perClass: 3, traps: false });
    const gray = await prep('imagefolder', fx, { channels: 1, resolution: 16, split: { testFraction: 0.34, seed: 0 } });
    const rgb = await prep('imagefolder', fx, { channels: 3, resolution: 16, split: { testFraction: 0.34, seed: 0 } });
    const g = gray.ds.splits.train.readImages([0]);
    const c = rgb.ds.splits.train.readImages([0]);
    assert.equal(g.length, 256);
    let diff = 0;
    for (let i = 0; i < 256; i++) diff += Math.abs(g[i]! - (0.299 * c[3 * i]! + 0.587 * c[3 * i + 1]! + 0.114 * c[3 * i + 2]!));
    assert.ok(diff / 256 < 6, `mean |luma - gray| = ${diff / 256}`);
    gray.ds.close(); rgb.ds.close();
  });

  it('tiny-imagenet-200: val sorted into val/<wnid>/images/ folders is read too', async () => {
    const fx = await fixture('tiny-imagenet-200', { perClass: 2, traps: false });
    const ann = readFileSync(join(fx.root, 'val', 'val_annotations.txt'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    for (const [file, wnid] of ann) {
      mkdirSync(join(fx.root, 'val', wnid!, 'images'), { recursive: true });
      renameSync(join(fx.root, 'val', 'images', file!), join(fx.root, 'val', wnid!, 'images', file!));
    }
    rmSync(join(fx.root, 'val', 'images'), { recursive: true });
    const { m, ds } = await prep('tiny-imagenet-200', fx);
    assert.deepEqual(m.splits.test.perClass, new Array(9).fill(2));
    assert.match(m.splitProtocol, /sorted into val\/<wnid>\/ folders/);
    ds.close();
  });

  it('imagefolder: symbolically linked class folders and images are followed; broken links are skipped', async () => {
    const fx = await fixture('imagefolder', { perClass: 3, traps: false });
    const linked = scratch();
    for (const c of readdirSync(fx.root)) symlinkSync(join(fx.root, c), join(linked, c));
    symlinkSync(join(fx.root, 'nowhere.png'), join(fx.root, 'circles', 'broken.png'));
    const { m, ds } = await prep('imagefolder', { ...fx, root: linked }, { split: { testFraction: 0.34 } });
    assert.deepEqual(m.classes, ['circles', 'squares', 'stripes']);
    assert.equal(m.splits.train.count + m.splits.test.count, 9);
    assert.deepEqual(m.skipped, [{ file: 'circles/broken.png', reason: 'broken symbolic link' }]);
    ds.close();
  });
});
