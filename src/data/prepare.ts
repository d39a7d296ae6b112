// Preprocessing: list the dataset, choose classes and splits, decode every image to the target
// size and channel count, and write per split one uint8 tensor file (N×H×W×C, HWC) and one int32
// label file, plus meta.json (what openPrepared reads) and skipped.json (every skipped file, why).
// Decoding runs in sharp's thread pool with a bounded window; results are written in order, so
// the output is deterministic and memory stays flat whatever the dataset's size.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import { convertRaw, decodeFile, DecodeError, type Target } from './decode.js';
import { listDataset } from './loaders/index.js';
import { itemName, summarizeSkips, type Item, type Listing, type Skip } from './listing.js';
import { PREPARED_FORMAT, type PreparedMeta, type SplitName } from './prepared-meta.js';
import { planSplits, type SplitPlan } from './splits.js';
import type { DatasetSpec } from './spec.js';

export interface PrepareHooks {
  log?(message: string): void;
  progress?(event: { phase?: string; batch?: number; batches?: number; message?: string }): void;
  signal?: AbortSignal;
  /** Images decoded at once (default 8: sharp's four libuv threads kept busy). */
  concurrency?: number;
}

/** The prepare-dataset stage's metrics (docs/ARCHITECTURE.md "Result shapes"). */
export interface PrepareMetrics {
  classes: string[];
  classIds: string[];
  channels: number;
  height: number;
  width: number;
  splits: Record<SplitName, { count: number; perClass: number[] }>;
  skipped: Skip[];
  skippedCount: number;
  skippedByReason: { reason: string; count: number }[];
  splitProtocol: string;
  [key: string]: unknown;
}

const SKIPPED_IN_METRICS = 50;

async function decodeItem(item: Item, t: Target): Promise<Uint8Array> {
  if (item.file !== undefined) return decodeFile(item.file, t);
  return convertRaw(item.pixels!(), t);
}

/**
 * Decodes `items` into the file `path` in order; returns the labels of the images written and
 * the skips. At most `window` images are decoded or waiting to be written at any time.
 */
export async function writeSplitTensor(items: readonly Item[], t: Target, path: string, hooks: PrepareHooks & { phase: string; root?: string }): Promise<{ labels: Int32Array; skipped: Skip[] }> {
  const window = Math.max(1, hooks.concurrency ?? 8);
  const imageBytes = t.width * t.height * t.channels;
  const fd = openSync(path, 'w');
  const labels = new Int32Array(items.length);
  const skipped: Skip[] = [];
  // Written images are gathered into one buffer and flushed in large writes.
  const chunkImages = Math.max(1, Math.floor((1 << 20) / imageBytes));
  const chunk = Buffer.alloc(chunkImages * imageBytes);
  let inChunk = 0;
  let written = 0;
  let fileOffset = 0;
  const flushChunk = () => {
    if (inChunk === 0) return;
    writeSync(fd, chunk, 0, inChunk * imageBytes, fileOffset);
    fileOffset += inChunk * imageBytes;
    inChunk = 0;
  };
  const done = new Map<number, Uint8Array | string>();
  let head = 0;
  let next = 0;
  let lastReport = 0;
  let wake: (() => void) | undefined;
  const advance = () => {
    while (done.has(head)) {
      const r = done.get(head)!;
      done.delete(head);
      if (typeof r === 'string') {
        skipped.push({ file: itemName(items[head]!, hooks.root), reason: r });
      } else {
        chunk.set(r, inChunk * imageBytes);
        inChunk += 1;
        labels[written++] = items[head]!.label;
        if (inChunk === chunkImages) flushChunk();
      }
      head += 1;
    }
    const now = Date.now();
    if (hooks.progress && (now - lastReport > 500 || head === items.length)) {
      lastReport = now;
      hooks.progress({ phase: hooks.phase, batch: head, batches: items.length });
    }
    const w = wake;
    wake = undefined;
    w?.();
  };
  // A failure (abort, disk full) stops every worker; the file is closed only once all have
  // stopped, so no late write can land on a reused descriptor.
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    try {
      while (next < items.length && failure === undefined) {
        hooks.signal?.throwIfAborted();
        // Don't run far ahead of a slow image at the head: bounded memory.
        if (next - head >= 4 * window) {
          await new Promise<void>((resolve) => { const prev = wake; wake = () => { prev?.(); resolve(); }; });
          continue;
        }
        const i = next++;
        try {
          done.set(i, await decodeItem(items[i]!, t));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          done.set(i, e.reason);
        }
        if (failure === undefined) advance();
      }
    } catch (e) {
      failure ??= { error: e };
      const w = wake;
      wake = undefined;
      w?.();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(window, Math.max(1, items.length)) }, worker));
    if (failure) throw failure.error;
    flushChunk();
  } finally {
    closeSync(fd);
  }
  return { labels: labels.slice(0, written), skipped };
}

function perClass(labels: Int32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  return counts;
}

/** Prepares `spec` into `outDir` (created if needed); returns the metrics. */
export async function prepareDataset(spec: DatasetSpec, outDir: string, hooks: PrepareHooks = {}): Promise<PrepareMetrics> {
  const started = Date.now();
  const listing: Listing = listDataset(spec);
  const plan: SplitPlan = planSplits(listing, spec);
  hooks.log?.(`${listing.kind}: ${plan.classes.length} classes; ${plan.protocol}`);
  mkdirSync(outDir, { recursive: true });
  const t: Target = { width: spec.resolution, height: spec.resolution, channels: spec.channels, fit: spec.fit ?? 'fill' };
  const skipped: Skip[] = [...listing.skipped];
  const splits = {} as Record<SplitName, { count: number; perClass: number[] }>;
  const metaSplits: PreparedMeta['splits'] = {};
  for (const name of ['train', 'val', 'test'] as const) {
    const items = plan.splits[name];
    if (!items || items.length === 0) {
      splits[name] = { count: 0, perClass: new Array<number>(plan.classes.length).fill(0) };
      continue;
    }
    const imagesFile = `${name}.images.u8`;
    const labelsFile = `${name}.labels.i32`;
    const r = await writeSplitTensor(items, t, join(outDir, imagesFile), { ...hooks, phase: `decode ${name}`, root: listing.root });
    writeFileSync(join(outDir, labelsFile), Buffer.from(r.labels.buffer, r.labels.byteOffset, r.labels.byteLength));
    skipped.push(...r.skipped);
    const counts = perClass(r.labels, plan.classes.length);
    splits[name] = { count: r.labels.length, perClass: counts };
    metaSplits[name] = { count: r.labels.length, perClass: counts, images: imagesFile, labels: labelsFile };
    hooks.log?.(`${name}: ${r.labels.length} images${r.skipped.length ? `, ${r.skipped.length} skipped` : ''}`);
  }
  const empty = (['train', 'test'] as const).find((n) => !metaSplits[n] || metaSplits[n]!.count === 0);
  if (empty !== undefined) {
    throw new UsageError(`no readable image left in the ${empty} split (${skipped.length} files skipped; first: ${skipped[0]?.file ?? '-'}: ${skipped[0]?.reason ?? '-'})`);
  }
  const byReason = summarizeSkips(skipped);
  const meta: PreparedMeta = {
    format: PREPARED_FORMAT,
    kind: spec.kind,
    source: listing.root ?? null,
    classes: plan.classes,
    classIds: plan.classIds,
    height: t.height,
    width: t.width,
    channels: t.channels,
    fit: t.fit,
    layout: 'NHWC uint8; labels int32 little-endian',
    splits: metaSplits,
    skippedCount: skipped.length,
    skippedByReason: byReason,
    splitProtocol: plan.protocol,
  };
  writeFileSync(join(outDir, 'skipped.json'), JSON.stringify(skipped, null, 1));
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 1));
  hooks.log?.(`prepared in ${((Date.now() - started) / 1000).toFixed(1)} s; ${skipped.length} files skipped`);
  return {
    classes: plan.classes,
    classIds: plan.classIds,
    channels: t.channels,
    height: t.height,
    width: t.width,
    splits,
    skipped: skipped.slice(0, SKIPPED_IN_METRICS),
    skippedCount: skipped.length,
    skippedByReason: byReason,
    splitProtocol: plan.protocol,
  };
}
