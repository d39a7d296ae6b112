// The synthetic dataset: drawn on demand, seeded, at the configured resolution; needs no files.
import { drawPattern, patternName } from '../draw.js';
import type { Item, Listing } from '../listing.js';
import { deriveSeed } from '../../util/random.js';
import type { SyntheticSettings } from '../spec.js';

/** The class names of a synthetic dataset of `count` classes. */
export function syntheticClasses(count: number): string[] {
  return Array.from({ length: count }, (_, c) => patternName(c));
}

export function listSynthetic(s: Required<SyntheticSettings>, resolution: number): Listing {
  const classes = syntheticClasses(s.classes);
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
