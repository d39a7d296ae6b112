// Class subsets: explicit names/ids/indices, a seeded random draw of k classes, or every class
// under a WordNet ancestor. The chosen classes keep the dataset's order and are re-labelled 0…k-1.
import { UsageError } from '../util/errors.js';
import { deriveSeed, rng, shuffled } from '../util/random.js';
import { listClasses } from './loaders/index.js';
import type { ClassSubset, DatasetSpec } from './spec.js';
import { loadWordNet, wnidsUnder } from './wordnet.js';

export interface SubsetChoice {
  /** Original class indices kept, ascending. */
  keep: number[];
  description: string;
}

function preview(list: readonly string[]): string {
  return list.length > 12 ? `${list.slice(0, 12).join(', ')}, … (${list.length} in all)` : list.join(', ');
}

export function chooseClasses(subset: ClassSubset | undefined, classes: readonly string[], classIds: readonly string[]): SubsetChoice {
  const all = classes.map((_, i) => i);
  if (subset === undefined) return { keep: all, description: `all ${classes.length} classes` };
  if ('names' in subset) {
    const keep = new Set<number>();
    const unknown: string[] = [];
    for (const entry of subset.names) {
      let i: number;
      if (typeof entry === 'number') {
        if (entry >= classes.length) throw new UsageError(`dataset.classes.names: class index ${entry} is out of range (the dataset has ${classes.length} classes, 0–${classes.length - 1})`);
        i = entry;
      } else {
        i = classes.indexOf(entry);
        if (i < 0) i = classIds.indexOf(entry);
        if (i < 0) i = classes.findIndex((c) => c.toLowerCase() === entry.toLowerCase());
        if (i < 0) { unknown.push(entry); continue; }
      }
      if (keep.has(i)) throw new UsageError(`dataset.classes.names: class "${classes[i]}" is listed twice`);
      keep.add(i);
    }
    if (unknown.length > 0) {
      const what = unknown.length === 1 ? 'class' : 'classes';
      throw new UsageError(`dataset.classes.names: unknown ${what} ${unknown.map((u) => `"${u}"`).join(', ')} (classes: ${preview(classes)}${classIds.some((id, k) => id !== classes[k]) ? `; ids: ${preview(classIds)}` : ''})`);
    }
    const list = [...keep].sort((a, b) => a - b);
    return { keep: list, description: `${list.length} named classes of ${classes.length}` };
  }
  if ('random' in subset) {
    const seed = subset.seed ?? 0;
    if (subset.random > classes.length) throw new UsageError(`dataset.classes.random: ${subset.random} classes asked, the dataset has ${classes.length}`);
    const keep = shuffled(all, rng(deriveSeed(seed, 'classes'))).slice(0, subset.random).sort((a, b) => a - b);
    return { keep, description: `${subset.random} classes of ${classes.length} drawn at random (seed ${seed})` };
  }
  if (!classIds.some((id) => /^n\d{8}$/.test(id))) {
    throw new UsageError(`dataset.classes.wordnetAncestor needs classes named by WordNet ids (n + 8 digits, as in ImageNet-derived sets); these classes are ${preview(classIds)}`);
  }
  const wn = loadWordNet();
  const queries = Array.isArray(subset.wordnetAncestor) ? subset.wordnetAncestor : [subset.wordnetAncestor];
  const found = new Set<string>();
  const names: string[] = [];
  const hints: string[] = [];
  for (const q of queries) {
    const { ancestor, matches } = wnidsUnder(classIds, q, wn);
    names.push(`n${ancestor.offset} (${ancestor.words.join(', ')})`);
    for (const m of matches) found.add(m);
    // A bare lemma means its first sense; say what the other senses would hold, so that
    // "food" (nutrient: no fruit) vs "food.n.02" (solid food) is a visible choice.
    const lemma = q.trim();
    if (!/^n?\d{8}$/.test(lemma) && !/\.n\.\d+$/.test(lemma)) {
      const key = lemma.toLowerCase().replace(/\s+/g, '_');
      wn.senses(key).forEach((offset, i) => {
        if (i === 0) return;
        const n = wnidsUnder(classIds, offset, wn).matches.length;
        if (n > 0) hints.push(`${key}.n.${String(i + 1).padStart(2, '0')} (${wn.synset(offset)!.words.join(', ')}) would hold ${n}`);
      });
    }
  }
  const what = `"${queries.join('", "')}" = ${names.join(' + ')}`;
  if (found.size === 0) {
    throw new UsageError(`dataset.classes.wordnetAncestor: no class of this dataset is under ${what}${hints.length ? `; other senses: ${hints.join('; ')}` : ''}`);
  }
  const keep = [...found].map((w) => classIds.indexOf(w)).sort((a, b) => a - b);
  return { keep, description: `${keep.length} classes of ${classes.length} under WordNet ${names.join(' + ')}${hints.length ? ` (first sense of a bare noun; other senses: ${hints.join('; ')})` : ''}` };
}

/**
 * Plan-time check of a names or random subset against the dataset's classes (listClasses: no
 * image is decoded); returns error messages. Says nothing when the classes cannot be listed
 * (a missing folder is the planner's to report, a broken layout the loader's when the cell runs)
 * and for WordNet subsets (they need the WordNet database, checked when the cell runs).
 */
export function checkClassSubset(spec: DatasetSpec): string[] {
  const subset = spec.classes;
  if (subset === undefined || 'wordnetAncestor' in subset) return [];
  let list: ReturnType<typeof listClasses>;
  try {
    list = listClasses(spec);
  } catch {
    return []; // an unreadable or broken layout: reported by the loader when the cell runs
  }
  if (list === undefined) return [];
  try {
    chooseClasses(subset, list.classes, list.classIds);
  } catch (e) {
    if (e instanceof UsageError) return [e.message];
    throw e;
  }
  return [];
}
