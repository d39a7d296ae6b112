// MNIST-family IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST …), raw or gzipped:
// images magic 0x00000803 + N, rows, cols (big-endian int32) + N·rows·cols uint8;
// labels magic 0x00000801 + N + N uint8.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { basename, join } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { isMetadataName, readDirSorted, requireDatasetDir } from '../files.js';
import { SkipLog, type Item, type Listing } from '../listing.js';

const LAYOUT = 'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each raw or .gz)';
const FILE = /^(.*?)(train|t10k|test)-(images|labels)[-.]idx([13])-ubyte(\.gz)?$/;

export interface IdxImages { count: number; rows: number; cols: number; data: Uint8Array }

/** The file's bytes, gunzipped when they start with the gzip magic (whatever the name says). */
export function readMaybeGzip(file: string): Uint8Array {
  const buf = readFileSync(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try { return gunzipSync(buf); } catch (e) {
      throw new UsageError(`${file}: damaged gzip data (${(e as Error).message})`);
    }
  }
  return buf;
}

function header(buf: Uint8Array, file: string, magic: number, dims: number): number[] {
  const need = 4 + 4 * dims;
  if (buf.length < need) throw new UsageError(`${file}: ${buf.length} bytes, too short for an IDX header (expected magic 0x${magic.toString(16).padStart(8, '0')} and ${dims} count(s))`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const got = view.getUint32(0, false);
  if (got !== magic) {
    throw new UsageError(`${file}: IDX magic 0x${got.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')} (${dims === 3 ? 'uint8 images, 3 dimensions' : 'uint8 labels, 1 dimension'})`);
  }
  return Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
}

export function readIdxImages(file: string): IdxImages {
  const buf = readMaybeGzip(file);
  const [count, rows, cols] = header(buf, file, 0x803, 3) as [number, number, number];
  const expected = 16 + count * rows * cols;
  if (rows === 0 || cols === 0) throw new UsageError(`${file}: image size ${rows}×${cols} in the header`);
  if (buf.length !== expected) {
    throw new UsageError(`${file}: header says ${count} images of ${rows}×${cols} (${expected} bytes), file holds ${buf.length} bytes`);
  }
  return { count, rows, cols, data: buf.subarray(16) };
}

export function readIdxLabels(file: string): Uint8Array {
  const buf = readMaybeGzip(file);
  const [count] = header(buf, file, 0x801, 1) as [number];
  if (buf.length !== 8 + count) throw new UsageError(`${file}: header says ${count} labels (${8 + count} bytes), file holds ${buf.length} bytes`);
  return buf.subarray(8);
}

interface IdxSet { train?: { images?: string; labels?: string }; test?: { images?: string; labels?: string } }

/** Finds the IDX files in a folder; one set only (an EMNIST folder holds several: pass one with a prefix filter later). */
function findFiles(root: string, skips: SkipLog): { prefix: string; set: IdxSet } {
  const sets = new Map<string, IdxSet>();
  for (const e of readDirSorted(root)) {
    if (isMetadataName(e.name)) { skips.add(e.name, 'operating-system metadata file'); continue; }
    const m = FILE.exec(e.name);
    if (!m || !e.isFile()) { skips.add(e.name, e.isDirectory() ? 'folder (IDX datasets are flat)' : 'not an IDX file of the train/t10k set'); continue; }
    const [, prefix = '', split, whatText, dims] = m;
    const what = whatText === 'images' ? 'images' : 'labels'; // FILE matches only these two
    if ((what === 'images') !== (dims === '3')) { skips.add(e.name, `${what} file should be idx${what === 'images' ? 3 : 1}`); continue; }
    const set = sets.get(prefix) ?? {};
    const s = split === 'train' ? 'train' : 'test';
    const slot = (set[s] ??= {});
    // Raw and .gz copies of the same file: the raw one is read (no decompression).
    if (slot[what] === undefined || slot[what]!.endsWith('.gz')) {
      if (slot[what] !== undefined) skips.add(basename(slot[what]!), 'gzipped copy of a raw file that is read instead');
      slot[what] = join(root, e.name);
    } else {
      skips.add(e.name, 'gzipped copy of a raw file that is read instead');
    }
    sets.set(prefix, set);
  }
  if (sets.size === 0) throw new UsageError(`${root} holds no IDX files: expected ${LAYOUT}`);
  if (sets.size > 1) throw new UsageError(`${root} holds several IDX datasets (${[...sets.keys()].map((p) => `${p || '(no prefix)'}*`).join(', ')}): put one in its own folder`);
  const [prefix, set] = [...sets][0]!;
  for (const s of ['train', 'test'] as const) {
    for (const w of ['images', 'labels'] as const) {
      if (!set[s]?.[w]) throw new UsageError(`${root}: missing ${prefix}${s === 'train' ? 'train' : 't10k'}-${w}-idx${w === 'images' ? 3 : 1}-ubyte[.gz] (expected ${LAYOUT})`);
    }
  }
  return { prefix, set };
}

/** Class names and ids of labels 0 … maxLabel: the config's labelNames, or the indices. */
function idxClasses(maxLabel: number, labelNames?: readonly string[]): { classes: string[]; classIds: string[] } {
  const count = maxLabel + 1;
  if (labelNames && labelNames.length < count) throw new UsageError(`dataset.labelNames names ${labelNames.length} classes but the labels go up to ${maxLabel}`);
  const classIds = Array.from({ length: labelNames?.length ?? count }, (_, i) => String(i));
  return { classes: labelNames ? [...labelNames] : classIds.slice(), classIds };
}

/**
 * The classes of an IDX folder without reading its images: the config's labelNames name them;
 * without names, the label files alone (one byte a label) give the count.
 */
export function idxClassList(path: string, labelNames?: readonly string[]): { classes: string[]; classIds: string[] } {
  if (labelNames) return idxClasses(labelNames.length - 1, labelNames);
  const { set } = findFiles(path, new SkipLog());
  let maxLabel = 0;
  for (const s of ['train', 'test'] as const) for (const l of readIdxLabels(set[s]!.labels!)) if (l > maxLabel) maxLabel = l;
  return idxClasses(maxLabel);
}

export function listIdx(path: string | undefined, labelNames?: readonly string[]): Listing {
  const root = requireDatasetDir(path, 'idx', LAYOUT);
  const skips = new SkipLog();
  const { set } = findFiles(root, skips);
  const splits: Record<'train' | 'test', Item[]> = { train: [], test: [] };
  let maxLabel = 0;
  let size: [number, number] | undefined;
  for (const s of ['train', 'test'] as const) {
    const imagesFile = set[s]!.images!;
    const labelsFile = set[s]!.labels!;
    const images = readIdxImages(imagesFile);
    const labels = readIdxLabels(labelsFile);
    if (labels.length !== images.count) throw new UsageError(`${labelsFile}: ${labels.length} labels for ${images.count} images in ${imagesFile}`);
    if (size && (size[0] !== images.rows || size[1] !== images.cols)) throw new UsageError(`${imagesFile}: ${images.rows}×${images.cols} images, train has ${size[0]}×${size[1]}`);
    size = [images.rows, images.cols];
    const bytes = images.rows * images.cols;
    for (let i = 0; i < images.count; i++) {
      const label = labels[i]!;
      if (label > maxLabel) maxLabel = label;
      const data = images.data.subarray(i * bytes, (i + 1) * bytes);
      splits[s].push({ label, name: `${basename(imagesFile)}#${i}`, pixels: () => ({ data, width: images.cols, height: images.rows, channels: 1 }) });
    }
  }
  const { classes, classIds } = idxClasses(maxLabel, labelNames);
  return { kind: 'idx', root, classes, classIds, skipped: skips.entries, notes: ['test: the t10k files'], splits };
}
