// Folders that are not the dataset get one clear error naming what was expected where; files
// that are not images of the dataset get a counted skip. Also odd-but-valid images (CMYK, 16-bit).
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { isUsageError } from '../../src/util/errors.js';
import { decodeFile } from '../../src/data/decode.js';
import { drawPattern } from '../../src/data/draw.js';
import { listDataset } from '../../src/data/loaders/index.js';
import { prepareDataset } from '../../src/data/prepare.js';
import type { DatasetKind, DatasetSpec } from '../../src/data/spec.js';
import { fixture, scratch } from './helpers.js';

function spec(kind: DatasetKind, path: string): DatasetSpec {
  return { kind, path, resolution: 32, channels: 3 };
}

function rejects(kind: DatasetKind, path: string, pattern: RegExp): void {
  assert.throws(() => listDataset(spec(kind, path)), (e: unknown) => {
    assert.ok(isUsageError(e), `expected a UsageError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

describe('dataset bad input', function () {
  this.timeout(60_000);

  it('a missing path or a file instead of a folder', async () => {
    const d = scratch();
    for (const kind of ['tiny-imagenet-200', 'notmnist', 'chest-xray', 'idx', 'imagefolder'] as const) {
      rejects(kind, join(d, 'nope'), new RegExp(`${join(d, 'nope')} does not exist \\(expected the unpacked ${kind}`));
    }
    writeFileSync(join(d, 'file.zip'), 'PK');
    rejects('notmnist', join(d, 'file.zip'), /is a file, not a folder/);
  });

  it('the parent, a sub-folder or a sibling of the dataset folder', async () => {
    const tiny = await fixture('tiny-imagenet-200', { perClass: 2, traps: false });
    rejects('tiny-imagenet-200', join(tiny.root, '..'), /is not the tiny-imagenet-200 folder but holds one: pass .*tiny-imagenet-200 instead/);
    rejects('tiny-imagenet-200', join(tiny.root, 'train'), /is a sub-folder of the tiny-imagenet-200 dataset: pass its parent/);
    const nm = await fixture('notmnist', { perClass: 2, traps: false });
    rejects('notmnist', join(nm.root, '..'), /is not a notmnist folder but holds one: pass .*notMNIST_small instead/);
    rejects('notmnist', join(nm.root, 'A'), /notMNIST_small\/A is a sub-folder of a notmnist dataset: pass its parent .*notMNIST_small instead/);
    const cx = await fixture('chest-xray', { perClass: 2, traps: false });
    rejects('chest-xray', join(cx.root, 'train'), /chest_xray\/train is a sub-folder of a chest-xray dataset: pass its parent/);
    rejects('chest-xray', join(cx.root, 'train', 'NORMAL'), /does not look like a chest-xray dataset: expected train\/, val\/ and test\/ .*found no folders/);
    // A sibling: another dataset's folder passed for this kind.
    rejects('chest-xray', nm.root, /does not look like a chest-xray dataset/);
    rejects('tiny-imagenet-200', cx.root, /does not look like tiny-imagenet-200: missing wnids.txt/);
  });

  it('a nested copy of the dataset folder (archive unpacked one level deep) is followed', async () => {
    const d = scratch();
    const nm = await fixture('notmnist', { perClass: 2, traps: false });
    const outer = join(d, 'notMNIST_small');
    mkdirSync(outer);
    // Move the fixture one level down: outer/notMNIST_small/A …
    const { renameSync } = await import('node:fs');
    renameSync(nm.root, join(outer, 'notMNIST_small'));
    const l = listDataset(spec('notmnist', outer));
    assert.equal(l.splits.train.length, 20);
    assert.match(l.notes.join(), /nested folder notMNIST_small/);
  });

  it('empty or missing class folders, a class folder without images', async () => {
    const nm = await fixture('notmnist', { perClass: 2, traps: false });
    rmSync(join(nm.root, 'C'), { recursive: true });
    rejects('notmnist', nm.root, /missing class folder C\//);
    mkdirSync(join(nm.root, 'C'));
    writeFileSync(join(nm.root, 'C', '.DS_Store'), 'x');
    rejects('notmnist', nm.root, /class folder .*\/C holds no images/);
    const tiny = await fixture('tiny-imagenet-200', { perClass: 2, traps: false });
    rmSync(join(tiny.root, 'train', 'n02085620', 'images'), { recursive: true });
    rejects('tiny-imagenet-200', tiny.root, /missing train\/n02085620\/images\//);
    const folder = scratch();
    mkdirSync(join(folder, 'only'), { recursive: true });
    rejects('imagefolder', folder, /class folder .*only holds no images/);
  });

  it('tiny-imagenet annotations: a missing file is a counted skip, a malformed line an error with its line', async () => {
    const tiny = await fixture('tiny-imagenet-200', { perClass: 2, traps: false });
    const ann = join(tiny.root, 'val', 'val_annotations.txt');
    appendFileSync(ann, 'val_404.JPEG\tn02085620\t0\t0\t1\t1\nval_0.JPEG\tn09999999\t0\t0\t1\t1\n');
    const l = listDataset(spec('tiny-imagenet-200', tiny.root));
    assert.deepEqual(l.skipped.map((s) => s.reason.replace(/ \(.*\)$/, '')), ['annotated file missing', 'annotation names n09999999, not in wnids.txt']);
    appendFileSync(ann, 'garbage-without-tabs\n');
    const lines = readFileSync(ann, 'utf8').trimEnd().split('\n').length;
    rejects('tiny-imagenet-200', tiny.root, new RegExp(`val_annotations.txt:${lines}: expected "<file> TAB <wnid>`));
    writeFileSync(join(tiny.root, 'wnids.txt'), 'n01443537\ndog\n');
    rejects('tiny-imagenet-200', tiny.root, /wnids.txt:2: "dog" is not a WordNet id/);
  });

  it('IDX: wrong magic, counts that disagree with the size, label count mismatch, missing file', async () => {
    const fx = await fixture('idx', { perClass: 2, traps: false });
    const imgs = join(fx.root, 'train-images-idx3-ubyte.gz');
    const good = gunzipSync(readFileSync(imgs));
    const bad = Buffer.from(good); bad.writeUInt32BE(0x801, 0);
    writeFileSync(imgs, gzipSync(bad));
    rejects('idx', fx.root, /train-images-idx3-ubyte.gz: IDX magic 0x00000801, expected 0x00000803/);
    const short = Buffer.from(good.subarray(0, good.length - 100));
    writeFileSync(imgs, gzipSync(short));
    rejects('idx', fx.root, /header says 20 images of 28×28 \(15696 bytes\), file holds 15596 bytes/);
    const more = Buffer.from(good); more.writeUInt32BE(19, 4);
    writeFileSync(imgs, gzipSync(more.subarray(0, 16 + 19 * 784)));
    rejects('idx', fx.root, /19 images in .*: 20 labels|20 labels for 19 images/);
    writeFileSync(imgs, good.subarray(0, 100)); // not gzip at all, truncated raw
    rejects('idx', fx.root, /header says 20 images/);
    rmSync(imgs);
    rejects('idx', fx.root, /missing train-images-idx3-ubyte\[\.gz\]/);
    const empty = scratch();
    rejects('idx', empty, /holds no IDX files: expected train-images-idx3-ubyte/);
  });

  it('class subsets: unknown names, too many random classes and an empty result are errors', async () => {
    const fx = await fixture('imagefolder', { perClass: 3, traps: false });
    const base = { ...spec('imagefolder', fx.root), split: { testFraction: 0.34 } };
    await assert.rejects(prepareDataset({ ...base, classes: { names: ['circles', 'hexagons'] } }, scratch()), /unknown class "hexagons" \(classes: circles, squares, stripes\)/);
    await assert.rejects(prepareDataset({ ...base, classes: { random: 5, seed: 1 } }, scratch()), /5 classes asked, the dataset has 3/);
    await assert.rejects(prepareDataset({ ...base, classes: { names: [7] } }, scratch()), /class index 7 is out of range/);
    await assert.rejects(prepareDataset({ ...base, classes: { wordnetAncestor: 'dog' } }, scratch()), /needs classes named by WordNet ids/);
  });

  it('a split with no readable image left is an error, not an empty tensor', async () => {
    const d = scratch();
    for (const c of ['a', 'b']) {
      mkdirSync(join(d, c));
      writeFileSync(join(d, c, 'x.png'), '');
      writeFileSync(join(d, c, 'y.png'), 'not a png');
    }
    await assert.rejects(prepareDataset({ ...spec('imagefolder', d), split: { testFraction: 0.5 } }, scratch()), /no readable image left in the train split/);
  });

  it('CMYK JPEGs and 16-bit PNGs decode to the colours they hold', async () => {
    const d = scratch();
    const rgb = drawPattern(0, 40, 40, 3, 5, 0);
    const raw = { raw: { width: 40, height: 40, channels: 3 as const } };
    await sharp(Buffer.from(rgb), raw).toColourspace('cmyk').jpeg({ quality: 95 }).toFile(join(d, 'cmyk.jpg'));
    await sharp(Buffer.from(rgb), raw).toColourspace('rgb16').png().toFile(join(d, 'deep.png'));
    const t = { width: 40, height: 40, channels: 3 as const, fit: 'fill' as const };
    for (const [file, tolerance] of [['cmyk.jpg', 20], ['deep.png', 1]] as const) {
      const px = await decodeFile(join(d, file), t);
      let diff = 0;
      for (let i = 0; i < px.length; i++) diff += Math.abs(px[i]! - rgb[i]!);
      assert.ok(diff / px.length <= tolerance, `${file}: mean difference ${diff / px.length}`);
    }
    const gray = await decodeFile(join(d, 'deep.png'), { ...t, channels: 1 });
    assert.equal(gray.length, 1600);
  });

  it('applies the EXIF orientation of photos', async () => {
    const d = scratch();
    const px = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) px[(y * 40 + x) * 3] = 255; // left half red
    await sharp(px, { raw: { width: 40, height: 20, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(join(d, 'rotated.jpg'));
    const out = await decodeFile(join(d, 'rotated.jpg'), { width: 2, height: 2, channels: 3, fit: 'fill' });
    // Orientation 6 turns the picture a quarter clockwise: the red half is on top.
    assert.ok(out[0]! > 200 && out[3]! > 200 && out[6]! < 50 && out[9]! < 50, `${[...out]}`);
  });
});
