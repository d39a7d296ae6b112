// Reading prepared datasets back: lazy positional reads equal the eager file contents; bad
// indices, closed datasets and damaged folders are refused.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { prepareDataset } from '../../src/data/prepare.js';
import { openPrepared } from '../../src/data/prepared.js';
import { rng } from '../../src/util/random.js';
import type { DatasetSpec } from '../../src/data/spec.js';
import { scratch } from './helpers.js';

const spec: DatasetSpec = { kind: 'synthetic', resolution: 16, channels: 3, synthetic: { classes: 5, perClass: 40, testPerClass: 8, seed: 2 }, split: { valFraction: 0.2, seed: 1 } };

describe('prepared datasets', function () {
  this.timeout(30_000);
  let dir: string;
  before(async () => {
    dir = scratch();
    await prepareDataset(spec, dir);
  });

  it('lazy reads equal eager reads for runs, gaps, repeats and reversed orders', () => {
    const ds = openPrepared(dir);
    const b = 16 * 16 * 3;
    for (const name of ['train', 'val', 'test'] as const) {
      const split = ds.splits[name]!;
      const eager = readFileSync(join(dir, `${name}.images.u8`));
      assert.equal(eager.length, split.count * b);
      const raw = readFileSync(join(dir, `${name}.labels.i32`));
      assert.deepEqual([...split.labels], Array.from({ length: raw.length / 4 }, (_, i) => raw.readInt32LE(4 * i)));
      const r = rng(7);
      const lists: number[][] = [
        Array.from({ length: split.count }, (_, i) => i),
        Array.from({ length: split.count }, (_, i) => split.count - 1 - i),
        [3, 4, 5, 5, 5, 9, 0, 1],
        Array.from({ length: 50 }, () => Math.floor(r() * split.count)),
        [],
      ];
      for (const idx of lists) {
        const got = split.readImages(idx);
        const want = Buffer.concat(idx.map((i) => eager.subarray(i * b, (i + 1) * b)));
        assert.equal(Buffer.compare(Buffer.from(got), want), 0, `${name} indices ${idx.slice(0, 8)}`);
      }
      assert.ok(split.readImages(Int32Array.from([1, 2])) instanceof Uint8Array);
    }
    assert.equal(ds.splits.train.count + ds.splits.val!.count, 200);
    assert.deepEqual(ds.classes, ['disk', 'square', 'triangle', 'hstripes', 'vstripes']);
    ds.close();
  });

  it('refuses indices out of range and reads after close', () => {
    const ds = openPrepared(dir);
    assert.throws(() => ds.splits.test.readImages([40]), RangeError);
    assert.throws(() => ds.splits.test.readImages([-1]), RangeError);
    assert.throws(() => ds.splits.test.readImages([1.5]), RangeError);
    ds.close();
    assert.throws(() => ds.splits.test.readImages([0]), /closed/);
  });

  it('refuses a folder that is not prepared and a damaged tensor file', async () => {
    assert.throws(() => openPrepared(scratch()), /is not a prepared dataset \(no meta.json/);
    const d = scratch();
    await prepareDataset({ ...spec, split: undefined }, d);
    truncateSync(join(d, 'test.images.u8'), 100);
    assert.throws(() => openPrepared(d), /test.images.u8: 100 bytes, expected 30720 \(40 images of 768 bytes\)/);
    rmSync(join(d, 'train.labels.i32'));
    assert.throws(() => openPrepared(d), /ENOENT|train.labels/);
  });
});
