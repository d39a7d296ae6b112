// The synthetic dataset: drawn on demand, seeded, at the configured resolution; needs no files.
import { drawPattern, patternName } from '../draw.js';
import type { Item, Listing } from '../listing.js';
import { deriveSeed } from '../../util/random.js';
import type { SyntheticSettings } from '../spec.js';

export function listSynthetic(s: Required<SyntheticSettings>, resolution: number): Listing {
  const classes = Array.from({ length: s.classes }, (_, c) => patternName(c));
  const split = (name: 'train' | 'test', perClass: number): Item[] => {
    const items: Item[] = [];
    for (let c = 0; c < s.classes; c++) {
      for (let i = 0; i < perClass; i++) {
        const seed = deriveSeed(s.seed, name, c, i);
        items.push({
          label: c,
          name: `${name}/${classes[c]}/${i}`,
          pixels: () => ({ data: drawPattern(c, resolution, resolution, 3, seed, s.noise), width: resolution, height: resolution, channels: 3 }),
        });
      }
    }
    return items;
  };
  return {
    kind: 'synthetic', classes, classIds: classes.slice(), skipped: [],
    notes: [`synthetic: ${s.perClass} train and ${s.testPerClass} test images per class drawn with seed ${s.seed}, noise ${s.noise}`],
    splits: { train: split('train', s.perClass), test: split('test', s.testPerClass) },
  };
}
