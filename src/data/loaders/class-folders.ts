// Shared by the folder-per-class layouts (notMNIST, Chest X-Ray, image folders).
import { basename, join, relative } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { collectImages, countFiles, isMetadataName, readDirSorted } from '../files.js';
import type { Item, SkipLog } from '../listing.js';

type Entry = ReturnType<typeof readDirSorted>[number];

/** What an entry of a folder of class folders is; 'class' entries are the class folders. */
function entryRole(e: Entry, dir: string, root: string): 'metadata' | 'file' | 'duplicate' | 'class' {
  if (isMetadataName(e.name)) return 'metadata';
  if (!e.isDirectory()) return 'file';
  if (e.name === basename(root) && dir === root) return 'duplicate';
  return 'class';
}

/** The class folder names in `dir` (sorted), from its listing alone: no image is read. */
export function classFolderNames(dir: string, root: string): string[] {
  return readDirSorted(dir).filter((e) => entryRole(e, dir, root) === 'class').map((e) => e.name);
}

/** Class folder name → its image files (sorted), for one folder of class folders. */
export function readClassFolders(
  dir: string,
  root: string,
  skips: SkipLog,
  opts: { expected?: readonly string[]; recursive?: boolean; ignore?: readonly string[] } = {},
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of readDirSorted(dir)) {
    const full = join(dir, e.name);
    const rel = relative(root, full);
    const role = entryRole(e, dir, root);
    if (role === 'metadata') {
      skips.add(rel, e.isDirectory() ? `operating-system metadata folder (${countFiles(full)} files)` : 'operating-system metadata file');
    } else if (opts.ignore?.includes(e.name)) {
      continue;
    } else if (role === 'file') {
      skips.add(rel, 'file outside any class folder');
    } else if (role === 'duplicate') {
      skips.add(rel, `nested duplicate of the dataset folder, ignored (${countFiles(full)} files)`);
    } else if (opts.expected && !opts.expected.includes(e.name)) {
      skips.add(rel, `folder is not one of the classes ${opts.expected.join(', ')} (${countFiles(full)} files)`);
    } else {
      out.set(e.name, collectImages(full, root, skips, { recursive: opts.recursive }));
    }
  }
  for (const name of opts.expected ?? []) {
    if (!out.has(name)) throw new UsageError(`${dir}: missing class folder ${name}/ (expected ${opts.expected!.map((n) => `${n}/`).join(', ')})`);
  }
  for (const [name, files] of out) {
    if (files.length === 0) throw new UsageError(`class folder ${join(dir, name)} holds no images (expected image files such as .png or .jpeg)`);
  }
  return out;
}

/** Items of one split, labelled by position of their class in `classes`. */
export function itemsOf(folders: Map<string, string[]>, classes: readonly string[], root: string): Item[] {
  const items: Item[] = [];
  classes.forEach((cls, label) => {
    for (const file of folders.get(cls) ?? []) items.push({ label, file });
  });
  return items;
}
