// Walking published dataset folders: telling images from the stray files archives carry
// (operating-system metadata, notes, nested copies) and reporting what the folder should hold.
import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { UsageError } from '../util/errors.js';
import type { SkipLog } from './listing.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp']);

const METADATA_NAMES = new Set(['.ds_store', 'thumbs.db', 'desktop.ini', '__macosx', '.spotlight-v100', '.trashes', '.fseventsd', '.apdisk', 'ehthumbs.db']);

/** Operating-system metadata: .DS_Store, Thumbs.db, __MACOSX, AppleDouble "._x" files … */
export function isMetadataName(name: string): boolean {
  return METADATA_NAMES.has(name.toLowerCase()) || name.startsWith('._');
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extensionOf(name));
}

/** Sorting by code units, so every machine lists a folder in the same order. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A folder entry; symbolic links report what they point to (a linked class folder is a folder). */
export interface Entry { name: string; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }

export function readDirSorted(dir: string): Entry[] {
  return readdirSync(dir, { withFileTypes: true })
    .map((e: Dirent): Entry => {
      if (!e.isSymbolicLink()) return e;
      try {
        const st = statSync(join(dir, e.name));
        return { name: e.name, isDirectory: () => st.isDirectory(), isFile: () => st.isFile(), isSymbolicLink: () => true };
      } catch {
        return e; // a broken link: neither file nor folder
      }
    })
    .sort((a, b) => byCodeUnits(a.name, b.name));
}

export function isDir(path: string): boolean {
  try { return statSync(path).isDirectory(); } catch { return false; }
}

export function isFile(path: string): boolean {
  try { return statSync(path).isFile(); } catch { return false; }
}

/** Counts files below a folder (for skip reasons such as "nested copy, 812 files"). */
export function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(join(dir, e.name));
    else n += 1;
  }
  return n;
}

/** The dataset folder must exist and be a folder; the error names the kind and expected layout. */
export function requireDatasetDir(path: string | undefined, kind: string, layout: string): string {
  if (path === undefined) throw new UsageError(`dataset kind "${kind}" needs a path: the unpacked folder holding ${layout}`);
  if (!existsSync(path)) throw new UsageError(`dataset folder ${path} does not exist (expected the unpacked ${kind} folder holding ${layout})`);
  if (!isDir(path)) throw new UsageError(`dataset path ${path} is a file, not a folder (expected the unpacked ${kind} folder holding ${layout})`);
  return path;
}

/**
 * Finds the dataset root when `root` doesn't hold the layout itself: archives often unpack into
 * a nested folder of the same name (chest_xray/chest_xray/…), which is followed. A child that
 * holds the layout under another name means the user passed the parent folder: an error naming it.
 */
export function locateRoot(root: string, hasLayout: (dir: string) => boolean, kind: string, layout: string): { root: string; note?: string } {
  if (hasLayout(root)) return { root };
  const children = readDirSorted(root).filter((e) => e.isDirectory() && !isMetadataName(e.name)).map((e) => e.name);
  const same = children.find((c) => c === basename(root));
  if (same !== undefined && hasLayout(join(root, same))) {
    return { root: join(root, same), note: `the dataset is in the nested folder ${same}/ (archive unpacked one level deep)` };
  }
  if (hasLayout(dirname(root))) {
    throw new UsageError(`${root} is a sub-folder of a ${kind} dataset: pass its parent ${dirname(root)} instead (expected ${layout} directly inside the given folder)`);
  }
  const holding = children.filter((c) => hasLayout(join(root, c)));
  if (holding.length > 0) {
    throw new UsageError(`${root} is not a ${kind} folder but holds one: pass ${join(root, holding[0]!)} instead (expected ${layout} directly inside the given folder)`);
  }
  const seen = children.length > 0 ? `found folders: ${children.slice(0, 8).join(', ')}${children.length > 8 ? ', …' : ''}` : 'found no folders';
  throw new UsageError(`${root} does not look like a ${kind} dataset: expected ${layout} (${seen})`);
}

/**
 * The image files below `dir` (recursively), sorted; everything else is recorded as skipped
 * with its reason. Paths in skip records are relative to `root`.
 */
export function collectImages(dir: string, root: string, skips: SkipLog, opts: { recursive?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readDirSorted(d)) {
      const full = join(d, e.name);
      const rel = relative(root, full);
      if (isMetadataName(e.name)) {
        skips.add(rel, e.isDirectory() ? `operating-system metadata folder (${countFiles(full)} files)` : 'operating-system metadata file');
      } else if (e.isDirectory()) {
        if (opts.recursive) walk(full);
        else skips.add(rel, `unexpected folder inside a class folder (${countFiles(full)} files)`);
      } else if (!e.isFile()) {
        skips.add(rel, e.isSymbolicLink() ? 'broken symbolic link' : 'not a regular file');
      } else if (!isImageName(e.name)) {
        skips.add(rel, `not an image file (${extensionOf(e.name) || 'no extension'})`);
      } else {
        out.push(full);
      }
    }
  };
  walk(dir);
  return out;
}
