// notMNIST (small or large): ten folders A … J of 28×28 grayscale PNGs; no official split.
import { join } from 'node:path';
import { isDir, locateRoot, requireDatasetDir } from '../files.js';
import { SkipLog, type Listing } from '../listing.js';
import { itemsOf, readClassFolders } from './class-folders.js';

export const NOTMNIST_CLASSES = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'];
const LAYOUT = 'the ten class folders A/ … J/ of PNG images (notMNIST_small/ or notMNIST_large/)';

function hasLayout(dir: string): boolean {
  return NOTMNIST_CLASSES.filter((c) => isDir(join(dir, c))).length >= 2;
}

export function listNotMnist(path: string | undefined): Listing {
  const given = requireDatasetDir(path, 'notmnist', LAYOUT);
  const { root, note } = locateRoot(given, hasLayout, 'notmnist', LAYOUT);
  const skips = new SkipLog();
  const folders = readClassFolders(root, root, skips, { expected: NOTMNIST_CLASSES });
  return {
    kind: 'notmnist', root, classes: [...NOTMNIST_CLASSES], classIds: [...NOTMNIST_CLASSES], skipped: skips.entries,
    notes: note ? [note] : [],
    splits: { train: itemsOf(folders, NOTMNIST_CLASSES, root) },
  };
}
