// The database as an index over the artifact folders: rebuild it from their records (cell.json +
// result.json) when it was lost (a store copied without its -wal file, a deleted database), and
// adopt a single folder the database does not know (a crash between the rename into objects/
// and the row saying done). A folder is indexed only if its files still match its manifest.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifactRecord, type ArtifactRecord } from './artifact-record.js';
import { verifyManifest } from './manifest.js';
import type { Store } from './store.js';

export interface RebuildResult {
  /** Artifact folders found under objects/. */
  folders: number;
  /** Folders newly indexed as done cells. */
  indexed: number;
  /** Folders the index already had as done. */
  known: number;
  /** Folders left alone (no record, damaged): gc removes them, or their cell runs again. */
  skipped: { dir: string; reason: string }[];
  durationMs: number;
}

/** Every artifact folder under objects/ (objects/ab/<key>), as [key, absolute folder]. */
export function listArtifactFolders(store: Store): [string, string][] {
  const out: [string, string][] = [];
  if (!existsSync(store.objectsDir)) return out;
  for (const prefix of readdirSync(store.objectsDir, { withFileTypes: true })) {
    if (!prefix.isDirectory()) continue;
    const pdir = join(store.objectsDir, prefix.name);
    for (const entry of readdirSync(pdir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name.startsWith(prefix.name)) out.push([entry.name, join(pdir, entry.name)]);
    }
  }
  return out;
}

type Checked = { ok: true; record: ArtifactRecord; metrics: Record<string, unknown>; provenance: Record<string, unknown> } | { ok: false; reason: string };

/** A folder's record, checked against the files it describes. */
async function checkFolder(dir: string, key: string, verify: boolean): Promise<Checked> {
  const read = readArtifactRecord(dir, key);
  if (!read.ok) return read;
  const check = await verifyManifest(dir, read.record.manifest, { full: verify });
  if (!check.ok) return { ok: false, reason: `damaged: ${check.detail}` };
  return read;
}

/**
 * Index every artifact folder the database does not hold as done. Run it under the run lock
 * (or on a store nobody else can be using). `verify` re-hashes every file instead of trusting
 * unchanged sizes and times.
 */
export async function rebuildIndex(store: Store, options: { verify?: boolean } = {}): Promise<RebuildResult> {
  const t0 = performance.now();
  const folders = listArtifactFolders(store);
  const states = store.statesByKeys(folders.map(([key]) => key));
  const result: RebuildResult = { folders: folders.length, indexed: 0, known: 0, skipped: [], durationMs: 0 };
  const found: { record: ArtifactRecord; metrics: Record<string, unknown>; provenance: Record<string, unknown>; dir: string }[] = [];
  for (const [key, dir] of folders) {
    const st = states.get(key);
    if (st?.state === 'done' && st.dir === dir) { result.known++; continue; }
    const checked = await checkFolder(dir, key, options.verify === true);
    if (!checked.ok) { result.skipped.push({ dir, reason: checked.reason }); continue; }
    found.push({ ...checked, dir });
  }
  // A slot (pipeline, instance, coordinates) may have several artifacts (its code or inputs
  // changed over time): the newest one is the slot's current cell.
  const newest = new Map<string, ArtifactRecord>();
  for (const { record } of found) {
    const id = `${record.pipeline}\u0000${record.slot}`;
    const prev = newest.get(id);
    if (!prev || prev.attempt.endedAt < record.attempt.endedAt) newest.set(id, record);
  }
  const slotsByPipeline = new Map<string, Set<string>>();
  // One transaction: a rebuild interrupted halfway leaves the index as it was.
  store.batch(() => {
    for (const { record, metrics, provenance } of found) {
      let slots = slotsByPipeline.get(record.pipeline);
      if (!slots) {
        slots = new Set(store.slotsOf(record.pipeline).keys());
        slotsByPipeline.set(record.pipeline, slots);
      }
      const withSlot = !slots.has(record.slot) && newest.get(`${record.pipeline}\u0000${record.slot}`) === record;
      store.indexArtifact(record, { dirRel: store.objectRel(record.key), metrics, provenance }, withSlot);
      result.indexed++;
    }
    if (result.indexed > 0) store.noteRebuilt(result.indexed);
  });
  store.checkpoint();
  result.durationMs = performance.now() - t0;
  return result;
}

/**
 * Index the artifact folders of these keys when the database does not hold them as done but
 * objects/ does (with an intact record): such a cell is finished and must not run again.
 * Returns the keys adopted.
 */
export async function adoptArtifacts(store: Store, keys: string[]): Promise<string[]> {
  const states = store.statesByKeys(keys);
  const adopted: string[] = [];
  for (const key of keys) {
    if (states.get(key)?.state === 'done') continue;
    const rel = store.objectRel(key);
    const dir = store.abs(rel);
    if (!existsSync(dir)) continue;
    const checked = await checkFolder(dir, key, false);
    if (!checked.ok) continue; // damaged or foreign: the cell runs and its folder is replaced
    store.indexArtifact(checked.record, { dirRel: rel, metrics: checked.metrics, provenance: checked.provenance }, false);
    adopted.push(key);
  }
  return adopted;
}
