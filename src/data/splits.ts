// From a listing to the three splits that are prepared: class subset and re-labelling, the
// official splits where they exist, seeded stratified carving where they don't, per-class caps.
import { UsageError } from '../util/errors.js';
import type { Item, Listing } from './listing.js';
import { deriveSeed, rng, shuffled } from '../util/random.js';
import { splitSettings, type DatasetSpec } from './spec.js';
import { chooseClasses } from './subset.js';

export interface SplitPlan {
  classes: string[];
  classIds: string[];
  splits: { train: Item[]; val?: Item[]; test: Item[] };
  protocol: string;
}

/**
 * Moves a seeded, stratified fraction of `items` out: per class, round(n·fraction) items, at
 * least one when the class has two or more and the fraction is positive. Both parts keep order.
 */
export function stratifiedCarve(items: readonly Item[], fraction: number, seed: number, tag: string): { kept: Item[]; carved: Item[] } {
  if (fraction <= 0) return { kept: items.slice(), carved: [] };
  const byClass = new Map<number, number[]>();
  items.forEach((it, i) => {
    const list = byClass.get(it.label) ?? [];
    list.push(i);
    byClass.set(it.label, list);
  });
  const out = new Set<number>();
  for (const [label, idx] of byClass) {
    let n = Math.round(idx.length * fraction);
    if (idx.length >= 2) n = Math.min(idx.length - 1, Math.max(1, n));
    else n = 0;
    for (const i of shuffled(idx, rng(deriveSeed(seed, tag, label))).slice(0, n)) out.add(i);
  }
  return { kept: items.filter((_, i) => !out.has(i)), carved: items.filter((_, i) => out.has(i)) };
}

/** Keeps at most `max` items a class (a seeded choice), in order. */
export function capPerClass(items: readonly Item[], max: number, seed: number, tag: string): Item[] {
  const byClass = new Map<number, number[]>();
  items.forEach((it, i) => {
    const list = byClass.get(it.label) ?? [];
    list.push(i);
    byClass.set(it.label, list);
  });
  const keep = new Set<number>();
  for (const [label, idx] of byClass) {
    const chosen = idx.length <= max ? idx : shuffled(idx, rng(deriveSeed(seed, tag, label))).slice(0, max);
    for (const i of chosen) keep.add(i);
  }
  return items.filter((_, i) => keep.has(i));
}

function pct(f: number): string {
  return `${+(f * 100).toFixed(2)}%`;
}

export function planSplits(listing: Listing, spec: DatasetSpec): SplitPlan {
  const s = splitSettings(spec);
  const choice = chooseClasses(spec.classes, listing.classes, listing.classIds);
  const relabel = new Map(choice.keep.map((orig, i) => [orig, i]));
  const pick = (items: readonly Item[] | undefined): Item[] | undefined =>
    items?.filter((it) => relabel.has(it.label)).map((it) => (relabel.get(it.label) === it.label ? it : { ...it, label: relabel.get(it.label)! }));
  let train = pick(listing.splits.train)!;
  let val = pick(listing.splits.val);
  let test = pick(listing.splits.test);
  const protocol: string[] = [...listing.notes, `classes: ${choice.description}`];

  if (!test) {
    if (s.testFraction <= 0) throw new UsageError(`dataset kind "${listing.kind}" has no official test split: set dataset.split.testFraction above 0`);
    const c = stratifiedCarve(train, s.testFraction, s.seed, 'test');
    train = c.kept;
    test = c.carved;
    protocol.push(`test: stratified ${pct(s.testFraction)} of the images, seed ${s.seed}`);
  }
  const max = spec.maxPerClass;
  const cap = (items: Item[], tag: string): Item[] => (max === undefined ? items : capPerClass(items, max, s.seed, tag));
  if (s.valFraction > 0) {
    if (val && val.length > 0) {
      train = [...train, ...val];
      protocol.push(`official val split (${val.length} images) merged into train before carving`);
    }
    // Capped before carving, so validation is valFraction of the images kept: carved from the
    // whole pool and then capped, it would be as large as training (and cost as much a pass).
    train = cap(train, 'cap-train');
    const c = stratifiedCarve(train, s.valFraction, s.seed, 'val');
    train = c.kept;
    val = c.carved;
    protocol.push(`val: stratified ${pct(s.valFraction)} of train${max === undefined ? '' : ` after the cap of ${max} a class`}, seed ${s.seed}`);
  } else if (val && val.length > 0) {
    train = cap(train, 'cap-train');
    val = cap(val, 'cap-val');
    protocol.push('val: the official val split');
  } else {
    train = cap(train, 'cap-train');
    val = undefined;
  }
  if (max !== undefined) {
    test = cap(test, 'cap-test');
    protocol.push(`at most ${max} images a class in each split (seeded choice, seed ${s.seed})`);
  }
  if (train.length === 0) throw new UsageError(`dataset: no training images left after the class subset and splits`);
  if (test.length === 0) throw new UsageError(`dataset: no test images left after the class subset and splits`);
  return {
    classes: choice.keep.map((i) => listing.classes[i]!),
    classIds: choice.keep.map((i) => listing.classIds[i]!),
    splits: { train, val, test },
    protocol: protocol.join('; '),
  };
}
