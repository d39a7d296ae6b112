// Seeded splits and subsets: same seed, same result (also across processes: no Math.random, no
// locale ordering); stratified; different seeds differ.
import assert from 'node:assert/strict';
import type { Item, Listing } from '../../src/data/listing.js';
import { capPerClass, planSplits, stratifiedCarve } from '../../src/data/splits.js';
import { chooseClasses } from '../../src/data/subset.js';
import { deriveSeed, rng } from '../../src/util/random.js';
import type { DatasetSpec } from '../../src/data/spec.js';

function items(perClass: number[]): Item[] {
  const out: Item[] = [];
  perClass.forEach((n, label) => { for (let i = 0; i < n; i++) out.push({ label, name: `c${label}/${i}` }); });
  return out;
}

function listing(perClass: number[], test?: number[]): Listing {
  const classes = perClass.map((_, i) => `class${i}`);
  return { kind: 'imagefolder', classes, classIds: classes, skipped: [], notes: [], splits: { train: items(perClass), test: test ? items(test) : undefined } };
}

const names = (xs: Item[]) => xs.map((x) => x.name);

describe('seeded splits and subsets', () => {
  it('the generator is fixed: known first draws for a known seed', () => {
    const r = rng(deriveSeed(0, 'test', 3));
    const draws = [r(), r(), r()].map((x) => Math.floor(x * 1e6));
    // Pinned: a change here silently changes every recorded split.
    assert.deepEqual(draws, [995769, 273752, 313653]);
    assert.equal(deriveSeed(0, 'test', 3), deriveSeed(0, 'test', 3));
    assert.notEqual(deriveSeed(0, 'test', 3), deriveSeed(0, 'test', 4));
    assert.notEqual(deriveSeed(0, 'test', 3), deriveSeed(1, 'test', 3));
  });

  it('stratified carving takes round(n·f) of every class, keeps order and is deterministic', () => {
    const all = items([100, 50, 7, 1]);
    const a = stratifiedCarve(all, 0.2, 5, 'test');
    const b = stratifiedCarve(all, 0.2, 5, 'test');
    const c = stratifiedCarve(all, 0.2, 6, 'test');
    assert.deepEqual(names(a.carved), names(b.carved));
    assert.notDeepEqual(names(a.carved), names(c.carved));
    const count = (xs: Item[], l: number) => xs.filter((x) => x.label === l).length;
    assert.deepEqual([0, 1, 2, 3].map((l) => count(a.carved, l)), [20, 10, 1, 0]);
    assert.equal(a.kept.length + a.carved.length, all.length);
    assert.deepEqual(new Set([...names(a.kept), ...names(a.carved)]).size, all.length);
    // Order kept: each part is a subsequence of the input.
    const pos = new Map(all.map((x, i) => [x.name, i]));
    for (const part of [a.kept, a.carved]) for (let i = 1; i < part.length; i++) assert.ok(pos.get(part[i]!.name)! > pos.get(part[i - 1]!.name)!);
  });

  it('per-class caps are seeded choices', () => {
    const all = items([30, 5]);
    const a = capPerClass(all, 10, 1, 'cap');
    assert.deepEqual(names(a), names(capPerClass(all, 10, 1, 'cap')));
    assert.notDeepEqual(names(a), names(capPerClass(all, 10, 2, 'cap')));
    assert.equal(a.filter((x) => x.label === 0).length, 10);
    assert.equal(a.filter((x) => x.label === 1).length, 5);
  });

  it('random class subsets are seeded, sorted in dataset order and re-labelled 0…k-1', () => {
    const classes = Array.from({ length: 200 }, (_, i) => `n${String(1000000 + i).padStart(8, '0')}`);
    const a = chooseClasses({ random: 10, seed: 4 }, classes, classes);
    assert.deepEqual(a.keep, chooseClasses({ random: 10, seed: 4 }, classes, classes).keep);
    assert.notDeepEqual(a.keep, chooseClasses({ random: 10, seed: 5 }, classes, classes).keep);
    assert.deepEqual(a.keep, [...a.keep].sort((x, y) => x - y));
    assert.equal(new Set(a.keep).size, 10);
    const spec: DatasetSpec = { kind: 'imagefolder', path: '/x', resolution: 8, channels: 1, classes: { random: 2, seed: 9 }, split: { testFraction: 0.25 } };
    const plan = planSplits(listing([8, 8, 8, 8]), spec);
    assert.equal(plan.classes.length, 2);
    assert.deepEqual([...new Set(plan.splits.train.map((x) => x.label))].sort(), [0, 1]);
    const again = planSplits(listing([8, 8, 8, 8]), spec);
    assert.deepEqual(names(plan.splits.test), names(again.splits.test));
  });

  it('names, ids and indices pick the same classes; the dataset order decides labels', () => {
    const l = listing([4, 4, 4]);
    const spec: DatasetSpec = { kind: 'imagefolder', path: '/x', resolution: 8, channels: 1, split: { testFraction: 0.25 } };
    const byName = planSplits(l, { ...spec, classes: { names: ['class2', 'class0'] } });
    const byIndex = planSplits(l, { ...spec, classes: { names: [2, 0] } });
    assert.deepEqual(byName.classes, ['class0', 'class2']);
    assert.deepEqual(names(byName.splits.train), names(byIndex.splits.train));
    assert.deepEqual(byName.splits.train.filter((x) => x.name!.startsWith('c2/')).map((x) => x.label), [1, 1, 1]);
  });

  it('an official test split is used as is; without one testFraction 0 is refused', () => {
    const spec: DatasetSpec = { kind: 'imagefolder', path: '/x', resolution: 8, channels: 1, split: { testFraction: 0.5, valFraction: 0.25, seed: 0 } };
    const official = planSplits(listing([8, 8], [3, 3]), spec);
    assert.equal(official.splits.test.length, 6);
    assert.equal(official.splits.val!.length, 4);
    assert.throws(() => planSplits(listing([8, 8]), { ...spec, split: { testFraction: 0 } }), /has no official test split: set dataset.split.testFraction above 0/);
  });

  it('with a per-class cap, validation is valFraction of the images kept, not of the whole pool', () => {
    // 100 images a class with an official test split, capped at 20: val is 10 % of the 20 kept.
    const spec: DatasetSpec = { kind: 'imagefolder', path: '/x', resolution: 8, channels: 1, maxPerClass: 20, split: { valFraction: 0.1, seed: 0 } };
    const p = planSplits(listing([100, 100, 100], [50, 50, 50]), spec);
    const perClass = (xs: Item[]) => [0, 1, 2].map((c) => xs.filter((x) => x.label === c).length);
    assert.deepEqual(perClass(p.splits.val!), [2, 2, 2]);
    assert.deepEqual(perClass(p.splits.train), [18, 18, 18]);
    assert.deepEqual(perClass(p.splits.test), [20, 20, 20]);
    const train = new Set(names(p.splits.train));
    assert.ok(names(p.splits.val!).every((n) => !train.has(n)), 'val and train are disjoint');
    assert.match(p.protocol, /val: stratified 10% of train after the cap of 20 a class/);
    // Same seed, same split.
    assert.deepEqual(names(planSplits(listing([100, 100, 100], [50, 50, 50]), spec).splits.val!), names(p.splits.val!));
  });
});
