// A generic folder of class folders (root/<class>/*), or the same under split folders
// (root/train/<class>/*, root/test/<class>/*, optionally root/val/<class>/*).
import { join, relative } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { byCodeUnits, countFiles, isDir, isMetadataName, readDirSorted, requireDatasetDir } from '../files.js';
import { SkipLog, type Listing } from '../listing.js';
import { classFolderNames, itemsOf, readClassFolders } from './class-folders.js';

const LAYOUT = 'one folder per class (<class>/<image>), or train/<class>/ and test/<class>/ (optionally val/<class>/)';

function hasSplitFolders(root: string): boolean {
  return isDir(join(root, 'train')) && isDir(join(root, 'test'));
}

/** The class names, in label order, from directory listings alone (no image is read). */
export function imageFolderClasses(root: string): string[] {
  return hasSplitFolders(root) ? classFolderNames(join(root, 'train'), root) : classFolderNames(root, root).sort(byCodeUnits);
}

export function listImageFolder(path: string | undefined): Listing {
  const root = requireDatasetDir(path, 'imagefolder', LAYOUT);
  const skips = new SkipLog();
  const notes: string[] = [];
  const hasSplits = hasSplitFolders(root);
  const classes = imageFolderClasses(root);
  if (hasSplits) {
    const present = ['train', 'val', 'test'].filter((s) => isDir(join(root, s)));
    for (const e of readDirSorted(root)) {
      if (present.includes(e.name)) continue;
      const rel = relative(root, join(root, e.name));
      if (isMetadataName(e.name)) skips.add(rel, e.isDirectory() ? `operating-system metadata folder (${countFiles(join(root, e.name))} files)` : 'operating-system metadata file');
      else skips.add(rel, e.isDirectory() ? `folder is not a split (expected train/, val/, test/) (${countFiles(join(root, e.name))} files)` : 'file outside the split folders');
    }
    const folders = Object.fromEntries(present.map((s) => [s, readClassFolders(join(root, s), root, skips, { recursive: true })]));
    if (classes.length < 2) throw new UsageError(`${join(root, 'train')} holds ${classes.length} class folder(s); expected at least 2 (${LAYOUT})`);
    for (const s of present) {
      for (const c of folders[s]!.keys()) {
        if (!classes.includes(c)) throw new UsageError(`${join(root, s, c)}: class "${c}" has no folder in train/ (classes in train/: ${classes.join(', ')})`);
      }
    }
    notes.push(`official splits from the folders ${present.map((s) => `${s}/`).join(', ')}`);
    return {
      kind: 'imagefolder', root, classes, classIds: classes, skipped: skips.entries, notes,
      splits: {
        train: itemsOf(folders.train!, classes, root),
        val: folders.val ? itemsOf(folders.val, classes, root) : undefined,
        test: itemsOf(folders.test!, classes, root),
      },
    };
  }
  const folders = readClassFolders(root, root, skips, { recursive: true });
  if (classes.length < 2) throw new UsageError(`${root} holds ${classes.length} class folder(s); expected ${LAYOUT}, with at least 2 classes`);
  return { kind: 'imagefolder', root, classes, classIds: classes, skipped: skips.entries, notes, splits: { train: itemsOf(folders, classes, root) } };
}
