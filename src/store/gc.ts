// Garbage collection by reachability: artifact folders (and their rows) whose cache key no
// current pipeline plans are removed. Folders under objects/ that no row names are removed too.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { folderBytes } from '../util/disk-space.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Store } from './store.js';

export interface GcItem {
  key: string;
  dir: string;
  bytes: number;
  /** Whether the store had a row for it (false: a stray folder). */
  recorded: boolean;
}

export interface GcResult {
  removed: GcItem[];
  /** Rows without an artifact (failed, pending) that were forgotten. */
  forgottenRows: number;
  bytes: number;
  kept: number;
}

/** What gc would remove (dryRun) or removes. The caller holds the run lock when not a dry run. */
export function collectGarbage(store: Store, reachable: Set<string>, options: { dryRun: boolean }): GcResult {
  const removed: GcItem[] = [];
  const rowsToForget: string[] = [];
  let kept = 0;
  const rows = store.allKeys();
  const known = new Set(rows.map((r) => r.key));
  for (const row of rows) {
    if (reachable.has(row.key)) { kept++; continue; }
    rowsToForget.push(row.key);
    const dir = store.abs(store.objectRel(row.key));
    if (existsSync(dir)) removed.push({ key: row.key, dir, bytes: folderBytes(dir), recorded: true });
  }
  // Stray folders: renamed into objects/ but never recorded (a crash between the two steps).
  if (existsSync(store.objectsDir)) {
    for (const prefix of readdirSync(store.objectsDir)) {
      const pdir = join(store.objectsDir, prefix);
      if (!statSync(pdir).isDirectory()) continue;
      for (const key of readdirSync(pdir)) {
        if (known.has(key) || reachable.has(key)) continue;
        const dir = join(pdir, key);
        removed.push({ key, dir, bytes: folderBytes(dir), recorded: false });
      }
    }
  }
  if (!options.dryRun) {
    // Rows first: a crash midway leaves stray folders (removed next time), never rows naming
    // folders that are gone.
    store.deleteCells(rowsToForget);
    for (const item of removed) {
      const trash = join(store.tmpDir, `gc-${item.key.slice(0, 12)}-${randomBytes(3).toString('hex')}`);
      renameSync(item.dir, trash);
      rmSync(trash, { recursive: true, force: true });
    }
    for (const prefix of existsSync(store.objectsDir) ? readdirSync(store.objectsDir) : []) {
      const pdir = join(store.objectsDir, prefix);
      try { if (readdirSync(pdir).length === 0) rmSync(pdir, { recursive: true }); } catch { /* ignore */ }
    }
  }
  return {
    removed,
    forgottenRows: rowsToForget.length - removed.filter((r) => r.recorded).length,
    bytes: removed.reduce((s, r) => s + r.bytes, 0),
    kept,
  };
}
