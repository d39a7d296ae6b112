// The store: one SQLite database (runs, cells, attempts, slots, the run lock) beside the
// content-addressed artifact folders. This module is the only code that opens the database; the
// orchestrator is its only writer, readers (status, reports, recommend) open it read-only.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../util/errors.js';
import type { KeyParts, NotCachedReason, PlannedCell, PlannedInput } from './cell-types.js';
import type { ArtifactRecord } from './artifact-record.js';
import { diskFullAt, isOutOfSpace } from '../util/disk-space.js';
import type { Manifest } from './manifest.js';
import { MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION, STORE_FORMAT } from './schema.js';
import type { CellRecord, CellState } from './types.js';

/** A store that cannot be opened (not a store, newer schema, damaged file): exit code 2. */
export class StoreError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

export const DB_FILE = 'store.sqlite';

/** Entries a folder may hold and still count as "empty" when a new store is created in it
 * (cache/ is the planner's file index, written before the first run). */
const IGNORABLE = new Set(['README.md', '.gitkeep', '.gitignore', '.DS_Store', 'cache']);
/** The folders a store keeps beside its database: a folder holding only these (and objects/)
 * is a store whose database was lost, and gets a new one (rebuilt from objects/ by the run). */
const STORE_FOLDERS = new Set(['objects', 'tmp', 'logs']);

export interface OpenStoreOptions {
  /** Open read-only; the store must exist. */
  readonly?: boolean;
  /** Create the store if the folder is missing or empty (default: true unless readonly). */
  create?: boolean;
}

/** Everything the store knows about a cell beyond its CellRecord (for `sei explain`). */
export interface CellDetail extends CellRecord {
  slot: string;
  inputs: Record<string, PlannedInput>;
  keyParts: KeyParts;
  reasons?: NotCachedReason[];
  manifest?: Manifest;
  runId?: string;
  attemptList: AttemptRecord[];
}

/** What deciding "cached or not" needs of a stored cell (read in bulk, so kept small). */
export interface StoredState {
  key: string;
  state: CellState;
  /** Absolute artifact folder, when done. */
  dir?: string;
  manifest?: Manifest;
  metrics?: Record<string, unknown>;
  error?: string;
}

export interface AttemptRecord {
  n: number;
  runId: string;
  state: string;
  failure?: string;
  error?: string;
  logPath?: string;
  startedAt: string;
  endedAt?: string;
}

/** One attempt of a run, with the cell it ran (see Store.runAttempts). */
export interface RunAttempt {
  key: string;
  cellId: string;
  instance: string;
  stage: string;
  coords: Record<string, unknown>;
  /** Ids of the upstream cells the cell consumes. */
  upstream: string[];
  n: number;
  state: string;
  startedAt: string;
  endedAt?: string;
  /** CPU time the attempt took (user + system of the process that ran it), when recorded. */
  cpuMs?: number;
}

export interface LockInfo {
  runId: string;
  pid: number;
  host: string;
  pipeline: string;
  startedAt: string;
  heartbeatMs: number;
  /** Pids of the run's worker processes busy with a cell (same host as pid). */
  workers?: number[];
}

export interface RunRecord {
  id: string;
  pipeline: string;
  file: string;
  planHash: string;
  state: string;
  pid: number;
  host: string;
  jobs: number;
  total: number;
  cached: number;
  done: number;
  failed: number;
  startedAt: string;
  endedAt?: string;
}

export interface SlotRecord {
  pipeline: string;
  slot: string;
  instance: string;
  cellId: string;
  key: string;
  keyParts: KeyParts;
  active: boolean;
}

export interface CellFilter {
  /** Only the cells of this pipeline's latest run (its active slots), in plan order. */
  pipeline?: string;
  instance?: string;
  state?: CellState;
}

export type AcquireResult =
  | { ok: true; /** The dead run whose lock was taken over. */ replaced?: LockInfo }
  | { ok: false; holder: LockInfo };

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock holder is gone: its process is dead (same host) or its heartbeat is stale. */
export function isLockStale(lock: LockInfo, staleMs: number, now = Date.now()): boolean {
  if (lock.host === hostname() && !isProcessAlive(lock.pid)) return true;
  return now - lock.heartbeatMs > staleMs;
}

export function describeLock(lock: LockInfo): string {
  const age = Math.max(0, Math.round((Date.now() - lock.heartbeatMs) / 1000));
  return `run ${lock.runId} of pipeline '${lock.pipeline}' (pid ${lock.pid} on host ${lock.host}, since ${lock.startedAt}, last heartbeat ${age}s ago)`;
}

interface CellRow {
  key: string; id: string; pipeline: string; instance: string; stage: string; slot: string;
  coords: string; params: string; inputs: string; key_parts: string; state: string;
  dir: string | null; manifest: string | null; metrics: string | null; provenance: string | null;
  error: string | null; reasons: string | null; log_path: string | null; run_id: string | null;
  attempts: number; started_at: string | null; ended_at: string | null; duration_ms: number | null;
}

const parse = <T>(text: string | null): T | undefined => (text == null ? undefined : (JSON.parse(text) as T));
const nowIso = (): string => new Date().toISOString();

/** A store whose database is gone or empty while its artifact folders are there. */
function lostDatabase(dir: string, what: string): StoreError {
  return new StoreError(`the store ${dir} ${what}, but its artifact folders (objects/) are there: ` +
    `\`sei store rebuild --store ${dir}\` rebuilds the database from them (\`sei run\` does so by itself)`);
}

export function storeExists(dir: string): boolean {
  return existsSync(join(dir, DB_FILE));
}

export function openStore(dir: string, options: OpenStoreOptions = {}): Store {
  return new Store(resolve(dir), options);
}

export class Store {
  readonly dir: string;
  readonly readonly: boolean;
  private db!: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(dir: string, options: OpenStoreOptions = {}) {
    this.dir = dir;
    this.readonly = options.readonly === true;
    const dbPath = join(dir, DB_FILE);
    const create = options.create ?? !this.readonly;
    if (!existsSync(dbPath)) {
      if (!create) {
        if (existsSync(join(dir, 'objects'))) throw lostDatabase(dir, `has lost its database (${DB_FILE})`);
        throw new StoreError(`no store at ${dir} (no ${DB_FILE}); run a pipeline first or pass --store`);
      }
      if (existsSync(dir)) {
        if (!statSync(dir).isDirectory()) throw new StoreError(`store path ${dir} is not a folder`);
        const entries = readdirSync(dir);
        const foreign = entries.filter((f) => !IGNORABLE.has(f) && !STORE_FOLDERS.has(f) && !f.startsWith(`${DB_FILE}-`) && !f.startsWith(`${DB_FILE}.damaged-`));
        if (foreign.length > 0) {
          throw new StoreError(
            `${dir} is not a split-et-impera store (no ${DB_FILE}, but it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); choose another --store`,
          );
        }
      }
      mkdirSync(dir, { recursive: true });
    }
    // Switching to WAL takes a lock that SQLite's busy handler does not wait for, so a store being
    // created by another process at the same moment answers SQLITE_BUSY: retry for a while.
    const deadline = Date.now() + 15_000;
    let db: Database.Database | undefined;
    for (;;) {
      try {
        db = this.readonly ? openForReading(dbPath) : new Database(dbPath, {});
        this.db = db;
        db.pragma('busy_timeout = 10000');
        if (!this.readonly) {
          db.pragma('journal_mode = WAL');
          // WAL + NORMAL survives process crashes; an artifact is fsynced before its row says done.
          db.pragma('synchronous = NORMAL');
        }
        this.checkOrInit();
        break;
      } catch (e) {
        if (db?.open) db.close();
        if (e instanceof StoreError) throw e;
        if (isOutOfSpace(e)) throw diskFullAt(dir, undefined, (e as Error).message);
        const code = (e as { code?: string }).code ?? '';
        if (code.startsWith('SQLITE_BUSY') && Date.now() < deadline) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
          continue;
        }
        throw new StoreError(`cannot open the store database ${dbPath}: ${(e as Error).message}`);
      }
    }
    if (!this.readonly) for (const sub of ['objects', 'tmp', 'logs', 'cache']) mkdirSync(join(dir, sub), { recursive: true });
  }

  private checkOrInit(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").get() !== undefined;
    if (version === 0 && !hasMeta) {
      if (this.readonly) {
        if (existsSync(join(this.dir, 'objects'))) throw lostDatabase(this.dir, `has an empty database (${DB_FILE}: its content was lost, e.g. with its -wal file)`);
        throw new StoreError(`${this.dir} holds an empty database: a store being created, or not a store`);
      }
      const tables = this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type='table'").get() as { n: number };
      if (tables.n > 0) throw new StoreError(`${join(this.dir, DB_FILE)} is an SQLite database of something else, not a store`);
      // Idempotent: two runs creating the same store at once both end up with one schema.
      this.db.transaction(() => {
        this.db.exec(SCHEMA_SQL);
        this.db.prepare('INSERT OR IGNORE INTO meta(name, value) VALUES (?, ?)').run('format', STORE_FORMAT);
        this.db.prepare('INSERT OR IGNORE INTO meta(name, value) VALUES (?, ?)').run('created_at', nowIso());
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
      return;
    }
    const format = hasMeta
      ? (this.db.prepare("SELECT value FROM meta WHERE name='format'").get() as { value: string } | undefined)?.value
      : undefined;
    if (format !== STORE_FORMAT) throw new StoreError(`${join(this.dir, DB_FILE)} is not a split-et-impera store`);
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `the store ${this.dir} has schema version ${version}, newer than this sei understands (${SCHEMA_VERSION}); upgrade sei`,
      );
    }
    if (version < SCHEMA_VERSION && !this.readonly) {
      this.db.transaction(() => {
        const now = this.db.pragma('user_version', { simple: true }) as number; // another process may have migrated
        for (let v = now + 1; v <= SCHEMA_VERSION; v++) {
          const step = MIGRATIONS[v];
          if (step) this.db.exec(step);
        }
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /**
   * Close the database. A writer first copies the WAL into the main file, so the store on disk
   * is whole in store.sqlite alone (a copy or backup without the -wal file loses nothing).
   */
  close(): void {
    if (!this.db.open) return;
    if (!this.readonly) this.checkpoint('TRUNCATE');
    this.db.close();
  }

  /**
   * Copy the WAL into the main database file. PASSIVE never waits for readers; TRUNCATE (on
   * close) also empties the WAL. A failure (a busy reader, a full disk) only delays it.
   */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE'): boolean {
    try {
      this.db.pragma(`wal_checkpoint(${mode})`);
      return true;
    } catch {
      return false;
    }
  }

  /** SQLite's quick integrity check: 'ok', or what is wrong. */
  quickCheck(): string {
    const rows = this.db.pragma('quick_check') as { quick_check: string }[];
    return rows.map((r) => r.quick_check).join('; ');
  }

  /** No cell and no run recorded: a new database (or one whose content was lost with its WAL). */
  isIndexEmpty(): boolean {
    return (this.stmt('SELECT (SELECT count(*) FROM cells) + (SELECT count(*) FROM runs) AS n').get() as { n: number }).n === 0;
  }

  // ---- paths -------------------------------------------------------------------------------

  get objectsDir(): string { return join(this.dir, 'objects'); }
  get tmpDir(): string { return join(this.dir, 'tmp'); }
  get logsDir(): string { return join(this.dir, 'logs'); }
  get cacheDir(): string { return join(this.dir, 'cache'); }

  /** Relative folder of the artifact of a cache key: objects/ab/<key>. */
  objectRel(key: string): string {
    return join('objects', key.slice(0, 2), key);
  }

  abs(rel: string): string {
    return isAbsolute(rel) ? rel : join(this.dir, rel);
  }

  // ---- readers -----------------------------------------------------------------------------

  private toRecord(row: CellRow, pipeline?: string): CellRecord {
    const rec: CellRecord = {
      id: row.id,
      key: row.key,
      pipeline: pipeline ?? row.pipeline,
      instance: row.instance,
      stage: row.stage,
      coords: JSON.parse(row.coords) as Record<string, unknown>,
      params: JSON.parse(row.params) as unknown,
      state: row.state as CellState,
      attempts: row.attempts,
    };
    if (row.dir) rec.dir = this.abs(row.dir);
    if (row.metrics) rec.metrics = JSON.parse(row.metrics) as Record<string, unknown>;
    if (row.provenance) rec.provenance = JSON.parse(row.provenance) as Record<string, unknown>;
    if (row.error) rec.error = row.error;
    if (row.log_path) rec.logPath = this.abs(row.log_path);
    if (row.started_at) rec.startedAt = row.started_at;
    if (row.ended_at) rec.endedAt = row.ended_at;
    if (row.duration_ms != null) rec.durationMs = row.duration_ms;
    return rec;
  }

  private toDetail(row: CellRow): CellDetail {
    const attemptList = (this.stmt('SELECT * FROM attempts WHERE key = ? ORDER BY n').all(row.key) as {
      n: number; run_id: string; state: string; failure: string | null; error: string | null;
      log_path: string | null; started_at: string; ended_at: string | null;
    }[]).map((a) => {
      const out: AttemptRecord = { n: a.n, runId: a.run_id, state: a.state, startedAt: a.started_at };
      if (a.failure) out.failure = a.failure;
      if (a.error) out.error = a.error;
      if (a.log_path) out.logPath = this.abs(a.log_path);
      if (a.ended_at) out.endedAt = a.ended_at;
      return out;
    });
    return { ...this.toDetailLight(row), attemptList };
  }

  /** Cells, optionally of one pipeline's latest run (plan order), one instance, one state. */
  listCells(filter: CellFilter = {}): CellRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.instance !== undefined) { where.push('c.instance = ?'); args.push(filter.instance); }
    if (filter.state !== undefined) { where.push('c.state = ?'); args.push(filter.state); }
    if (filter.pipeline !== undefined) {
      const sql = `SELECT c.* FROM slots s JOIN cells c ON c.key = s.key
        WHERE s.pipeline = ? AND s.active = 1 ${where.length ? 'AND ' + where.join(' AND ') : ''}
        ORDER BY s.position`;
      return (this.db.prepare(sql).all(filter.pipeline, ...args) as CellRow[]).map((r) => this.toRecord(r, filter.pipeline));
    }
    const sql = `SELECT c.* FROM cells c ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY c.pipeline, c.instance, c.updated_at`;
    return (this.db.prepare(sql).all(...args) as CellRow[]).map((r) => this.toRecord(r));
  }

  /**
   * A cell by id or key, or a unique prefix of either (at least 4 hex digits). When one id has
   * several keys (its code or inputs changed over time), the most recently updated wins.
   * Throws a StoreError on an ambiguous prefix; undefined when nothing matches.
   */
  getCell(idOrPrefix: string): CellDetail | undefined {
    const p = idOrPrefix.trim().toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(p)) throw new StoreError(`'${idOrPrefix}' is not a cell id (4 to 64 hex digits)`);
    const rows = this.stmt(
      `SELECT * FROM cells WHERE substr(id, 1, ?) = ? OR substr(key, 1, ?) = ? ORDER BY updated_at DESC`,
    ).all(p.length, p, p.length, p) as CellRow[];
    if (rows.length === 0) return undefined;
    const ids = new Set(rows.map((r) => r.id));
    const byKey = rows.filter((r) => r.key.startsWith(p));
    if (ids.size > 1 && byKey.length !== 1) {
      const list = [...ids].slice(0, 5).map((id) => id.slice(0, 12)).join(', ');
      throw new StoreError(`cell prefix '${idOrPrefix}' is ambiguous: it matches ${list}${ids.size > 5 ? ', …' : ''}; give more digits`);
    }
    return this.toDetail(byKey.length === 1 && ids.size > 1 ? byKey[0]! : rows[0]!);
  }

  /** Every key of the cell id, newest first (its history as code or inputs changed). */
  keysOfCell(id: string): string[] {
    return (this.stmt('SELECT key FROM cells WHERE id = ? ORDER BY updated_at DESC').all(id) as { key: string }[]).map((r) => r.key);
  }

  /** The states of these keys, for the cached-or-not decision (missing keys are absent). */
  statesByKeys(keys: string[]): Map<string, StoredState> {
    const out = new Map<string, StoredState>();
    const rows = this.rowsByKeys<{ key: string; state: string; dir: string | null; manifest: string | null; metrics: string | null; error: string | null }>(
      'key, state, dir, manifest, metrics, error', keys);
    for (const r of rows) {
      const st: StoredState = { key: r.key, state: r.state as CellState };
      if (r.dir) st.dir = this.abs(r.dir);
      if (r.manifest) st.manifest = JSON.parse(r.manifest) as Manifest;
      if (r.metrics) st.metrics = JSON.parse(r.metrics) as Record<string, unknown>;
      if (r.error) st.error = r.error;
      out.set(r.key, st);
    }
    return out;
  }

  /** The stored rows of these keys (missing keys are absent from the map). */
  cellsByKeys(keys: string[]): Map<string, CellDetail> {
    const out = new Map<string, CellDetail>();
    for (const row of this.rowsByKeys<CellRow>('*', keys)) out.set(row.key, this.toDetailLight(row));
    return out;
  }

  /** `columns` of the cells with these keys, queried in chunks (SQLite caps bound parameters). */
  private rowsByKeys<R>(columns: string, keys: string[]): R[] {
    const rows: R[] = [];
    const chunk = 500;
    for (let i = 0; i < keys.length; i += chunk) {
      const part = keys.slice(i, i + chunk);
      rows.push(...this.db.prepare(`SELECT ${columns} FROM cells WHERE key IN (${part.map(() => '?').join(',')})`).all(...part) as R[]);
    }
    return rows;
  }

  /** A cell's detail without the attempts query (toDetail adds them; used alone in bulk by the planner and orchestrator). */
  private toDetailLight(row: CellRow): CellDetail {
    const rec = this.toRecord(row);
    const detail: CellDetail = {
      ...rec,
      slot: row.slot,
      inputs: JSON.parse(row.inputs) as Record<string, PlannedInput>,
      keyParts: JSON.parse(row.key_parts) as KeyParts,
      attemptList: [],
    };
    const reasons = parse<NotCachedReason[]>(row.reasons);
    if (reasons) detail.reasons = reasons;
    const manifest = parse<Manifest>(row.manifest);
    if (manifest) detail.manifest = manifest;
    if (row.run_id) detail.runId = row.run_id;
    return detail;
  }

  /** The slots of a pipeline (active and former), by slot name. */
  slotsOf(pipeline: string): Map<string, SlotRecord> {
    const rows = this.stmt('SELECT * FROM slots WHERE pipeline = ?').all(pipeline) as {
      pipeline: string; slot: string; instance: string; cell_id: string; key: string; key_parts: string; active: number;
    }[];
    return new Map(rows.map((r) => {
      let parsed: KeyParts | undefined;
      // Parsed on demand: a plan only needs the parts of slots whose key changed.
      const slot = {
        pipeline: r.pipeline, slot: r.slot, instance: r.instance, cellId: r.cell_id, key: r.key, active: r.active === 1,
        get keyParts(): KeyParts {
          parsed ??= JSON.parse(r.key_parts) as KeyParts;
          return parsed;
        },
      };
      return [r.slot, slot as SlotRecord];
    }));
  }

  /** Names of the pipelines that have run on this store. */
  pipelines(): string[] {
    return (this.stmt('SELECT DISTINCT pipeline FROM slots ORDER BY pipeline').all() as { pipeline: string }[]).map((r) => r.pipeline);
  }

  listRuns(pipeline?: string, limit = 20): RunRecord[] {
    const rows = (pipeline === undefined
      ? this.stmt('SELECT * FROM runs ORDER BY started_at DESC LIMIT ?').all(limit)
      : this.stmt('SELECT * FROM runs WHERE pipeline = ? ORDER BY started_at DESC LIMIT ?').all(pipeline, limit)) as {
      id: string; pipeline: string; file: string; plan_hash: string; state: string; pid: number; host: string; jobs: number;
      total: number; cached: number; done: number; failed: number; started_at: string; ended_at: string | null;
    }[];
    return rows.map((r) => {
      const run: RunRecord = {
        id: r.id, pipeline: r.pipeline, file: r.file, planHash: r.plan_hash, state: r.state, pid: r.pid, host: r.host,
        jobs: r.jobs, total: r.total, cached: r.cached, done: r.done, failed: r.failed, startedAt: r.started_at,
      };
      if (r.ended_at) run.endedAt = r.ended_at;
      return run;
    });
  }

  /**
   * Every attempt a run made, with its cell's identity and upstream cell ids, in start order:
   * the timeline a run's profile (src/report/run-profile.ts) is computed from.
   */
  runAttempts(runId: string): RunAttempt[] {
    // a.*: cpu_ms is absent from a store of schema version 2 that a reader opens unmigrated.
    const rows = this.stmt(`SELECT a.*, c.id AS cell_id, c.instance, c.stage, c.coords, c.inputs
      FROM attempts a JOIN cells c ON c.key = a.key WHERE a.run_id = ? ORDER BY a.started_at, a.key, a.n`).all(runId) as {
      key: string; n: number; state: string; started_at: string; ended_at: string | null; cpu_ms?: number | null;
      cell_id: string; instance: string; stage: string; coords: string; inputs: string;
    }[];
    return rows.map((r) => {
      const inputs = JSON.parse(r.inputs) as Record<string, PlannedInput>;
      const out: RunAttempt = {
        key: r.key, cellId: r.cell_id, instance: r.instance, stage: r.stage, n: r.n, state: r.state,
        coords: JSON.parse(r.coords) as Record<string, unknown>,
        upstream: [...new Set(Object.values(inputs).flatMap((i) => i.cellIds))],
        startedAt: r.started_at,
      };
      if (r.ended_at) out.endedAt = r.ended_at;
      if (typeof r.cpu_ms === 'number') out.cpuMs = r.cpu_ms;
      return out;
    });
  }

  lockHolder(): LockInfo | undefined {
    const r = this.stmt('SELECT * FROM lock WHERE one = 1').get() as {
      run_id: string; pid: number; host: string; pipeline: string; started_at: string; heartbeat_ms: number; workers?: string | null;
    } | undefined;
    if (!r) return undefined;
    const lock: LockInfo = { runId: r.run_id, pid: r.pid, host: r.host, pipeline: r.pipeline, startedAt: r.started_at, heartbeatMs: r.heartbeat_ms };
    const workers = parse<number[]>(r.workers ?? null);
    if (workers && workers.length > 0) lock.workers = workers;
    return lock;
  }

  /** Record the pids of the run's busy workers in its lock (a takeover waits for them). */
  setLockWorkers(runId: string, pids: number[]): void {
    this.stmt('UPDATE lock SET workers = ? WHERE one = 1 AND run_id = ?').run(JSON.stringify(pids), runId);
  }

  /**
   * Per stage, the size of the largest artifact the store holds: what a cell of that stage is
   * expected to write (the free-space check before each cell).
   */
  largestArtifactByStage(): Map<string, number> {
    const rows = this.stmt(`SELECT stage, max((SELECT coalesce(sum(json_extract(value, '$.size')), 0) FROM json_each(manifest))) AS bytes
      FROM cells WHERE state = 'done' AND manifest IS NOT NULL GROUP BY stage`).all() as { stage: string; bytes: number | null }[];
    return new Map(rows.map((r) => [r.stage, r.bytes ?? 0]));
  }

  /** Every key with an artifact row (for gc). */
  allKeys(): { key: string; dir?: string; state: string }[] {
    return (this.stmt('SELECT key, dir, state FROM cells').all() as { key: string; dir: string | null; state: string }[])
      .map((r) => (r.dir ? { key: r.key, dir: this.abs(r.dir), state: r.state } : { key: r.key, state: r.state }));
  }

  // ---- the run lock ------------------------------------------------------------------------

  /**
   * Take the store's run lock. A holder whose process is dead (same host) or whose heartbeat is
   * older than `staleMs` is replaced, and the cells it left running become 'interrupted'.
   */
  acquireLock(me: Omit<LockInfo, 'heartbeatMs'>, staleMs: number): AcquireResult {
    return this.db.transaction((): AcquireResult => {
      const holder = this.lockHolder();
      if (holder && !isLockStale(holder, staleMs)) return { ok: false, holder };
      this.stmt('DELETE FROM lock').run();
      this.stmt('INSERT INTO lock(one, run_id, pid, host, pipeline, started_at, heartbeat_ms) VALUES (1, ?, ?, ?, ?, ?, ?)')
        .run(me.runId, me.pid, me.host, me.pipeline, me.startedAt, Date.now());
      if (holder) {
        this.stmt("UPDATE runs SET state = 'interrupted', ended_at = ? WHERE id = ? AND state = 'running'").run(nowIso(), holder.runId);
      }
      return holder ? { ok: true, replaced: holder } : { ok: true };
    }).immediate();
  }

  heartbeat(runId: string): boolean {
    return this.stmt('UPDATE lock SET heartbeat_ms = ? WHERE one = 1 AND run_id = ?').run(Date.now(), runId).changes === 1;
  }

  releaseLock(runId: string): void {
    this.stmt('DELETE FROM lock WHERE one = 1 AND run_id = ?').run(runId);
  }

  // ---- writers (the orchestrator, holding the lock) ------------------------------------------

  /** Cells left 'running' by a run that is gone become 'interrupted'; returns how many. */
  interruptStale(): number {
    return this.db.transaction(() => {
      const t = nowIso();
      this.stmt("UPDATE attempts SET state = 'interrupted', failure = 'interrupted', ended_at = ? WHERE state = 'running'").run(t);
      return this.stmt("UPDATE cells SET state = 'interrupted', error = 'the run was interrupted while this cell ran', updated_at = ? WHERE state = 'running'")
        .run(t).changes;
    }).immediate();
  }

  /**
   * Record a run's start: the run row, the pipeline's slots (with the key parts now planned) and
   * a pending row for every cell the store has not seen.
   */
  beginRun(run: Omit<RunRecord, 'state' | 'cached' | 'done' | 'failed' | 'endedAt'>, cells: PlannedCell[]): void {
    this.db.transaction(() => {
      const t = nowIso();
      this.stmt(`INSERT INTO runs(id, pipeline, file, plan_hash, state, pid, host, jobs, total, started_at)
        VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)`)
        .run(run.id, run.pipeline, run.file, run.planHash, run.pid, run.host, run.jobs, run.total, run.startedAt);
      this.stmt('UPDATE slots SET active = 0 WHERE pipeline = ?').run(run.pipeline);
      const upSlot = this.stmt(`INSERT INTO slots(pipeline, slot, instance, cell_id, key, key_parts, active, position, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
        ON CONFLICT(pipeline, slot) DO UPDATE SET instance = excluded.instance, cell_id = excluded.cell_id, key = excluded.key,
          key_parts = excluded.key_parts, active = 1, position = excluded.position, updated_at = excluded.updated_at`);
      const upCell = this.stmt(`INSERT INTO cells(key, id, pipeline, instance, stage, slot, coords, params, inputs, key_parts, state, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)
        ON CONFLICT(key) DO UPDATE SET pipeline = excluded.pipeline, slot = excluded.slot, coords = excluded.coords,
          inputs = excluded.inputs`);
      cells.forEach((c, i) => {
        const kp = JSON.stringify(c.keyParts);
        upSlot.run(run.pipeline, c.slot, c.instance, c.id, c.key, kp, i, t);
        upCell.run(c.key, c.id, run.pipeline, c.instance, c.stage, c.slot, JSON.stringify(c.coords), JSON.stringify(c.params),
          JSON.stringify(c.inputs), kp, t);
      });
    }).immediate();
  }

  /** A cell starts an attempt: state running, attempt row, why it runs. */
  markRunning(key: string, a: { runId: string; attempt: number; logRel: string; startedAt: string; reasons?: NotCachedReason[] }): void {
    this.db.transaction(() => {
      this.stmt(`UPDATE cells SET state = 'running', run_id = ?, attempts = attempts + 1, log_path = ?, started_at = ?,
          ended_at = NULL, duration_ms = NULL, error = NULL, reasons = coalesce(?, reasons), updated_at = ? WHERE key = ?`)
        .run(a.runId, a.logRel, a.startedAt, a.reasons ? JSON.stringify(a.reasons) : null, nowIso(), key);
      const n = (this.stmt('SELECT coalesce(max(n), 0) + 1 AS n FROM attempts WHERE key = ?').get(key) as { n: number }).n;
      this.stmt(`INSERT INTO attempts(key, n, run_id, state, log_path, started_at) VALUES (?, ?, ?, 'running', ?, ?)`)
        .run(key, n, a.runId, a.logRel, a.startedAt);
    }).immediate();
  }

  /** The artifact is in place (renamed and fsynced): record the cell done. */
  markDone(key: string, d: {
    runId: string; dirRel: string; manifest: Manifest; metrics: Record<string, unknown>;
    provenance: Record<string, unknown>; startedAt: string; endedAt: string; durationMs: number; cpuMs?: number;
  }): void {
    this.db.transaction(() => {
      this.stmt(`UPDATE cells SET state = 'done', dir = ?, manifest = ?, metrics = ?, provenance = ?, error = NULL,
          started_at = ?, ended_at = ?, duration_ms = ?, updated_at = ? WHERE key = ?`)
        .run(d.dirRel, JSON.stringify(d.manifest), JSON.stringify(d.metrics), JSON.stringify(d.provenance),
          d.startedAt, d.endedAt, d.durationMs, nowIso(), key);
      this.closeAttempt(key, 'done', undefined, undefined, d.endedAt, d.cpuMs);
      this.stmt('UPDATE runs SET done = done + 1 WHERE id = ?').run(d.runId);
    }).immediate();
  }

  /** An attempt failed. `final`: no retry follows, the cell is recorded failed (or interrupted). */
  markFailed(key: string, f: {
    runId: string; failure: 'error' | 'crash' | 'timeout' | 'interrupted'; error: string; endedAt: string;
    durationMs?: number; cpuMs?: number; final: boolean;
  }): void {
    this.db.transaction(() => {
      const state: CellState = f.failure === 'interrupted' ? 'interrupted' : f.final ? 'failed' : 'pending';
      this.stmt('UPDATE cells SET state = ?, error = ?, ended_at = ?, duration_ms = ?, updated_at = ? WHERE key = ?')
        .run(state, f.error, f.endedAt, f.durationMs ?? null, nowIso(), key);
      this.closeAttempt(key, f.failure === 'interrupted' ? 'interrupted' : 'failed', f.failure, f.error, f.endedAt, f.cpuMs);
      if (f.final && state === 'failed') this.stmt('UPDATE runs SET failed = failed + 1 WHERE id = ?').run(f.runId);
    }).immediate();
  }

  private closeAttempt(key: string, state: string, failure: string | undefined, error: string | undefined, endedAt: string, cpuMs?: number): void {
    this.stmt(`UPDATE attempts SET state = ?, failure = ?, error = ?, ended_at = ?, cpu_ms = ?
        WHERE key = ? AND n = (SELECT max(n) FROM attempts WHERE key = ?)`)
      .run(state, failure ?? null, error ?? null, endedAt, cpuMs ?? null, key, key);
  }

  /**
   * Index an artifact folder from its own record (a rebuild, or a folder the database lost):
   * the cell row becomes done, an attempt row records where it came from, and `withSlot` also
   * restores the (pipeline, slot) entry. One transaction: the row is whole or absent.
   */
  indexArtifact(rec: ArtifactRecord, art: { dirRel: string; metrics: Record<string, unknown>; provenance: Record<string, unknown> }, withSlot: boolean): void {
    this.db.transaction(() => {
      const t = nowIso();
      const kp = JSON.stringify(rec.keyParts);
      this.stmt(`INSERT INTO cells(key, id, pipeline, instance, stage, slot, coords, params, inputs, key_parts, state, dir, manifest,
          metrics, provenance, log_path, run_id, attempts, started_at, ended_at, duration_ms, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
        ON CONFLICT(key) DO UPDATE SET state = 'done', dir = excluded.dir, manifest = excluded.manifest, metrics = excluded.metrics,
          provenance = excluded.provenance, error = NULL, log_path = excluded.log_path, run_id = excluded.run_id,
          attempts = max(cells.attempts, 1), started_at = excluded.started_at, ended_at = excluded.ended_at,
          duration_ms = excluded.duration_ms, updated_at = excluded.updated_at`)
        .run(rec.key, rec.cellId, rec.pipeline, rec.instance, rec.stage, rec.slot, JSON.stringify(rec.coords), JSON.stringify(rec.params),
          JSON.stringify(rec.inputs), kp, art.dirRel, JSON.stringify(rec.manifest), JSON.stringify(art.metrics), JSON.stringify(art.provenance),
          rec.attempt.logPath, rec.attempt.runId, rec.attempt.startedAt, rec.attempt.endedAt, rec.attempt.durationMs, t);
      // The attempt that made the artifact; an interrupted row of the same run is closed as done.
      const open = this.stmt(`SELECT n FROM attempts WHERE key = ? AND run_id = ? ORDER BY n DESC LIMIT 1`).get(rec.key, rec.attempt.runId) as { n: number } | undefined;
      if (open) {
        this.stmt(`UPDATE attempts SET state = 'done', failure = NULL, error = NULL, ended_at = ?, cpu_ms = ? WHERE key = ? AND n = ?`)
          .run(rec.attempt.endedAt, rec.attempt.cpuMs ?? null, rec.key, open.n);
      } else {
        const n = (this.stmt('SELECT coalesce(max(n), 0) + 1 AS n FROM attempts WHERE key = ?').get(rec.key) as { n: number }).n;
        this.stmt(`INSERT INTO attempts(key, n, run_id, state, log_path, started_at, ended_at, cpu_ms) VALUES (?, ?, ?, 'done', ?, ?, ?, ?)`)
          .run(rec.key, n, rec.attempt.runId, rec.attempt.logPath, rec.attempt.startedAt, rec.attempt.endedAt, rec.attempt.cpuMs ?? null);
      }
      if (withSlot) {
        this.stmt(`INSERT INTO slots(pipeline, slot, instance, cell_id, key, key_parts, active, position, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
          ON CONFLICT(pipeline, slot) DO UPDATE SET instance = excluded.instance, cell_id = excluded.cell_id, key = excluded.key,
            key_parts = excluded.key_parts, active = 1, position = excluded.position, updated_at = excluded.updated_at`)
          .run(rec.pipeline, rec.slot, rec.instance, rec.cellId, rec.key, kp, rec.position, t);
      }
    }).immediate();
  }

  /** Run `work` (synchronous store writes) as one transaction: all of it is written, or none. */
  batch(work: () => void): void {
    this.db.transaction(work).immediate();
  }

  /** Note in the store's meta table when (and how much of) the index was rebuilt. */
  noteRebuilt(indexed: number): void {
    this.stmt('INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value')
      .run('rebuilt_at', `${nowIso()} (${indexed} artifacts)`);
  }

  /** A done cell whose artifact no longer verifies: back to pending, with the reason. */
  markDamaged(key: string, detail: string): void {
    this.stmt(`UPDATE cells SET state = 'pending', error = ?, dir = NULL, manifest = NULL, updated_at = ? WHERE key = ?`)
      .run(`artifact damaged: ${detail}`, nowIso(), key);
  }

  /** Content verified after an mtime change: remember the new mtimes so the next check is quick. */
  refreshManifest(key: string, manifest: Manifest): void {
    this.stmt('UPDATE cells SET manifest = ? WHERE key = ?').run(JSON.stringify(manifest), key);
  }

  finishRun(runId: string, state: 'done' | 'failed' | 'interrupted', cached: number): void {
    this.stmt('UPDATE runs SET state = ?, cached = ?, ended_at = ? WHERE id = ?').run(state, cached, nowIso(), runId);
  }

  /** Forget cells (gc): their rows and attempts; slots keep their key parts for explanations. */
  deleteCells(keys: string[]): void {
    this.db.transaction(() => {
      const delCell = this.stmt('DELETE FROM cells WHERE key = ?');
      const delAtt = this.stmt('DELETE FROM attempts WHERE key = ?');
      for (const k of keys) {
        delCell.run(k);
        delAtt.run(k);
      }
    }).immediate();
  }

  /** The host this process runs on (recorded in locks and runs). */
  static host(): string {
    return hostname();
  }
}

/**
 * Open the database for a reader. A read-only SQLite connection cannot remove the -wal and -shm
 * files it creates, so a reader (status, report) opens read-write but answers queries only
 * (query_only), and its close then leaves the folder as it found it. On a read-only medium it
 * falls back to a true read-only connection.
 */
function openForReading(dbPath: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(dbPath, { fileMustExist: true });
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!/READONLY|CANTOPEN|PERM|ACCES/.test(code)) throw e;
    return new Database(dbPath, { readonly: true, fileMustExist: true });
  }
  db.pragma('query_only = 1');
  return db;
}
