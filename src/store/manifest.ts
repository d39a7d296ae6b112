// The manifest of an artifact folder: every file with its size, mtime and sha256. It is taken
// when a cell finishes and checked before the artifact is reused, so a file altered, truncated
// or removed on disk is noticed and the cell recomputed.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface ManifestEntry {
  /** Path relative to the artifact folder, with '/' separators. */
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export type Manifest = ManifestEntry[];

export type VerifyResult =
  | { ok: true; /** Entries whose mtime moved while the content stayed the same. */ refreshed: ManifestEntry[] }
  | { ok: false; detail: string };

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  walk(root);
  return out.sort();
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Describe every regular file under `root`. */
export async function takeManifest(root: string): Promise<Manifest> {
  const entries: Manifest = [];
  for (const full of listFiles(root)) {
    const st = statSync(full);
    entries.push({
      path: relative(root, full).split(sep).join('/'),
      size: st.size,
      mtimeMs: st.mtimeMs,
      sha256: await hashFile(full),
    });
  }
  return entries;
}

/**
 * Check an artifact folder against its manifest. Size and mtime unchanged → trusted without
 * reading (unless `full`); otherwise the file is hashed again, so a touched but intact file
 * still passes.
 */
export async function verifyManifest(root: string, manifest: Manifest, options: { full?: boolean } = {}): Promise<VerifyResult> {
  const refreshed: ManifestEntry[] = [];
  for (const entry of manifest) {
    const full = join(root, ...entry.path.split('/'));
    let st;
    try {
      st = statSync(full);
    } catch {
      return { ok: false, detail: `${entry.path} is missing` };
    }
    if (!st.isFile()) return { ok: false, detail: `${entry.path} is not a file` };
    if (st.size !== entry.size) {
      return { ok: false, detail: `${entry.path} has ${st.size} bytes, ${entry.size} were recorded` };
    }
    if (st.mtimeMs === entry.mtimeMs && !options.full) continue;
    const digest = await hashFile(full);
    if (digest !== entry.sha256) return { ok: false, detail: `${entry.path} content changed (sha256 differs)` };
    if (st.mtimeMs !== entry.mtimeMs) refreshed.push({ ...entry, mtimeMs: st.mtimeMs });
  }
  return { ok: true, refreshed };
}
