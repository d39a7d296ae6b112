// WordNet 3.0 (classic database files, as Debian's wordnet-base installs them) for class subsets
// "every class under an ancestor": ImageNet ids are WordNet noun offsets (n + 8 digits), and a
// class is under an ancestor when the ancestor is on one of its hypernym paths (@ and @i pointers).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';

export const DEFAULT_WORDNET_DIR = '/usr/share/wordnet';

export interface Synset { offset: string; words: string[]; gloss: string; hypernyms: string[] }

export interface WordNet {
  dir: string;
  synset(offset: string): Synset | undefined;
  /** Synset offsets of a noun lemma, most frequent sense first. */
  senses(lemma: string): string[];
}

/** Folder holding data.noun: $WNSEARCHDIR, else /usr/share/wordnet. */
export function wordnetDir(): string {
  return process.env.WNSEARCHDIR || DEFAULT_WORDNET_DIR;
}

export function wordnetDataFile(dir = wordnetDir()): string {
  return join(dir, 'data.noun');
}

const cache = new Map<string, WordNet>();

export function loadWordNet(dir = wordnetDir()): WordNet {
  const hit = cache.get(dir);
  if (hit) return hit;
  const dataFile = join(dir, 'data.noun');
  const indexFile = join(dir, 'index.noun');
  if (!existsSync(dataFile) || !existsSync(indexFile)) {
    throw new UsageError(
      `WordNet 3.0 noun database not found (looked for ${dataFile} and ${indexFile}): ` +
        'install Debian\'s wordnet-base package (apt-get install wordnet-base) or set WNSEARCHDIR to a folder holding data.noun and index.noun',
    );
  }
  const synsets = new Map<string, Synset>();
  for (const line of readFileSync(dataFile, 'latin1').split('\n')) {
    if (line === '' || line.startsWith(' ')) continue; // license header lines start with spaces
    const bar = line.indexOf(' | ');
    const fields = (bar >= 0 ? line.slice(0, bar) : line).trim().split(' ');
    // offset lex_filenum ss_type w_cnt(hex) [word lex_id]×w_cnt p_cnt [symbol offset pos source/target]×p_cnt
    const offset = fields[0]!;
    const wCnt = parseInt(fields[3]!, 16);
    const words: string[] = [];
    for (let i = 0; i < wCnt; i++) words.push(fields[4 + 2 * i]!);
    let at = 4 + 2 * wCnt;
    const pCnt = parseInt(fields[at]!, 10);
    at += 1;
    const hypernyms: string[] = [];
    for (let i = 0; i < pCnt; i++, at += 4) {
      const symbol = fields[at];
      if ((symbol === '@' || symbol === '@i') && fields[at + 2] === 'n') hypernyms.push(fields[at + 1]!);
    }
    synsets.set(offset, { offset, words, gloss: bar >= 0 ? line.slice(bar + 3).trim() : '', hypernyms });
  }
  const index = new Map<string, string[]>();
  for (const line of readFileSync(indexFile, 'latin1').split('\n')) {
    if (line === '' || line.startsWith(' ')) continue;
    const f = line.trim().split(' ');
    // lemma pos synset_cnt p_cnt [ptr_symbol]×p_cnt sense_cnt tagsense_cnt synset_offset×synset_cnt
    const synsetCnt = parseInt(f[2]!, 10);
    const pCnt = parseInt(f[3]!, 10);
    index.set(f[0]!, f.slice(4 + pCnt + 2, 4 + pCnt + 2 + synsetCnt));
  }
  const wn: WordNet = { dir, synset: (o) => synsets.get(o), senses: (lemma) => index.get(lemma) ?? [] };
  cache.set(dir, wn);
  return wn;
}

/**
 * The synset an ancestor query names: an offset ("n02084071" or "02084071"), a sense
 * ("dog.n.01": first sense of the noun dog) or a lemma ("dog", "hunting dog": its first sense).
 */
export function resolveAncestor(wn: WordNet, query: string): Synset {
  const q = query.trim();
  const off = /^n?(\d{8})$/.exec(q);
  if (off) {
    const s = wn.synset(off[1]!);
    if (!s) throw new UsageError(`WordNet has no noun synset with offset ${off[1]} (from "${query}")`);
    return s;
  }
  const sense = /^(.+)\.n\.(\d+)$/.exec(q);
  const lemma = (sense ? sense[1]! : q).toLowerCase().replace(/\s+/g, '_');
  const n = sense ? parseInt(sense[2]!, 10) : 1;
  const senses = wn.senses(lemma);
  if (senses.length === 0) throw new UsageError(`"${query}" is not a WordNet noun (expected a noun such as "dog", a sense such as "dog.n.01" or an offset such as "n02084071")`);
  if (n < 1 || n > senses.length) throw new UsageError(`"${query}": the noun "${lemma}" has ${senses.length} sense(s) in WordNet`);
  return wn.synset(senses[n - 1]!)!;
}

/** True when `ancestor` is the synset `offset` itself or on one of its hypernym paths. */
export function isUnder(wn: WordNet, offset: string, ancestor: string): boolean {
  const seen = new Set<string>();
  const stack = [offset];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (o === ancestor) return true;
    if (seen.has(o)) continue;
    seen.add(o);
    for (const h of wn.synset(o)?.hypernyms ?? []) stack.push(h);
  }
  return false;
}

/** The WordNet ids (n + offset) among `wnids` that fall under the ancestor query. */
export function wnidsUnder(wnids: readonly string[], query: string, wn = loadWordNet()): { ancestor: Synset; matches: string[] } {
  const ancestor = resolveAncestor(wn, query);
  const matches = wnids.filter((w) => /^n\d{8}$/.test(w) && isUnder(wn, w.slice(1), ancestor.offset));
  return { ancestor, matches };
}
