// Reading a prepared dataset back: meta.json and the labels at open, pixels only on demand
// (positional reads), so reopening a 100,000-image dataset costs milliseconds.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import { PREPARED_FORMAT, type PreparedMeta, type SplitName } from './prepared-meta.js';
import type { PreparedDataset, PreparedSplit } from './prepared-types.js';

export interface OpenedDataset extends PreparedDataset {
  dir: string;
  classIds: string[];
  splitProtocol: string;
  meta: PreparedMeta;
}

class LazySplit implements PreparedSplit {
  readonly count: number;
  readonly labels: Int32Array;
  private fd: number | undefined;
  private readonly imageBytes: number;

  constructor(private readonly path: string, labelsPath: string, count: number, imageBytes: number) {
    this.imageBytes = imageBytes;
    const raw = readFileSync(labelsPath);
    if (raw.length !== count * 4) throw new UsageError(`${labelsPath}: ${raw.length} bytes, expected ${count * 4} (${count} int32 labels)`);
    // Copy into an aligned buffer (file buffers may start at any offset).
    this.labels = new Int32Array(count);
    new Uint8Array(this.labels.buffer).set(raw);
    this.count = count;
    this.fd = openSync(path, 'r');
    const size = fstatSync(this.fd).size;
    if (size !== count * imageBytes) {
      closeSync(this.fd);
      this.fd = undefined;
      throw new UsageError(`${path}: ${size} bytes, expected ${count * imageBytes} (${count} images of ${imageBytes} bytes)`);
    }
  }

  readImages(indices: ArrayLike<number>): Uint8Array {
    if (this.fd === undefined) throw new Error(`${this.path}: the prepared dataset is closed`);
    const n = indices.length;
    const b = this.imageBytes;
    const out = new Uint8Array(n * b);
    // Runs of consecutive indices become one read.
    let i = 0;
    while (i < n) {
      const start = indices[i]!;
      if (!Number.isInteger(start) || start < 0 || start >= this.count) throw new RangeError(`image index ${start} out of range 0…${this.count - 1}`);
      let run = 1;
      while (i + run < n && indices[i + run] === start + run && start + run < this.count) run++;
      const want = run * b;
      let got = 0;
      while (got < want) {
        const r = readSync(this.fd, out, i * b + got, want - got, start * b + got);
        if (r === 0) throw new Error(`${this.path}: unexpected end of file`);
        got += r;
      }
      i += run;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function readPreparedMeta(dir: string): PreparedMeta {
  const file = join(dir, 'meta.json');
  if (!existsSync(file)) throw new UsageError(`${dir} is not a prepared dataset (no meta.json; expected the output folder of the prepare-dataset stage)`);
  const meta = JSON.parse(readFileSync(file, 'utf8')) as PreparedMeta;
  if (meta.format !== PREPARED_FORMAT) throw new UsageError(`${file}: format "${String(meta.format)}", expected "${PREPARED_FORMAT}"`);
  return meta;
}

export function openPrepared(dir: string): OpenedDataset {
  const meta = readPreparedMeta(dir);
  const imageBytes = meta.height * meta.width * meta.channels;
  const opened: LazySplit[] = [];
  const open = (name: SplitName): LazySplit | undefined => {
    const s = meta.splits[name];
    if (!s || s.count === 0) return undefined;
    const split = new LazySplit(join(dir, s.images), join(dir, s.labels), s.count, imageBytes);
    opened.push(split);
    return split;
  };
  try {
    const train = open('train');
    const val = open('val');
    const test = open('test');
    if (!train || !test) throw new UsageError(`${dir}/meta.json: the train and test splits are required`);
    return {
      dir,
      classes: meta.classes,
      classIds: meta.classIds,
      height: meta.height,
      width: meta.width,
      channels: meta.channels,
      splitProtocol: meta.splitProtocol,
      meta,
      splits: val ? { train, val, test } : { train, test },
      close() { for (const s of opened) s.close(); },
    };
  } catch (e) {
    for (const s of opened) s.close();
    throw e;
  }
}
