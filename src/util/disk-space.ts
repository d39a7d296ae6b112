// A full disk is a failure of its own, not a cell's: it is recognised wherever it surfaces (a
// stage's write, the artifact rename, an SQLite write), reported with the folder and the space
// needed, and ends the run with its own exit code so that scripts can tell it from a bug.
import { existsSync, readdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Exit code of a run (or command) stopped by a full disk. */
export const DISK_FULL_EXIT_CODE = 3;

/**
 * Room kept free beyond what a cell is expected to write: the database, its WAL and the logs
 * grow too, and a disk filled to the last byte makes every tool on the machine misbehave.
 * SEI_DISK_RESERVE_BYTES overrides it (small test filesystems).
 */
export function diskReserveBytes(): number {
  const env = Number(process.env.SEI_DISK_RESERVE_BYTES);
  return Number.isFinite(env) && env >= 0 ? env : 8 * 2 ** 20;
}

export class DiskFullError extends Error {
  readonly exitCode = DISK_FULL_EXIT_CODE;
  constructor(message: string, readonly path: string, readonly neededBytes?: number, readonly freeBytes?: number) {
    super(message);
    this.name = 'DiskFullError';
  }
}

export function isDiskFullError(e: unknown): e is DiskFullError {
  return e instanceof Error && (e as { exitCode?: unknown }).exitCode === DISK_FULL_EXIT_CODE && e.name === 'DiskFullError';
}

const DISK_FULL_TEXT = /\bENOSPC\b|no space left on device|database or disk is full|\bSQLITE_FULL\b|\bEDQUOT\b|disk quota exceeded/i;

/** Whether an error (or an error message from a worker) says the disk or quota is full. */
export function isOutOfSpace(e: unknown): boolean {
  if (typeof e === 'string') return DISK_FULL_TEXT.test(e);
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return true;
  return DISK_FULL_TEXT.test(e.message);
}

/** Bytes available to this user on the filesystem holding `path` (or its nearest existing parent). */
export function freeBytes(path: string): number {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  const st = statfsSync(p);
  return Number(st.bavail) * Number(st.bsize);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** The error for a write that found no room: names the folder and what was needed. */
export function diskFullAt(path: string, neededBytes: number | undefined, cause?: string, lowerBound = false): DiskFullError {
  let free: number | undefined;
  try { free = freeBytes(path); } catch { /* the filesystem is gone too */ }
  const need = neededBytes !== undefined ? `; ${lowerBound ? 'at least' : 'about'} ${formatBytes(neededBytes)} needed` : '';
  const have = free !== undefined ? `, ${formatBytes(free)} free` : '';
  return new DiskFullError(
    `disk full: no room to write in ${path}${have}${need}${cause ? ` (${cause.split('\n')[0]})` : ''}; ` +
      'free some space and run the same command again (finished cells are kept)',
    path, neededBytes, free,
  );
}

/** Throw a DiskFullError unless `path`'s filesystem has `neededBytes` free. */
export function ensureFreeSpace(path: string, neededBytes: number, what: string): void {
  const free = freeBytes(path);
  if (free >= neededBytes) return;
  throw new DiskFullError(
    `disk full: ${what} needs about ${formatBytes(neededBytes)} in ${path}, but only ${formatBytes(free)} is free; ` +
      'free some space and run the same command again (finished cells are kept)',
    path, neededBytes, free,
  );
}

/** Bytes of the regular files under `path`, or of the file itself (0 when it is gone). */
export function folderBytes(path: string): number {
  let total = 0;
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else if (st.isFile()) total += st.size;
  };
  try { walk(path); } catch { /* vanished */ }
  return total;
}
