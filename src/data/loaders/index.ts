// One entry point over the loaders: the spec's kind picks the layout reader.
import { datasetPath, syntheticSettings, type DatasetSpec } from '../spec.js';
import type { Listing } from '../listing.js';
import { listChestXray } from './chest-xray.js';
import { listIdx } from './idx.js';
import { listImageFolder } from './imagefolder.js';
import { listNotMnist } from './notmnist.js';
import { listSynthetic } from './synthetic.js';
import { listTinyImageNet } from './tiny-imagenet.js';

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
