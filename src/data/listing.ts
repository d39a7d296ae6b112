import { relative } from 'node:path';

// What a loader finds in a dataset folder, before any pixel is decoded: the classes, the images
// of each official split with their labels, and every file it passed over and why.

/** Decoded pixels already in memory (IDX records, synthetic drawings): uint8, HWC. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface Item {
  /** Label index into Listing.classes. */
  label: number;
  /**
   * Where the image comes from, for skip reports. Image files leave it out (a 500,000-file
   * listing would hold every path twice): their name is the file relative to the dataset folder.
   */
  name?: string;
  /** An image file to decode (absolute path), or ... */
  file?: string;
  /** ... pixels produced on demand. */
  pixels?: () => RawImage;
}

/** The item's name for reports: its own, or its file relative to the dataset folder. */
export function itemName(item: Item, root: string | undefined): string {
  if (item.name !== undefined) return item.name;
  return root !== undefined ? relative(root, item.file!) : item.file!;
}

export interface Skip {
  file: string;
  reason: string;
}

export interface Listing {
  kind: string;
  root?: string;
  /** Display names of the classes, unique. */
  classes: string[];
  /** Stable ids of the classes (WordNet ids, folder names, label indices), same order. */
  classIds: string[];
  /** Official splits as published; `test` is absent when the dataset has none. */
  splits: { train: Item[]; val?: Item[]; test?: Item[] };
  skipped: Skip[];
  /** How the published splits map to ours, for the recorded split protocol. */
  notes: string[];
}

/** Records skipped files; also a short summary of reasons. */
export class SkipLog {
  readonly entries: Skip[] = [];
  add(file: string, reason: string): void {
    this.entries.push({ file, reason });
  }
}

/** Counts per reason, most frequent first: "zero-length file: 3; not an image file (.txt): 1". */
export function summarizeSkips(skips: readonly Skip[]): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const s of skips) {
    const key = s.reason.replace(/\s*\(.*\)$/, '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
}
