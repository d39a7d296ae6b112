// A run's profile (stage times, utilisation, critical path) from the attempt timings of a real run:
// real worker processes, a real SQLite store, fixture stages that sleep.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runPlan } from '../../src/exec/orchestrator.js';
import { openStore } from '../../src/store/store.js';
import { formatRunProfile, profileRun } from '../../src/report/run-profile.js';
import { concat, FIXTURE_STAGES, plan, tempDir, writeText } from '../exec/helpers.js';

describe('run profile', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = tempDir('sei-profile-'); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const runAndProfile = async (jobs: number) => {
    const slow = writeText('words', 'slow', { sleepMs: 600 });
    const fast = writeText('words', 'fast', { sleepMs: 50 });
    const joined = concat('joined', [slow, fast]);
    const storeDir = join(dir, `store-${jobs}`);
    const r = await runPlan(plan('profile', [slow, fast, joined]), { store: storeDir, jobs, workerEnv: { SEI_STAGE_PATH: FIXTURE_STAGES } });
    assert.equal(r.exitCode, 0);
    const store = openStore(storeDir, { readonly: true });
    try {
      const run = store.listRuns('profile', 1)[0]!;
      const attempts = store.runAttempts(run.id);
      assert.equal(attempts.length, 3);
      assert.deepEqual(attempts.find((a) => a.instance === 'joined')!.upstream.sort(), [slow.id, fast.id].sort());
      // Each attempt records its worker's CPU time; sleeping takes none, so it stays under the wall time.
      for (const a of attempts) assert.ok(typeof a.cpuMs === 'number' && a.cpuMs >= 0, `${a.instance}: cpuMs ${a.cpuMs}`);
      const slowAttempt = attempts.find((a) => a.cellId === slow.id)!;
      assert.ok(slowAttempt.cpuMs! < Date.parse(slowAttempt.endedAt!) - Date.parse(slowAttempt.startedAt), 'a sleeping cell uses less CPU than wall time');
      return { profile: profileRun(attempts, { startedAt: run.startedAt, endedAt: run.endedAt!, jobs: run.jobs }), slow, fast, joined };
    } finally {
      store.close();
    }
  };

  it('two workers: the slow input and its consumer are the critical path; stage times add up', async () => {
    const { profile: p, slow, joined } = await runAndProfile(2);
    assert.deepEqual(p.criticalPath.map((s) => s.cellId), [slow.id, joined.id]);
    assert.ok(p.criticalPath[1]!.start >= p.criticalPath[0]!.end, 'the consumer starts after its slow input ends');
    assert.deepEqual(p.stages.map((s) => [s.stage, s.cells]).sort(), [['concat', 1], ['write-text', 2]]);
    assert.ok(p.stages.find((s) => s.stage === 'write-text')!.seconds >= 0.65);
    assert.ok(Math.abs(p.cellSeconds - p.stages.reduce((s, x) => s + x.seconds, 0)) < 1e-9);
    assert.ok(Math.abs(p.cpuSeconds - p.stages.reduce((s, x) => s + x.cpuSeconds, 0)) < 1e-9);
    assert.ok(p.stages.every((s) => s.cpuAttempts === s.attempts), 'every attempt recorded its CPU time');
    assert.match(formatRunProfile(p), /CPU-seconds in the cells/);
    assert.ok(p.wallSeconds >= p.criticalPath.at(-1)!.end - 1e-9);
    assert.ok(p.utilisation > 0 && p.utilisation <= 1, `utilisation ${p.utilisation}`);
    assert.match(formatRunProfile(p), /critical path: 2 cells/);
  });

  it('one worker: the input that ran second waited for the worker, and the path says so', async () => {
    const { profile: p } = await runAndProfile(1);
    assert.equal(p.criticalPath.length, 2);
    const [second, last] = p.criticalPath;
    assert.equal(last!.instance, 'joined');
    // Cells ran one at a time: the input that finished last started only after the other one.
    assert.ok(second!.wait >= 0.05 - 1e-3, `wait ${second!.wait}`);
    assert.ok(Math.abs(p.pathWaitSeconds - p.criticalPath.reduce((s, x) => s + x.wait, 0)) < 1e-9);
  });
});
