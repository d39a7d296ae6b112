// Chest X-Ray Pneumonia (v2): train/, val/, test/, each with NORMAL/ and PNEUMONIA/.
import { join, relative } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { countFiles, isDir, isMetadataName, locateRoot, readDirSorted, requireDatasetDir } from '../files.js';
import { SkipLog, type Listing } from '../listing.js';
import { itemsOf, readClassFolders } from './class-folders.js';

export const CHEST_XRAY_CLASSES = ['NORMAL', 'PNEUMONIA'];
const SPLITS = ['train', 'val', 'test'] as const;
const LAYOUT = 'train/, val/ and test/ folders, each holding NORMAL/ and PNEUMONIA/ (chest_xray/)';

function hasLayout(dir: string): boolean {
  return isDir(join(dir, 'train')) && isDir(join(dir, 'test'));
}

export function listChestXray(path: string | undefined): Listing {
  const given = requireDatasetDir(path, 'chest-xray', LAYOUT);
  const { root, note } = locateRoot(given, hasLayout, 'chest-xray', LAYOUT);
  const skips = new SkipLog();
  for (const e of readDirSorted(root)) {
    if ((SPLITS as readonly string[]).includes(e.name)) continue;
    const full = join(root, e.name);
    const rel = relative(root, full);
    if (isMetadataName(e.name)) skips.add(rel, e.isDirectory() ? `operating-system metadata folder (${countFiles(full)} files)` : 'operating-system metadata file');
    else if (e.isDirectory() && hasLayout(full)) skips.add(rel, `nested duplicate of the dataset folder, ignored (${countFiles(full)} files)`);
    else skips.add(rel, e.isDirectory() ? `folder is not a split (expected train/, val/, test/) (${countFiles(full)} files)` : 'file outside the split folders');
  }
  const notes = note ? [note] : [];
  const read = (s: string) => readClassFolders(join(root, s), root, skips, { expected: CHEST_XRAY_CLASSES });
  const train = read('train');
  const test = read('test');
  const val = isDir(join(root, 'val')) ? read('val') : undefined;
  if (!val) notes.push('no val/ folder found (the official validation split has 16 images)');
  const items = (m: Map<string, string[]>) => itemsOf(m, CHEST_XRAY_CLASSES, root);
  const listing: Listing = {
    kind: 'chest-xray', root, classes: [...CHEST_XRAY_CLASSES], classIds: [...CHEST_XRAY_CLASSES], skipped: skips.entries, notes,
    splits: { train: items(train), val: val ? items(val) : undefined, test: items(test) },
  };
  if (listing.splits.train.length === 0) throw new UsageError(`${join(root, 'train')} holds no images (expected ${LAYOUT})`);
  return listing;
}
