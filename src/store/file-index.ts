// Content hashes of external inputs (dataset folders, weight files) with a persistent index
// path → (size, mtime, ctime, inode, sha256) in <store>/cache/file-index.sqlite, so an unchanged
// tree of 100,000 files is only stat'ed, never re-read. A file whose stat differs is re-hashed.
// Like git's "racily clean" rule, an entry hashed within RACY_NS of the file's last change is not
// trusted (a same-size write in the same timestamp tick would otherwise go unnoticed).
// New hashes are kept in memory until `flush()`: a plan that fails (a config error) writes
// nothing, and the index file is only read (never rewritten) until then.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { diskFullAt, isOutOfSpace } from '../util/disk-space.js';
import { sha256 } from '../util/hash.js';

const RACY_NS = 100_000_000n; // 100 ms: coarser than any filesystem timestamp tick we meet

export interface TreeHash {
  /** sha256 of the content (a file) or of the sorted (path, size, content hash) list (a folder). */
  hash: string;
  kind: 'file' | 'dir';
  files: number;
  /** Files whose content had to be read (not served by the index). */
  filesRead: number;
}

export class MissingInputError extends Error {
  constructor(readonly path: string) {
    super(`external input ${path} does not exist`);
    this.name = 'MissingInputError';
  }
}

interface Row { path: string; size: string; mtime: string; ctime: string; ino: string; sha: string; hashed_at: string }

const INDEX_FILE = 'file-index.sqlite';

export class FileIndex {
  /** Connection for lookups: the index file opened query-only, or an empty in-memory table. */
  private db: Database.Database | undefined;
  private readonly memo = new Map<string, TreeHash>();
  /** Hashes computed since the last flush, and paths found gone. */
  private readonly pending = new Map<string, Row>();
  private readonly gone = new Set<string>();

  /**
   * `cacheDir` is <store>/cache; the index file is created on first use only. With
   * `persist: false` (a dry run on a store that does not exist yet) the index lives in memory.
   */
  constructor(private readonly cacheDir: string, private readonly persist = true) {}

  private get file(): string {
    return join(this.cacheDir, INDEX_FILE);
  }

  private open(): Database.Database {
    if (!this.db) {
      let db: Database.Database | undefined;
      if (this.persist && existsSync(this.file)) {
        db = new Database(this.file, { fileMustExist: true });
        db.pragma('busy_timeout = 10000');
        db.pragma('query_only = 1');
        if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files'").get()) { db.close(); db = undefined; }
      }
      if (!db) {
        db = new Database(':memory:');
        db.exec(CREATE_TABLE);
      }
      this.db = db;
    }
    return this.db;
  }

  /**
   * Write the hashes computed since the last flush into the index file (created on first use).
   * A full disk is reported as such (the index is a cache, but a run could not go on anyway).
   */
  flush(): void {
    if (!this.persist || (this.pending.size === 0 && this.gone.size === 0)) return;
    this.close();
    let db: Database.Database | undefined;
    try {
      mkdirSync(this.cacheDir, { recursive: true });
      db = new Database(this.file);
      db.pragma('busy_timeout = 10000');
      db.pragma('journal_mode = WAL');
      db.exec(CREATE_TABLE);
      const put = db.prepare('INSERT OR REPLACE INTO files (path, size, mtime, ctime, ino, sha, hashed_at) VALUES (@path, @size, @mtime, @ctime, @ino, @sha, @hashed_at)');
      const del = db.prepare('DELETE FROM files WHERE path = ?');
      db.transaction(() => {
        for (const row of this.pending.values()) put.run(row);
        for (const p of this.gone) del.run(p);
      })();
      this.pending.clear();
      this.gone.clear();
    } catch (e) {
      if (isOutOfSpace(e)) throw diskFullAt(this.cacheDir, undefined, `the file index ${this.file}: ${(e as Error).message}`);
      throw e;
    } finally {
      db?.close();
    }
  }

  /** Close without writing (call flush() first to keep the new hashes). */
  close(): void {
    this.db?.close();
    this.db = undefined;
  }

  /** Hash of a file or folder (memoised for the life of this index object). */
  hashPath(path: string): TreeHash {
    const cached = this.memo.get(path);
    if (cached) return cached;
    let st: BigIntStats;
    try {
      st = statSync(path, { bigint: true });
    } catch {
      throw new MissingInputError(path);
    }
    const result = st.isDirectory() ? this.hashDir(path) : this.hashFiles(path, [{ path, st }], false);
    this.memo.set(path, result);
    return result;
  }

  private hashDir(root: string): TreeHash {
    const files: { path: string; st: BigIntStats }[] = [];
    const seenDirs = new Set<string>();
    const walk = (dir: string, dst: BigIntStats) => {
      const id = `${dst.dev}:${dst.ino}`;
      if (seenDirs.has(id)) return; // a symlink loop
      seenDirs.add(id);
      const names = readdirSync(dir).sort();
      for (const name of names) {
        const p = join(dir, name);
        let st: BigIntStats;
        try { st = statSync(p, { bigint: true }); } catch { continue; } // dangling symlink
        if (st.isDirectory()) walk(p, st);
        else if (st.isFile()) files.push({ path: p, st });
      }
    };
    walk(root, statSync(root, { bigint: true }));
    return this.hashFiles(root, files, true);
  }

  private hashFiles(root: string, files: { path: string; st: BigIntStats }[], isDir: boolean): TreeHash {
    const db = this.open();
    const prefix = isDir ? `${root}/` : root;
    const known = new Map<string, Row>();
    const rows = (isDir
      ? db.prepare('SELECT * FROM files WHERE path >= ? AND path < ?').all(prefix, `${root}0`)
      : db.prepare('SELECT * FROM files WHERE path = ?').all(root)) as Row[];
    for (const r of rows) known.set(r.path, r);
    for (const p of this.gone) known.delete(p);
    for (const [p, r] of this.pending) if (isDir ? p.startsWith(prefix) : p === root) known.set(p, r);

    const updates: Row[] = [];
    const lines: string[] = [];
    let filesRead = 0;
    for (const { path, st } of files) {
      const changed = st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs;
      const row = known.get(path);
      let sha: string;
      if (row && row.size === String(st.size) && row.mtime === String(st.mtimeNs) && row.ctime === String(st.ctimeNs)
        && row.ino === String(st.ino) && BigInt(row.hashed_at) - changed > RACY_NS) {
        sha = row.sha;
      } else {
        const hashedAt = BigInt(Date.now()) * 1_000_000n;
        sha = hashFileContent(path);
        filesRead++;
        updates.push({ path, size: String(st.size), mtime: String(st.mtimeNs), ctime: String(st.ctimeNs), ino: String(st.ino), sha, hashed_at: String(hashedAt) });
      }
      known.delete(path);
      lines.push(isDir ? `${path.slice(prefix.length)}\0${st.size}\0${sha}` : sha);
    }
    const stale = isDir ? [...known.keys()] : [];
    for (const u of updates) { this.pending.set(u.path, u); this.gone.delete(u.path); }
    for (const p of stale) { this.pending.delete(p); this.gone.add(p); }
    const hash = isDir ? sha256('sei-dir-v1', ...lines) : lines[0];
    return { hash, kind: isDir ? 'dir' : 'file', files: files.length, filesRead };
  }
}

function hashFileContent(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, size TEXT NOT NULL, mtime TEXT NOT NULL, ctime TEXT NOT NULL,
  ino TEXT NOT NULL, sha TEXT NOT NULL, hashed_at TEXT NOT NULL)`;
