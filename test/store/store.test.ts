// The store on real SQLite files: creation, refusal of foreign folders and newer schemas,
// read-only access for reports, cell lookup by prefix, the lock's liveness rules.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isLockStale, openStore, StoreError } from '../../src/store/store.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { plan, tempDir, writeText } from '../exec/helpers.js';

describe('store', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir('sei-store-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a store in a missing or empty folder (a README is fine) and reopens it', () => {
    const d = join(dir, 'artifacts');
    mkdirSync(d);
    writeFileSync(join(d, 'README.md'), 'artifacts live here\n');
    const s = openStore(d);
    assert.equal(s.listCells().length, 0);
    s.close();
    const again = openStore(d, { readonly: true });
    assert.deepEqual(again.pipelines(), []);
    again.close();
  });

  it('refuses a folder that is not a store, a foreign database and a newer schema, with clear errors', () => {
    const foreign = join(dir, 'photos');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'cat.jpg'), 'x');
    assert.throws(() => openStore(foreign), (e: unknown) => e instanceof StoreError && /not a split-et-impera store.*cat\.jpg/.test((e as Error).message));

    const garbage = join(dir, 'garbage');
    mkdirSync(garbage);
    writeFileSync(join(garbage, 'store.sqlite'), 'this is not sqlite at all, just text that is long enough to look like a header');
    assert.throws(() => openStore(garbage), (e: unknown) => e instanceof StoreError && /cannot open the store database/.test((e as Error).message));

    const other = join(dir, 'other');
    mkdirSync(other);
    const db = new Database(join(other, 'store.sqlite'));
    db.exec('CREATE TABLE t(x)');
    db.close();
    assert.throws(() => openStore(other), /SQLite database of something else/);

    const newer = join(dir, 'newer');
    openStore(newer).close();
    const db2 = new Database(join(newer, 'store.sqlite'));
    db2.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db2.close();
    assert.throws(() => openStore(newer, { readonly: true }), new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this sei understands`));

    assert.throws(() => openStore(join(dir, 'nothing'), { readonly: true }), /no store at/);
  });

  it('records a run: slots, pending cells, states, attempts; lists by pipeline in plan order', () => {
    const s = openStore(join(dir, 'st'));
    try {
      const cells = [writeText('w', 'one'), writeText('w', 'two')];
      const p = plan('pipe', cells);
      s.beginRun({ id: 'r1', pipeline: 'pipe', file: 'pipe.yaml', planHash: p.pipeline.hash, pid: process.pid, host: hostname(), jobs: 1, total: 2, startedAt: new Date().toISOString() }, p.cells);
      assert.deepEqual(s.listCells({ pipeline: 'pipe' }).map((c) => [c.coords.text, c.state]), [['one', 'pending'], ['two', 'pending']]);
      s.markRunning(cells[0]!.key, { runId: 'r1', attempt: 1, logRel: 'logs/r1/a.log', startedAt: new Date().toISOString(), reasons: [{ kind: 'new' }] });
      s.markFailed(cells[0]!.key, { runId: 'r1', failure: 'crash', error: 'boom', endedAt: new Date().toISOString(), final: false });
      assert.equal(s.getCell(cells[0]!.id)!.state, 'pending');
      s.markRunning(cells[0]!.key, { runId: 'r1', attempt: 2, logRel: 'logs/r1/a.log', startedAt: new Date().toISOString() });
      assert.equal(s.interruptStale(), 1);
      const d = s.getCell(cells[0]!.id.slice(0, 6))!;
      assert.equal(d.state, 'interrupted');
      assert.equal(d.attempts, 2);
      assert.deepEqual(d.attemptList.map((a) => [a.n, a.state, a.failure]), [[1, 'failed', 'crash'], [2, 'interrupted', 'interrupted']]);
      assert.deepEqual(d.reasons, [{ kind: 'new' }]);
      assert.equal(d.logPath, join(dir, 'st', 'logs/r1/a.log'));
      assert.equal(s.listCells({ state: 'interrupted' }).length, 1);
      assert.equal(s.listCells({ pipeline: 'pipe', instance: 'w', state: 'pending' }).length, 1);
      assert.equal(s.getCell('ffffffffffff'), undefined);
      assert.throws(() => s.getCell('xyz'), /not a cell id/);
    } finally {
      s.close();
    }
  });

  it('judges a lock stale by a dead pid on this host or an old heartbeat elsewhere', () => {
    const base = { runId: 'r', pipeline: 'p', startedAt: new Date().toISOString() };
    assert.equal(isLockStale({ ...base, pid: process.pid, host: hostname(), heartbeatMs: Date.now() }, 30_000), false);
    assert.equal(isLockStale({ ...base, pid: 2 ** 22 + 777, host: hostname(), heartbeatMs: Date.now() }, 30_000), true);
    assert.equal(isLockStale({ ...base, pid: 1, host: 'elsewhere', heartbeatMs: Date.now() - 5_000 }, 30_000), false);
    assert.equal(isLockStale({ ...base, pid: 1, host: 'elsewhere', heartbeatMs: Date.now() - 60_000 }, 30_000), true);
  });
});

describe('store gc', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir('sei-gc-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes unreachable artifacts and their rows, and stray folders no row names; keeps reachable ones', async () => {
    const { collectGarbage } = await import('../../src/store/gc.js');
    const { takeManifest } = await import('../../src/store/manifest.js');
    const s = openStore(join(dir, 'st'));
    try {
      const keep = writeText('w', 'keep');
      const drop = writeText('w', 'drop');
      const p = plan('pipe', [keep, drop]);
      s.beginRun({ id: 'r1', pipeline: 'pipe', file: 'p.yaml', planHash: 'h', pid: process.pid, host: hostname(), jobs: 1, total: 2, startedAt: new Date().toISOString() }, p.cells);
      for (const c of p.cells) {
        const rel = s.objectRel(c.key);
        mkdirSync(s.abs(rel), { recursive: true });
        writeFileSync(join(s.abs(rel), 'result.json'), '{"metrics":{}}');
        s.markDone(c.key, { runId: 'r1', dirRel: rel, manifest: await takeManifest(s.abs(rel)), metrics: {}, provenance: {}, startedAt: 'a', endedAt: 'b', durationMs: 1 });
      }
      const stray = join(s.objectsDir, 'ee', 'e'.repeat(64));
      mkdirSync(stray, { recursive: true });
      writeFileSync(join(stray, 'x.bin'), Buffer.alloc(100));

      const dry = collectGarbage(s, new Set([keep.key]), { dryRun: true });
      assert.deepEqual(dry.removed.map((r) => [r.key.slice(0, 4), r.recorded]).sort(), [[drop.key.slice(0, 4), true], ['eeee', false]].sort());
      assert.equal(dry.kept, 1);
      assert.ok(existsSync(stray), 'dry run removes nothing');

      const real = collectGarbage(s, new Set([keep.key]), { dryRun: false });
      assert.equal(real.bytes, dry.bytes);
      assert.equal(existsSync(stray), false);
      assert.equal(existsSync(s.abs(s.objectRel(drop.key))), false);
      assert.equal(existsSync(s.abs(s.objectRel(keep.key))), true);
      assert.deepEqual(s.listCells().map((c) => c.key), [keep.key]);
    } finally {
      s.close();
    }
  });
});
