// Small datasets in the exact published layouts, with real JPEG/PNG/IDX bytes and a few of the
// traps real archives carry (metadata files, truncated and empty images, a nested copy, CMYK and
// 16-bit images, an annotation naming a missing file). Tests and the demo build on these.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { UsageError } from '../util/errors.js';
import { drawPattern } from './draw.js';
import { deriveSeed, rng } from '../util/random.js';
import { DATASET_KINDS, type DatasetKind } from './spec.js';

export interface FixtureOptions {
  /** Training images per class (default 6). */
  perClass?: number;
  seed?: number;
  /** Include the archive traps (default true). */
  traps?: boolean;
  /** IDX only: gzip the files (default true, as published). */
  gzip?: boolean;
}

export interface FixtureSummary {
  kind: DatasetKind;
  root: string;
  /** Image files written that the loader should keep (traps excluded). */
  images: number;
  /** Files written as traps that the loader must skip, with the reason expected. */
  traps: { file: string; expect: string }[];
  /** Odd but valid images the loader must convert (single-channel, CMYK, 16-bit). */
  converted: string[];
}

/**
 * The Tiny-ImageNet classes of the fixture: real WordNet ids of the published set (four dogs, two
 * vehicles, a fish, a bird, a food), so that ancestor subsets such as dog, bird, vehicle and food
 * each find classes.
 */
export const FIXTURE_WNIDS: [string, string][] = [
  ['n01443537', 'goldfish, Carassius auratus'],
  ['n02056570', 'king penguin, Aptenodytes patagonica'],
  ['n02085620', 'Chihuahua'],
  ['n02094433', 'Yorkshire terrier'],
  ['n02099601', 'golden retriever'],
  ['n02106662', 'German shepherd, German shepherd dog, German police dog, alsatian'],
  ['n03417042', 'garbage truck, dustcart'],
  ['n04285008', 'sports car, sport car'],
  ['n07873807', 'pizza, pizza pie'],
];

type Format = 'jpeg' | 'png' | 'cmyk-jpeg' | 'png16' | 'webp';

async function encode(pixels: Uint8Array, w: number, h: number, channels: 1 | 3, format: Format): Promise<Buffer> {
  const raw = sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length), { raw: { width: w, height: h, channels } });
  // sharp writes sRGB unless told otherwise: keep one-channel images one-channel in the file.
  const img = channels === 1 && format !== 'png16' && format !== 'cmyk-jpeg' ? raw.toColourspace('b-w') : raw;
  switch (format) {
    case 'jpeg': return img.jpeg({ quality: 90 }).toBuffer();
    case 'png': return img.png().toBuffer();
    case 'webp': return img.webp({ quality: 90 }).toBuffer();
    case 'cmyk-jpeg': return img.toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    case 'png16': return img.toColourspace(channels === 1 ? 'grey16' : 'rgb16').png().toBuffer();
  }
}

async function writeImage(file: string, cls: number, w: number, h: number, channels: 1 | 3, format: Format, seed: number): Promise<void> {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, await encode(drawPattern(cls, w, h, channels, seed, 0.08), w, h, channels, format));
}

/** Valid image bytes cut short: a header that parses, pixel data that ends early. */
async function writeTruncated(file: string, format: 'jpeg' | 'png', w: number, h: number, seed: number): Promise<void> {
  const bytes = await encode(drawPattern(0, w, h, 3, seed, 0.3), w, h, 3, format);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.55)));
}

function touch(file: string, content: string | Uint8Array = ''): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, content);
}

const DS_STORE = Buffer.from('00000001427564310000100000000800', 'hex');

export async function writeFixture(kind: DatasetKind, out: string, opts: FixtureOptions = {}): Promise<FixtureSummary> {
  if (!(DATASET_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown dataset kind "${kind}" (kinds: ${DATASET_KINDS.join(', ')})`);
  const perClass = opts.perClass ?? 6;
  if (!Number.isInteger(perClass) || perClass < 2) throw new UsageError(`--per-class must be an integer of at least 2, got ${perClass}`);
  const seed = opts.seed ?? 0;
  const traps = opts.traps ?? true;
  const s: FixtureSummary = { kind, root: out, images: 0, traps: [], converted: [] };
  const trap = (file: string, expect: string) => s.traps.push({ file, expect });
  const sd = (...labels: (string | number)[]) => deriveSeed(seed, kind, ...labels);
  mkdirSync(out, { recursive: true });

  switch (kind) {
    case 'tiny-imagenet-200': {
      const wnids = FIXTURE_WNIDS.map(([w]) => w);
      writeFileSync(join(out, 'wnids.txt'), wnids.join('\n') + '\n');
      const words = [['n00001740', 'entity'], ...FIXTURE_WNIDS, ['n02084071', 'dog, domestic dog, Canis familiaris']];
      writeFileSync(join(out, 'words.txt'), words.map(([w, n]) => `${w}\t${n}`).join('\n') + '\n');
      for (const [c, w] of wnids.entries()) {
        const boxes: string[] = [];
        for (let k = 0; k < perClass; k++) {
          const name = `${w}_${k}.JPEG`;
          // One single-channel JPEG a class, as in the published archive.
          const channels = k === 1 ? 1 : 3;
          await writeImage(join(out, 'train', w, 'images', name), c, 64, 64, channels, 'jpeg', sd('train', c, k));
          if (channels === 1) s.converted.push(join('train', w, 'images', name));
          boxes.push(`${name}\t8\t8\t56\t56`);
          s.images++;
        }
        writeFileSync(join(out, 'train', w, `${w}_boxes.txt`), boxes.join('\n') + '\n');
      }
      const ann: string[] = [];
      let v = 0;
      const valPerClass = Math.max(2, Math.floor(perClass / 2));
      for (const [c, w] of wnids.entries()) {
        for (let k = 0; k < valPerClass; k++, v++) {
          await writeImage(join(out, 'val', 'images', `val_${v}.JPEG`), c, 64, 64, 3, 'jpeg', sd('val', c, k));
          ann.push(`val_${v}.JPEG\t${w}\t0\t0\t63\t63`);
          s.images++;
        }
      }
      for (let k = 0; k < 2; k++) await writeImage(join(out, 'test', 'images', `test_${k}.JPEG`), k, 64, 64, 3, 'jpeg', sd('test', k));
      if (traps) {
        ann.push(`val_${v}.JPEG\t${wnids[0]}\t0\t0\t63\t63`);
        trap(join('val', 'images', `val_${v}.JPEG`), 'annotated file missing');
        await writeTruncated(join(out, 'train', wnids[1]!, 'images', `${wnids[1]}_${perClass}.JPEG`), 'jpeg', 64, 64, sd('trunc'));
        trap(join('train', wnids[1]!, 'images', `${wnids[1]}_${perClass}.JPEG`), 'truncated or corrupt image');
        touch(join(out, 'train', wnids[2]!, 'images', `${wnids[2]}_${perClass}.JPEG`));
        trap(join('train', wnids[2]!, 'images', `${wnids[2]}_${perClass}.JPEG`), 'zero-length file');
        touch(join(out, 'train', wnids[0]!, 'images', '.DS_Store'), DS_STORE);
        trap(join('train', wnids[0]!, 'images', '.DS_Store'), 'operating-system metadata file');
        touch(join(out, 'train', wnids[3]!, 'images', 'notes.txt'), 'downloaded from cs231n\n');
        trap(join('train', wnids[3]!, 'images', 'notes.txt'), 'not an image file');
        touch(join(out, '__MACOSX', 'train', `._${wnids[0]}`), DS_STORE);
        trap('__MACOSX', 'operating-system metadata folder');
      }
      writeFileSync(join(out, 'val', 'val_annotations.txt'), ann.join('\n') + '\n');
      break;
    }
    case 'notmnist': {
      const letters = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'];
      for (const [c, letter] of letters.entries()) {
        for (let k = 0; k < perClass; k++) {
          const name = `${Buffer.from(`Font${k} ${letter}.ttf`).toString('base64')}.png`;
          await writeImage(join(out, letter, name), c, 28, 28, 1, 'png', sd(c, k));
          s.images++;
        }
      }
      if (traps) {
        touch(join(out, 'A', 'RGVhZEZvbnQudHRm.png'));
        trap(join('A', 'RGVhZEZvbnQudHRm.png'), 'zero-length file');
        await writeTruncated(join(out, 'B', 'QnJva2VuRm9udC50dGY=.png'), 'png', 28, 28, sd('trunc'));
        trap(join('B', 'QnJva2VuRm9udC50dGY=.png'), 'truncated or corrupt image');
        touch(join(out, '.DS_Store'), DS_STORE);
        trap('.DS_Store', 'operating-system metadata file');
        touch(join(out, 'C', 'Thumbs.db'), DS_STORE);
        trap(join('C', 'Thumbs.db'), 'operating-system metadata file');
      }
      break;
    }
    case 'chest-xray': {
      const r = rng(sd('sizes'));
      const size = () => [Math.round(60 + 100 * r()), Math.round(60 + 100 * r())] as const;
      const counts: Record<string, [number, number]> = {
        train: [perClass, 2 * perClass],
        val: [2, 2],
        test: [Math.max(2, Math.floor(perClass / 2)), Math.max(2, perClass)],
      };
      let person = 1;
      for (const [split, [normal, pneumonia]] of Object.entries(counts)) {
        for (let k = 0; k < normal; k++) {
          const [w, h] = size();
          const rgb = k % 4 === 3; // mostly grayscale, some 3-channel
          await writeImage(join(out, split, 'NORMAL', `IM-${String(100 + k).padStart(4, '0')}-0001.jpeg`), 0, w, h, rgb ? 3 : 1, 'jpeg', sd(split, 0, k));
          s.images++;
        }
        for (let k = 0; k < pneumonia; k++) {
          const [w, h] = size();
          const kind = k % 2 === 0 ? 'bacteria' : 'virus';
          await writeImage(join(out, split, 'PNEUMONIA', `person${person++}_${kind}_${k}.jpeg`), 6, w, h, 1, 'jpeg', sd(split, 1, k));
          s.images++;
        }
      }
      if (traps) {
        await writeImage(join(out, 'train', 'NORMAL', 'IM-0999-0001.jpeg'), 0, 90, 70, 3, 'cmyk-jpeg', sd('cmyk'));
        s.converted.push(join('train', 'NORMAL', 'IM-0999-0001.jpeg'));
        s.images++;
        await writeImage(join(out, 'test', 'PNEUMONIA', 'person999_virus_1.png'), 6, 80, 100, 1, 'png16', sd('png16'));
        s.converted.push(join('test', 'PNEUMONIA', 'person999_virus_1.png'));
        s.images++;
        await writeTruncated(join(out, 'train', 'PNEUMONIA', 'person998_bacteria_1.jpeg'), 'jpeg', 120, 100, sd('trunc'));
        trap(join('train', 'PNEUMONIA', 'person998_bacteria_1.jpeg'), 'truncated or corrupt image');
        touch(join(out, 'train', '.DS_Store'), DS_STORE);
        trap(join('train', '.DS_Store'), 'operating-system metadata file');
        touch(join(out, '__MACOSX', 'chest_xray', 'train', '._NORMAL'), DS_STORE);
        trap('__MACOSX', 'operating-system metadata folder');
        // The Kaggle archive nests a second copy of the dataset inside itself.
        await writeImage(join(out, 'chest_xray', 'train', 'NORMAL', 'IM-0100-0001.jpeg'), 0, 64, 64, 1, 'jpeg', sd('dup'));
        await writeImage(join(out, 'chest_xray', 'test', 'NORMAL', 'IM-0101-0001.jpeg'), 0, 64, 64, 1, 'jpeg', sd('dup2'));
        trap('chest_xray', 'nested duplicate of the dataset folder');
      }
      break;
    }
    case 'idx': {
      const gz = opts.gzip ?? true;
      const classes = 10;
      const write = (name: string, data: Buffer) => writeFileSync(join(out, gz ? `${name}.gz` : name), gz ? gzipSync(data) : data);
      for (const [split, per] of [['train', perClass], ['t10k', Math.max(1, Math.floor(perClass / 2))]] as const) {
        const n = classes * per;
        const images = Buffer.alloc(16 + n * 784);
        images.writeUInt32BE(0x803, 0); images.writeUInt32BE(n, 4); images.writeUInt32BE(28, 8); images.writeUInt32BE(28, 12);
        const labels = Buffer.alloc(8 + n);
        labels.writeUInt32BE(0x801, 0); labels.writeUInt32BE(n, 4);
        // Interleaved labels, as in MNIST (not sorted by class).
        for (let i = 0; i < n; i++) {
          const c = i % classes;
          images.set(drawPattern(c, 28, 28, 1, sd(split, i), 0.08), 16 + i * 784);
          labels[8 + i] = c;
        }
        write(`${split}-images-idx3-ubyte`, images);
        write(`${split}-labels-idx1-ubyte`, labels);
        s.images += n;
      }
      if (traps) {
        touch(join(out, '.DS_Store'), DS_STORE);
        trap('.DS_Store', 'operating-system metadata file');
      }
      break;
    }
    case 'imagefolder': {
      const classes = ['circles', 'squares', 'stripes'];
      const pattern = [0, 1, 3];
      const formats: Format[] = ['jpeg', 'png', 'webp'];
      const r = rng(sd('sizes'));
      for (const [c, name] of classes.entries()) {
        for (let k = 0; k < perClass; k++) {
          const f = formats[k % formats.length]!;
          const w = Math.round(40 + 60 * r());
          const h = Math.round(40 + 60 * r());
          const ext = f === 'jpeg' ? 'jpg' : f;
          await writeImage(join(out, name, `${name}_${String(k).padStart(3, '0')}.${ext}`), pattern[c]!, w, h, 3, f, sd(c, k));
          s.images++;
        }
      }
      if (traps) {
        touch(join(out, 'README.txt'), 'three classes\n');
        trap('README.txt', 'file outside any class folder');
        touch(join(out, 'squares', '.DS_Store'), DS_STORE);
        trap(join('squares', '.DS_Store'), 'operating-system metadata file');
        touch(join(out, 'stripes', 'stripes_empty.png'));
        trap(join('stripes', 'stripes_empty.png'), 'zero-length file');
      }
      break;
    }
    case 'synthetic':
      throw new UsageError('the synthetic dataset is drawn on demand and has no files: use kind "synthetic" in a dataset config instead of a fixture');
  }
  return s;
}
