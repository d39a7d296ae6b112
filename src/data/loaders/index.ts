// One entry point over the loaders: the spec's kind picks the layout reader.
import { existsSync } from 'node:fs';
import { datasetPath, syntheticSettings, type DatasetSpec } from '../spec.js';
import type { Listing } from '../listing.js';
import { CHEST_XRAY_CLASSES, listChestXray } from './chest-xray.js';
import { idxClassList, listIdx } from './idx.js';
import { imageFolderClasses, listImageFolder } from './imagefolder.js';
import { listNotMnist, NOTMNIST_CLASSES } from './notmnist.js';
import { listSynthetic, syntheticClasses } from './synthetic.js';
import { listTinyImageNet, tinyImageNetClasses } from './tiny-imagenet.js';

export function listDataset(spec: DatasetSpec): Listing {
  const path = datasetPath(spec);
  switch (spec.kind) {
    case 'tiny-imagenet-200': return listTinyImageNet(path);
    case 'notmnist': return listNotMnist(path);
    case 'chest-xray': return listChestXray(path);
    case 'idx': return listIdx(path, spec.labelNames);
    case 'imagefolder': return listImageFolder(path);
    case 'synthetic': return listSynthetic(syntheticSettings(spec), spec.resolution);
  }
}

/**
 * The dataset's classes (names and ids, in label order) as its loader names them, found without
 * decoding an image: fixed lists, folder listings, wnids.txt/words.txt or IDX label files.
 * Undefined when the dataset folder is missing; a broken layout throws the loader's error.
 */
export function listClasses(spec: DatasetSpec): { classes: string[]; classIds: string[] } | undefined {
  const fixed = (names: readonly string[]) => ({ classes: [...names], classIds: [...names] });
  if (spec.kind === 'synthetic') return fixed(syntheticClasses(syntheticSettings(spec).classes));
  const path = datasetPath(spec);
  if (path === undefined || !existsSync(path)) return undefined;
  switch (spec.kind) {
    case 'tiny-imagenet-200': return tinyImageNetClasses(path);
    case 'notmnist': return fixed(NOTMNIST_CLASSES);
    case 'chest-xray': return fixed(CHEST_XRAY_CLASSES);
    case 'idx': return idxClassList(path, spec.labelNames);
    case 'imagefolder': return fixed(imageFolderClasses(path));
  }
}
