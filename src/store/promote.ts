// The store's folder work around a run: finished outputs enter objects/ by an atomic rename, and
// tmp/ is emptied when a run starts (after a crash) and when it ends. Only the lock holder calls
// these, so nobody else writes into tmp/ meanwhile.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../util/atomic.js';
import type { Store } from './store.js';

/** Remove whatever a dead run left in tmp/ (we hold the lock, so nobody is writing there). */
export function cleanTmp(store: Store): void {
  if (!existsSync(store.tmpDir)) return;
  for (const entry of readdirSync(store.tmpDir)) rmSync(join(store.tmpDir, entry), { recursive: true, force: true });
}

/** Atomically move a finished output folder to its content-addressed place. */
export function promote(store: Store, outDir: string, key: string): string {
  const rel = store.objectRel(key);
  const final = store.abs(rel);
  if (existsSync(final)) {
    // A damaged or unrecorded copy from before: move it aside first, so the rename stays atomic.
    const trash = join(store.tmpDir, `trash-${key.slice(0, 12)}-${randomBytes(3).toString('hex')}`);
    renameSync(final, trash);
    rmSync(trash, { recursive: true, force: true });
  }
  mkdirSync(dirname(final), { recursive: true });
  renameSync(outDir, final);
  fsyncDir(dirname(final));
  return rel;
}

