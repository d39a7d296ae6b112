// The orchestrator with real worker processes, a real SQLite store and the fixture stages.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPlan, StoreBusyError, type RunEvent } from '../../src/exec/orchestrator.js';
import { openStore } from '../../src/store/store.js';
import { concat, doneCounts, FIXTURE_STAGES, plan, readJournalSync, tempDir, writeText } from './helpers.js';

describe('orchestrator', function () {
  this.timeout(60_000);
  let dir: string;
  let storeDir: string;
  let journal: string;
  const env = (): NodeJS.ProcessEnv => ({ SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal });

  beforeEach(() => {
    dir = tempDir();
    storeDir = join(dir, 'store');
    journal = join(dir, 'journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a DAG in dependency order, stores artifacts, and a second run reuses them all', async () => {
    const a = writeText('words', 'alpha');
    const b = writeText('words', 'beta');
    const c = writeText('words', 'gamma');
    const j = concat('joined', [a, b, c]);
    const p = plan('demo', [a, b, c, j]);
    const events: RunEvent[] = [];
    const s1 = await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env(), onEvent: (e) => events.push(e) });
    assert.equal(s1.exitCode, 0);
    assert.equal(s1.done, 4);
    assert.equal(s1.cached, 0);

    const store = openStore(storeDir, { readonly: true });
    try {
      const cells = store.listCells({ pipeline: 'demo' });
      assert.deepEqual(cells.map((x) => x.instance), ['words', 'words', 'words', 'joined']);
      assert.ok(cells.every((x) => x.state === 'done' && x.attempts === 1));
      const joined = cells[3]!;
      assert.equal(readFileSync(join(joined.dir!, 'text.txt'), 'utf8'), 'alpha+beta+gamma');
      assert.ok(joined.dir!.includes(join('objects', j.key.slice(0, 2), j.key)));
      const result = JSON.parse(readFileSync(join(joined.dir!, 'result.json'), 'utf8')) as { metrics: { count: number }; provenance: Record<string, unknown> };
      assert.equal(result.metrics.count, 3);
      assert.equal(typeof result.provenance.host, 'string');
      assert.ok('git' in result.provenance && 'packages' in result.provenance);
      assert.equal(typeof joined.durationMs, 'number');
      assert.ok(existsSync(joined.logPath!), 'per-cell log written');
      assert.equal(store.getCell(j.id.slice(0, 8))?.key, j.key);
    } finally {
      store.close();
    }
    // The gather cell started only after its three inputs were done.
    const order = events.filter((e) => e.type === 'cell-start' || e.type === 'cell-done').map((e) => `${e.type}:${(e as { cell: { instance: string } }).cell.instance}`);
    assert.equal(order.indexOf('cell-start:joined'), order.lastIndexOf('cell-done:words') + 1);

    const s2 = await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env() });
    assert.equal(s2.cached, 4);
    assert.equal(s2.done, 0);
    assert.equal(s2.exitCode, 0);
    assert.equal(readJournalSync(journal).filter((e) => e.event === 'done').length, 4, 'nothing ran twice');
  });

  it('favours cells deeper in the DAG over queued upstream work', async () => {
    const roots = ['r1', 'r2', 'r3', 'r4'].map((t) => writeText('w', t));
    const joins = roots.map((r) => concat('j', [r], { coords: r.coords }));
    const starts: string[] = [];
    const s = await runPlan(plan('depth', [...roots, ...joins]), {
      store: storeDir, jobs: 1, workerEnv: env(),
      onEvent: (e) => { if (e.type === 'cell-start') starts.push(`${e.cell.instance}:${String(e.cell.coords.text)}`); },
    });
    assert.equal(s.exitCode, 0);
    // Breadth first would run every root before any join; here j:r1 runs before the last roots.
    assert.ok(starts.indexOf('j:r1') < starts.indexOf('w:r4'), starts.join(' '));
  });

  it('keep-going: a failed cell blocks only its dependents, reports its log, and the next run re-runs only it', async () => {
    const ok = writeText('w', 'fine');
    const bad = writeText('w', 'broken', { failTimes: 1 });
    const j1 = concat('j', [ok], { coords: { text: 'fine' } });
    const j2 = concat('j', [bad], { coords: { text: 'broken' } });
    const failures: RunEvent[] = [];
    const s1 = await runPlan(plan('kg', [ok, bad, j1, j2]), { store: storeDir, jobs: 2, workerEnv: env(), onEvent: (e) => { if (e.type === 'cell-failed') failures.push(e); } });
    assert.equal(s1.exitCode, 1);
    assert.equal(s1.done, 2);
    assert.equal(s1.failed, 1);
    assert.equal(s1.blocked, 1);
    assert.equal(failures.length, 1);
    const f = failures[0] as Extract<RunEvent, { type: 'cell-failed' }>;
    assert.match(f.error, /planned failure/);
    assert.ok(readFileSync(f.logPath, 'utf8').includes('planned failure'), 'the error is in the cell log');

    const s2 = await runPlan(plan('kg', [ok, bad, j1, j2]), { store: storeDir, jobs: 2, workerEnv: env() });
    assert.equal(s2.exitCode, 0);
    assert.equal(s2.cached, 2);
    assert.equal(s2.done, 2);
    assert.deepEqual(Object.fromEntries(doneCounts(journal)), { fine: 1, broken: 1 });
    const store = openStore(storeDir, { readonly: true });
    try {
      const detail = store.getCell(bad.id)!;
      assert.equal(detail.attempts, 2);
      assert.deepEqual(detail.attemptList.map((x) => x.state), ['failed', 'done']);
      assert.equal(detail.reasons?.[0]?.kind, 'failed-before');
    } finally {
      store.close();
    }
  });

  it('retries an error per `retries`, and a crashed worker once by default; other cells are untouched', async () => {
    const flaky = writeText('w', 'flaky', { failTimes: 1 }, { retries: 1 });
    const oom = writeText('w', 'oom', { failTimes: 1, crash: 'oom' });
    const exits = writeText('w', 'exits', { failTimes: 1, crash: 'exit' });
    const calm = writeText('w', 'calm');
    const events: RunEvent[] = [];
    const s = await runPlan(plan('retry', [flaky, oom, exits, calm]), { store: storeDir, jobs: 2, workerEnv: env(), onEvent: (e) => events.push(e) });
    assert.equal(s.exitCode, 0, JSON.stringify(s.failures));
    assert.equal(s.done, 4);
    assert.deepEqual(Object.fromEntries([...doneCounts(journal)].sort()), { calm: 1, exits: 1, flaky: 1, oom: 1 });
    const crash = events.find((e) => e.type === 'cell-failed' && e.cell.id === oom.id) as Extract<RunEvent, { type: 'cell-failed' }>;
    assert.equal(crash.failure, 'crash');
    assert.match(crash.error, /SIGKILL/);
    assert.equal(crash.willRetry, true);
  });

  it('a worker killed from outside mid-cell: that cell is retried, the others run once', async () => {
    const victim = writeText('w', 'victim', { sleepMs: 1500 });
    const others = ['o1', 'o2', 'o3'].map((t) => writeText('w', t, { sleepMs: 100 }));
    let killed = false;
    const s = await runPlan(plan('kill', [victim, ...others]), {
      store: storeDir, jobs: 2, workerEnv: env(),
      onEvent: (e) => {
        if (e.type === 'cell-start' && e.cell.id === victim.id && !killed && e.pid) {
          killed = true;
          const pid = e.pid;
          // Kill it once the stage is really running (its start is journaled).
          const poll = setInterval(() => {
            if (readJournalSync(journal).some((x) => x.text === 'victim' && x.event === 'start')) {
              clearInterval(poll);
              process.kill(pid, 'SIGKILL');
            }
          }, 20);
        }
      },
    });
    assert.ok(killed);
    assert.equal(s.exitCode, 0);
    const starts = readJournalSync(journal).filter((e) => e.event === 'start');
    assert.equal(starts.filter((e) => e.text === 'victim').length, 2);
    for (const t of ['o1', 'o2', 'o3']) assert.equal(starts.filter((e) => e.text === t).length, 1);
    assert.deepEqual(Object.fromEntries([...doneCounts(journal)].sort()), { o1: 1, o2: 1, o3: 1, victim: 1 });
  });

  it('a per-stage timeout kills the cell and fails it with a clear error', async () => {
    const slow = writeText('w', 'slow', { sleepMs: 20_000 }, { timeoutSec: 0.5 });
    const t0 = Date.now();
    const s = await runPlan(plan('timeout', [slow]), { store: storeDir, jobs: 1, workerEnv: env() });
    assert.ok(Date.now() - t0 < 8000, 'did not wait for the sleep');
    assert.equal(s.exitCode, 1);
    assert.match(s.failures[0]!.error, /timed out after 0.5 s/);
    const store = openStore(storeDir, { readonly: true });
    try {
      assert.equal(store.getCell(slow.id)?.state, 'failed');
    } finally {
      store.close();
    }
  });

  it('fail-fast stops the run at the first failure; keep-going runs everything else', async () => {
    const cells = () => [writeText('w', 'bad', { failTimes: 9, failCounter: join(dir, 'count') }), ...['s1', 's2', 's3', 's4'].map((t) => writeText('w', t, { sleepMs: 400 }))];
    const fast = await runPlan(plan('ff', cells()), { store: storeDir, jobs: 1, keepGoing: false, workerEnv: env() });
    assert.equal(fast.exitCode, 1);
    assert.equal(fast.failed, 1);
    assert.equal(fast.done, 0);
    assert.equal(fast.notStarted + fast.interrupted, 4, "the rest never ran or were stopped");
    const going = await runPlan(plan('ff', cells()), { store: storeDir, jobs: 1, keepGoing: true, workerEnv: env() });
    assert.equal(going.exitCode, 1);
    assert.equal(going.failed, 1);
    assert.equal(going.done, 4);
  });

  it('detects an altered or truncated artifact and recomputes only that cell', async () => {
    const a = writeText('w', 'aaaa');
    const b = writeText('w', 'bbbb');
    const c = writeText('w', 'cccc');
    const p = plan('tamper', [a, b, c]);
    await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env() });
    const store = openStore(storeDir, { readonly: true });
    const dirs = store.listCells({ pipeline: 'tamper' }).map((x) => x.dir!);
    store.close();
    // Same size, new content, and the mtime put back: only a content hash could tell... but
    // size+mtime equal is trusted, so change the mtime as any editor would.
    writeFileSync(join(dirs[0]!, 'text.txt'), 'AAAA');
    truncateSync(join(dirs[1]!, 'text.txt'), 2);
    // Touched but intact: passes after a re-hash.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dirs[2]!, 'text.txt'), later, later);
    const damaged: string[] = [];
    const s = await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env(), onEvent: (e) => { if (e.type === 'damaged') damaged.push(`${e.cell.coords.text}: ${e.detail}`); } });
    assert.equal(s.done, 2);
    assert.equal(s.cached, 1);
    assert.deepEqual(damaged.sort(), ['aaaa: text.txt content changed (sha256 differs)', 'bbbb: text.txt has 2 bytes, 4 were recorded']);
    assert.equal(readFileSync(join(dirs[0]!, 'text.txt'), 'utf8'), 'aaaa');
    assert.equal(readFileSync(join(dirs[1]!, 'text.txt'), 'utf8'), 'bbbb');
    assert.deepEqual(Object.fromEntries([...doneCounts(journal)].sort()), { aaaa: 2, bbbb: 2, cccc: 1 });
    // The refreshed mtime was recorded: the next check of that file needs no re-hash.
    const st = openStore(storeDir, { readonly: true });
    try {
      const rec = st.getCell(c.id)!;
      assert.equal(rec.manifest!.find((m) => m.path === 'text.txt')!.mtimeMs, statSync(join(dirs[2]!, 'text.txt')).mtimeMs);
    } finally {
      st.close();
    }
    // Same size, mtime put back: only a full re-hash (--verify) notices.
    const cFile = join(dirs[2]!, 'text.txt');
    const { mtime } = statSync(cFile);
    writeFileSync(cFile, 'CCCC');
    utimesSync(cFile, mtime, mtime);
    const quick = await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env() });
    assert.equal(quick.cached, 3, 'the quick check trusts size and mtime');
    const full = await runPlan(p, { store: storeDir, jobs: 2, workerEnv: env(), verify: true });
    assert.equal(full.cached, 2);
    assert.equal(full.done, 1);
    assert.equal(readFileSync(cFile, 'utf8'), 'cccc');
  });

  it('stops at once when another run has taken the store over (its heartbeat found the lock gone)', async () => {
    const cells = ['l1', 'l2', 'l3', 'l4'].map((t) => writeText('w', t, { sleepMs: 1500 }));
    const other = openStore(storeDir);
    let taken = false;
    const t0 = Date.now();
    await assert.rejects(runPlan(plan('lost', cells), {
      store: storeDir, jobs: 2, workerEnv: env(), heartbeatMs: 50,
      onEvent: (e) => {
        if (e.type === 'cell-start' && !taken) {
          taken = true;
          // What a second run does when it judges this one dead.
          const lock = other.lockHolder()!;
          other.releaseLock(lock.runId);
          other.acquireLock({ runId: 'usurper', pid: process.pid, host: lock.host, pipeline: 'x', startedAt: new Date().toISOString() }, 30_000);
        }
      },
    }), /lost its store lock/);
    assert.ok(Date.now() - t0 < 5000, 'did not wait for the sleeping cells');
    assert.equal(other.lockHolder()?.runId, 'usurper', 'the new holder keeps its lock');
    other.close();
  });

  it('refuses while another live run holds the store, naming it; takes over from a dead one', async () => {
    const p = plan('lock', [writeText('w', 'x')]);
    const store = openStore(storeDir);
    try {
      const holder = { runId: 'other-run', pid: process.pid, host: (await import('node:os')).hostname(), pipeline: 'other', startedAt: new Date().toISOString() };
      assert.equal(store.acquireLock(holder, 30_000).ok, true);
      await assert.rejects(runPlan(p, { store, jobs: 1, workerEnv: env() }), (e: unknown) => {
        assert.ok(e instanceof StoreBusyError);
        assert.match((e as Error).message, new RegExp(`pid ${process.pid} on host .*pipeline 'other'|pipeline 'other' \\(pid ${process.pid} on host`));
        return true;
      });
      store.releaseLock('other-run');
      // A holder whose process is gone is replaced without asking anyone to unlock.
      assert.equal(store.acquireLock({ ...holder, runId: 'dead-run', pid: 2 ** 22 + 12345 }, 30_000).ok, true);
      const events: RunEvent[] = [];
      const s = await runPlan(p, { store, jobs: 1, workerEnv: env(), onEvent: (e) => events.push(e) });
      assert.equal(s.exitCode, 0);
      assert.equal((events.find((e) => e.type === 'takeover') as Extract<RunEvent, { type: 'takeover' }>).previous.runId, 'dead-run');
      assert.equal(store.lockHolder(), undefined, 'lock released at the end');
    } finally {
      store.close();
    }
  });
});
