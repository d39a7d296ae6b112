// The database as an index over the artifact folders: rebuilt after it was lost, a folder it
// never recorded adopted, damaged folders left alone; readers leave no -wal/-shm files; a
// takeover waits for the dead run's workers; an older schema is migrated.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runPlan, type RunEvent } from '../../src/exec/orchestrator.js';
import { awaitOrphanedWorkers } from '../../src/exec/orphans.js';
import { WORKER_SCRIPT } from '../../src/exec/local.js';
import { RECORD_FILE } from '../../src/store/artifact-record.js';
import { rebuildIndex } from '../../src/store/rebuild.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from '../../src/store/schema.js';
import { isProcessAlive, openStore } from '../../src/store/store.js';
import { concat, doneCounts, FIXTURE_STAGES, plan, tempDir, writeText } from '../exec/helpers.js';

const dbFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('store.sqlite')).sort();

describe('store index rebuilt from the artifacts', function () {
  this.timeout(60_000);
  let dir: string;
  let storeDir: string;
  let journal: string;
  const env = (): NodeJS.ProcessEnv => ({ SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal });
  const cells = () => {
    const a = writeText('words', 'alpha');
    const b = writeText('words', 'beta');
    return [a, b, concat('joined', [a, b])];
  };
  const snapshot = () => {
    const st = openStore(storeDir, { readonly: true });
    try {
      return st.listCells({ pipeline: 'demo' }).map((c) => ({ key: c.key, id: c.id, state: c.state, coords: c.coords, params: c.params, metrics: c.metrics, dir: c.dir }));
    } finally {
      st.close();
    }
  };

  beforeEach(() => {
    dir = tempDir('sei-rebuild-');
    storeDir = join(dir, 'store');
    journal = join(dir, 'journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a lost database is rebuilt from the folders: same cells, nothing runs again; readers leave no -wal/-shm', async () => {
    const p = plan('demo', cells());
    assert.equal((await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env() })).exitCode, 0);
    assert.deepEqual(dbFiles(storeDir), ['store.sqlite'], 'the WAL is folded in and removed on close');
    const before = snapshot();
    assert.deepEqual(dbFiles(storeDir), ['store.sqlite'], 'a reader leaves no -wal/-shm file');

    rmSync(join(storeDir, 'store.sqlite'));
    assert.throws(() => openStore(storeDir, { readonly: true }), /lost its database.*sei store rebuild/);
    const st = openStore(storeDir);
    const r = await rebuildIndex(st);
    st.close();
    assert.deepEqual({ folders: r.folders, indexed: r.indexed, known: r.known, skipped: r.skipped }, { folders: 3, indexed: 3, known: 0, skipped: [] });
    assert.deepEqual(snapshot(), before);

    // The run finds everything cached; a database emptied by a lost WAL is rebuilt by the run itself.
    const events: RunEvent[] = [];
    const again = await runPlan(p, { store: storeDir, workerEnv: env(), onEvent: (e) => events.push(e) });
    assert.equal(again.cached, 3);
    const db = new Database(join(storeDir, 'store.sqlite'));
    db.exec('DELETE FROM cells; DELETE FROM runs; DELETE FROM slots; DELETE FROM attempts;');
    db.close();
    const third = await runPlan(p, { store: storeDir, workerEnv: env(), onEvent: (e) => events.push(e) });
    assert.equal(third.cached, 3);
    const note = events.find((e) => e.type === 'reindexed');
    assert.ok(note && note.type === 'reindexed' && note.rebuilt?.indexed === 3);
    assert.deepEqual([...doneCounts(journal).values()], [1, 1], 'each cell ran once');
  });

  it('a finished folder the database never recorded is adopted, not run again; damaged ones are left alone', async () => {
    const [a, b, j] = cells();
    const p = plan('demo', [a!, b!, j!]);
    await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env() });
    // As after a crash between the rename into objects/ and the row saying done.
    const db = new Database(join(storeDir, 'store.sqlite'));
    db.prepare("UPDATE cells SET state = 'running', dir = NULL, manifest = NULL WHERE key = ?").run(a!.key);
    db.close();
    const events: RunEvent[] = [];
    const s = await runPlan(p, { store: storeDir, workerEnv: env(), onEvent: (e) => events.push(e) });
    assert.equal(s.cached, 3);
    assert.ok(events.some((e) => e.type === 'reindexed' && e.adopted === 1));
    assert.equal(doneCounts(journal).get('alpha'), 1);

    // Damaged (a file changed) and record-less folders are not indexed.
    const st = openStore(storeDir);
    const alphaDir = st.abs(st.objectRel(a!.key));
    const betaDir = st.abs(st.objectRel(b!.key));
    st.close();
    writeFileSync(join(alphaDir, 'text.txt'), 'tampered');
    rmSync(join(betaDir, RECORD_FILE));
    rmSync(join(storeDir, 'store.sqlite'));
    const fresh = openStore(storeDir);
    const r = await rebuildIndex(fresh);
    fresh.close();
    assert.equal(r.indexed, 1);
    assert.deepEqual(r.skipped.map((x) => [x.dir, x.reason.replace(/:.*/, '')]).sort(), [[alphaDir, 'damaged'], [betaDir, 'no cell.json (written by an older sei, or not an artifact)']].sort());
  });

  it('a takeover waits for the dead run\'s workers, and kills those that linger', async () => {
    // Workers forked here: their parent (this test) lives, so they stay until told otherwise.
    const quitting = fork(WORKER_SCRIPT, [], { stdio: 'ignore' });
    const lingering = fork(WORKER_SCRIPT, [], { stdio: 'ignore' });
    await Promise.all([quitting, lingering].map((w) => new Promise((r) => w.once('message', r))));
    setTimeout(() => quitting.disconnect(), 100); // exits by itself once its channel closes
    const t0 = Date.now();
    const killed = await awaitOrphanedWorkers([quitting.pid!, lingering.pid!], 600);
    assert.equal(killed, 1, 'only the lingering worker had to be killed');
    assert.ok(Date.now() - t0 >= 600);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!isProcessAlive(quitting.pid!) && !isProcessAlive(lingering.pid!));
    assert.equal(await awaitOrphanedWorkers([process.pid], 100), 0, 'a pid that is not a worker is never killed');
  });

  it('a store of schema version 1 is migrated when a run opens it; readers still read it', () => {
    const db = new Database(join(dir, 'store.sqlite'));
    // Version 1: no lock.workers (added in 2), no attempts.cpu_ms (added in 3).
    db.exec(SCHEMA_SQL.replace(/,\s*workers\s+TEXT[^\n]*\n/, '\n').replace(/\n\s*cpu_ms\s+INTEGER[^\n]*/, ''));
    db.prepare("INSERT INTO meta(name, value) VALUES ('format', 'split-et-impera-store')").run();
    db.prepare("INSERT INTO lock VALUES (1, 'r1', 1, 'h', 'p', 't', 0)").run();
    db.pragma('user_version = 1');
    db.close();
    const reader = openStore(dir, { readonly: true });
    assert.equal(reader.lockHolder()?.runId, 'r1');
    assert.deepEqual(reader.runAttempts('r1'), [], 'the attempts query reads a store without cpu_ms');
    reader.close();
    const writer = openStore(dir);
    writer.setLockWorkers('r1', [11, 12]);
    assert.deepEqual(writer.lockHolder()?.workers, [11, 12]);
    writer.close();
    const migrated = new Database(join(dir, 'store.sqlite'), { readonly: true });
    assert.equal(migrated.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.ok((migrated.pragma('table_info(attempts)') as { name: string }[]).some((c) => c.name === 'cpu_ms'), 'attempts.cpu_ms added');
    migrated.close();
  });
});
