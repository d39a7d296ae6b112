// `sei dataset inspect`: what a dataset folder holds, as the loaders see it, with every image
// decoded once to find the unreadable ones and to gather size and channel statistics.
import { probeFile, DecodeError } from './decode.js';
import { listDataset } from './loaders/index.js';
import { itemName, summarizeSkips, type Item, type Skip } from './listing.js';
import type { DatasetKind } from './spec.js';

export interface Range { min: number; max: number; mean: number }

export interface InspectReport {
  kind: string;
  root: string | null;
  classes: string[];
  classIds: string[];
  /** Official splits as published (readable images only). */
  splits: Partial<Record<'train' | 'val' | 'test', { count: number; perClass: number[] }>>;
  images: { count: number; width: Range; height: Range; channels: Record<string, number>; formats: Record<string, number>; depths: Record<string, number>; spaces: Record<string, number> };
  skipped: Skip[];
  skippedCount: number;
  skippedByReason: { reason: string; count: number }[];
  notes: string[];
}

class Stat {
  min = Infinity; max = -Infinity; sum = 0; n = 0;
  add(v: number) { this.min = Math.min(this.min, v); this.max = Math.max(this.max, v); this.sum += v; this.n++; }
  range(): Range { return this.n === 0 ? { min: 0, max: 0, mean: 0 } : { min: this.min, max: this.max, mean: +(this.sum / this.n).toFixed(2) }; }
}

export async function inspectDataset(kind: DatasetKind, path: string | undefined, opts: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<InspectReport> {
  // Resolution and channels don't matter for listing; the synthetic set is drawn at 32×32 RGB.
  const listing = listDataset({ kind, path, resolution: 32, channels: 3 });
  const skipped: Skip[] = [...listing.skipped];
  const width = new Stat();
  const height = new Stat();
  const channels: Record<string, number> = {};
  const formats: Record<string, number> = {};
  const depths: Record<string, number> = {};
  const spaces: Record<string, number> = {};
  const bump = (m: Record<string, number>, k: string) => { m[k] = (m[k] ?? 0) + 1; };
  const splits: InspectReport['splits'] = {};
  const total = (['train', 'val', 'test'] as const).reduce((n, s) => n + (listing.splits[s]?.length ?? 0), 0);
  let done = 0;
  for (const name of ['train', 'val', 'test'] as const) {
    const items: Item[] | undefined = listing.splits[name];
    if (!items) continue;
    const perClass = new Array<number>(listing.classes.length).fill(0);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const it = items[next++]!;
        try {
          if (it.file !== undefined) {
            const p = await probeFile(it.file);
            width.add(p.width); height.add(p.height);
            bump(channels, String(p.channels)); bump(formats, p.format); bump(depths, p.depth); bump(spaces, p.space);
          } else {
            const raw = it.pixels!();
            width.add(raw.width); height.add(raw.height);
            bump(channels, String(raw.channels)); bump(formats, listing.kind === 'idx' ? 'idx' : 'drawn'); bump(depths, 'uchar'); bump(spaces, raw.channels === 1 ? 'b-w' : 'srgb');
          }
          perClass[it.label]! += 1;
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          skipped.push({ file: itemName(it, listing.root), reason: e.reason });
        }
        done++;
        if (done % 200 === 0) opts.onProgress?.(done, total);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
    splits[name] = { count: perClass.reduce((a, b) => a + b, 0), perClass };
  }
  opts.onProgress?.(done, total);
  return {
    kind: listing.kind,
    root: listing.root ?? null,
    classes: listing.classes,
    classIds: listing.classIds,
    splits,
    images: { count: width.n, width: width.range(), height: height.range(), channels, formats, depths, spaces },
    skipped,
    skippedCount: skipped.length,
    skippedByReason: summarizeSkips(skipped),
    notes: listing.notes,
  };
}

/** The report as text for a terminal. */
export function formatInspect(r: InspectReport): string {
  const lines: string[] = [];
  const names = (['train', 'val', 'test'] as const).filter((s) => r.splits[s]);
  lines.push(`${r.kind}${r.root ? ` at ${r.root}` : ''}`);
  lines.push(`classes: ${r.classes.length}`);
  lines.push(`splits: ${names.map((s) => `${s} ${r.splits[s]!.count}`).join(', ')}${r.splits.test ? '' : ' (no official test split: one is carved when preparing)'}`);
  const pad = Math.min(32, Math.max(5, ...r.classes.map((c) => c.length)));
  const idCol = r.classIds.some((id, i) => id !== r.classes[i]);
  if (r.classes.length <= 40) {
    lines.push('');
    lines.push(`  ${'class'.padEnd(pad)}${idCol ? '  id        ' : ''}${names.map((s) => s.padStart(8)).join('')}`);
    r.classes.forEach((c, i) => {
      lines.push(`  ${c.slice(0, pad).padEnd(pad)}${idCol ? `  ${r.classIds[i]!.padEnd(10)}` : ''}${names.map((s) => String(r.splits[s]!.perClass[i]).padStart(8)).join('')}`);
    });
  } else {
    for (const s of names) {
      const pc = r.splits[s]!.perClass;
      lines.push(`  ${s}: ${Math.min(...pc)}–${Math.max(...pc)} images a class`);
    }
  }
  const fmt = (m: Record<string, number>) => Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || '-';
  const i = r.images;
  lines.push('');
  lines.push(`images: ${i.count} readable; width ${i.width.min}–${i.width.max} (mean ${i.width.mean}), height ${i.height.min}–${i.height.max} (mean ${i.height.mean})`);
  lines.push(`  channels: ${fmt(i.channels)}; formats: ${fmt(i.formats)}; sample depth: ${fmt(i.depths)}; colour space: ${fmt(i.spaces)}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push('');
  if (r.skippedCount === 0) {
    lines.push('skipped: none');
  } else {
    lines.push(`skipped: ${r.skippedCount} files`);
    for (const s of r.skippedByReason) lines.push(`  ${String(s.count).padStart(6)}  ${s.reason}`);
    const shown = r.skipped.slice(0, 20);
    for (const s of shown) lines.push(`  ${s.file}: ${s.reason}`);
    if (r.skipped.length > shown.length) lines.push(`  … ${r.skipped.length - shown.length} more (--json lists all)`);
  }
  return lines.join('\n');
}
