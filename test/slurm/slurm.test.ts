// The Slurm executor against a real single-node cluster (slurmctld + slurmd from Debian's
// slurm-wlm, brought up by test/slurm/start-cluster.sh). Nothing here is mocked: cells go
// through sbatch, run as Slurm jobs, are cancelled with scancel, hit real time limits.
// Skipped, with the reason printed, only when not root or the packages are absent.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../src/pipeline/types.js';
import { runPlan, type RunSummary } from '../../src/exec/orchestrator.js';
import { buildSlurmExecutor, chooseExecutor, type SlurmConfig } from '../../src/exec/slurm/index.js';
import type { SlurmExecutor } from '../../src/exec/slurm/executor.js';
import { cellDirOf, readJobRecord, readStarts, readSubmissions } from '../../src/exec/slurm/records.js';
import { openStore } from '../../src/store/store.js';
import { FIXTURE_STAGES, cell, concat, plan, readJournalSync, tempDir, writeText } from '../exec/helpers.js';
import { FAST, ROOT, exited, pipelineFile, sei, seiAsync, sh, startCluster, until, whyNot, words } from './cluster.js';

/** Cheap jobs for the test cluster's 2 CPUs; fast polling so the tests take seconds. */
function config(extra: Record<string, unknown> = {}): SlurmConfig {
  const choice = chooseExecutor(undefined, { kind: 'slurm', cpus: 1, mem: '300M', time: '10', pollSec: 0.3, latencyWaitSec: 10, ...extra }, ROOT, 'test');
  assert.equal(choice.kind, 'slurm');
  return (choice as { config: SlurmConfig }).config;
}

async function runOnSlurm(p: Plan, storeDir: string, env: NodeJS.ProcessEnv, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<{ summary: RunSummary; slurm: SlurmExecutor }> {
  const { executor, slurm } = await buildSlurmExecutor(p, config(extra), { env });
  try {
    const summary = await runPlan(p, { storeDir, executor, workerEnv: env, ...(signal ? { signal } : {}) });
    return { summary, slurm };
  } finally {
    await executor.close();
  }
}

describe('Slurm executor on a real cluster', function () {
  this.timeout(300_000);
  before(function () {
    const reason = whyNot();
    if (reason) {
      process.stdout.write(`      (Slurm tests skipped: ${reason})\n`);
      this.skip();
    }
    startCluster(false);
  });

  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let journal = '';
  beforeEach(() => {
    dir = tempDir('sei-slurm-');
    journal = join(dir, 'journal.jsonl');
    env = { SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal };
  });

  it('runs cells as Slurm jobs (one array per stage, named after the run) with the results of the local executor', async () => {
    const ws = ['a', 'b', 'c'].map((t) => writeText(`w-${t}`, t));
    const all = concat('all', ws);
    // One instance for the three words, so they are one stage group and one array.
    const grouped = ws.map((w, i) => ({ ...w, instance: 'words', slot: `words{"text":"${'abc'[i]}"}` }));
    const p = plan('arrays', [...grouped, all]);
    const slurmStore = join(dir, 'slurm-store');
    const { summary, slurm } = await runOnSlurm(p, slurmStore, env);
    assert.equal(summary.done, 4, JSON.stringify(summary.failures));
    const subs = readSubmissions(slurmStore);
    assert.equal(new Set(subs.map((x) => x.jobId.split('_')[0])).size, 2, 'one array for the three words, one job for the concatenation');
    // sbatch calls: --version and one --test-only in the preflight, then the two submissions.
    assert.equal(slurm.tools.calls.sbatch, 4);
    assert.equal(subs.length, 4);
    assert.equal(subs.filter((s) => /^\d+_\d$/.test(s.jobId)).length, 3, 'array elements');
    for (const c of p.cells) {
      const rec = readJobRecord(slurmStore, c.key)!;
      assert.equal(rec.jobName, summary.runId, 'every job carries the run id as its name');
      assert.equal(rec.state, 'COMPLETED');
      assert.equal(rec.final, true);
      assert.ok(existsSync(rec.stdout), `job output ${rec.stdout}`);
    }
    // The same plan on the local pool: identical metrics and artifacts.
    const localStore = join(dir, 'local-store');
    const local = await runPlan(p, { storeDir: localStore, workerEnv: env, jobs: 2 });
    assert.equal(local.done, 4);
    const a = openStore(slurmStore, { readonly: true });
    const b = openStore(localStore, { readonly: true });
    try {
      for (const c of p.cells) {
        const x = a.getCell(c.key)!;
        const y = b.getCell(c.key)!;
        assert.deepEqual(x.metrics, y.metrics);
        assert.equal(readFileSync(join(x.dir!, 'text.txt'), 'utf8'), readFileSync(join(y.dir!, 'text.txt'), 'utf8'));
        assert.equal(x.provenance?.host !== undefined, true);
      }
    } finally {
      a.close();
      b.close();
    }
    // Polled in bulk: one status query per poll for all four jobs, never one per job.
    assert.ok(slurm.statusQueries >= 1);
    assert.equal(slurm.tools.calls.squeue, slurm.statusQueries);
  });

  it('kill -9 of the orchestrator while jobs run, then sei run again: it re-attaches and every cell runs exactly once', async () => {
    const file = pipelineFile(dir, words(['a', 'b', 'c', 'd'], 4000, FAST));
    const store = join(dir, 'store');
    const first = seiAsync(['run', file, '--store', store, '--no-progress'], env);
    const gone = exited(first);
    await until('the four word jobs submitted and one running', () => readSubmissions(store).length >= 4 && readJournalSync(journal).some((e) => e.event === 'start'));
    first.kill('SIGKILL');
    await gone;
    const again = sei(['run', file, '--store', store, '--no-progress'], env);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    const subs = readSubmissions(store);
    assert.equal(subs.length, 5, `one job per cell, none submitted twice: ${subs.map((s) => s.jobId).join(', ')}`);
    assert.equal(new Set(subs.map((s) => s.key)).size, 5);
    const done = readJournalSync(journal).filter((e) => e.stage === 'write-text' && e.event === 'done').map((e) => e.text).sort();
    assert.deepEqual(done, ['a', 'b', 'c', 'd'], 'each word written exactly once');
    const logs = readdirSync(join(store, 'logs')).flatMap((run) => readdirSync(join(store, 'logs', run)).map((f) => readFileSync(join(store, 'logs', run, f), 'utf8')));
    assert.ok(logs.some((l) => /re-attached to Slurm job/.test(l)), 'the second run re-attached');
    const status = sei(['status', 'words', '--store', store], {});
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /words: 5 cells \(5 done\)/);
  });

  it('scancel of a running cell\'s job: the cell is retried and succeeds; its Slurm output is in the cell log', async () => {
    const w = writeText('slow', 'slow', { sleepMs: 4000 });
    const p = plan('cancel', [w]);
    const store = join(dir, 'store');
    const run = runOnSlurm(p, store, env);
    const first = await until('the job to start', () => readStarts(store, w.key)[0]);
    sh('scancel', [first.jobId]);
    const { summary } = await run;
    assert.equal(summary.done, 1, JSON.stringify(summary.failures));
    const subs = readSubmissions(store);
    assert.equal(subs.length, 2, 'the cancelled job and its retry');
    const s = openStore(store, { readonly: true });
    try {
      const c = s.getCell(w.key)!;
      assert.equal(c.attemptList.length, 2);
      assert.equal(c.attemptList[0]!.failure, 'crash');
      assert.match(c.attemptList[0]!.error!, /was cancelled/);
      const log = readFileSync(c.logPath!, 'utf8');
      assert.match(log, new RegExp(`Slurm job ${first.jobId} was cancelled`));
      assert.match(log, /--- .*job-\d+\.(out|err)/, 'the job\'s own output is quoted in the cell log');
      assert.match(log, /CANCELLED AT/, 'Slurm\'s own cancellation line');
      assert.equal(readJobRecord(store, w.key)!.previous.length, 1);
    } finally {
      s.close();
    }
  });

  it('Ctrl-C cancels the run\'s jobs: squeue holds none of them afterwards', async () => {
    const file = pipelineFile(dir, words(['a', 'b', 'c'], 60_000, FAST));
    const store = join(dir, 'store');
    const child = seiAsync(['run', file, '--store', store, '--no-progress'], env);
    const gone = exited(child);
    await until('a job running', () => readJournalSync(journal).some((e) => e.event === 'start'));
    const runId = readdirSync(join(store, 'slurm', 'runs'))[0]!;
    assert.ok(sh('squeue', ['-h', `--name=${runId}`]).trim().length > 0, 'jobs in the queue before Ctrl-C');
    child.kill('SIGINT');
    const end = await gone;
    assert.equal(end.code, 130);
    assert.equal(sh('squeue', ['-h', `--name=${runId}`]).trim(), '', 'no job of the run left in the queue');
    const states = sh('squeue', ['-h', '-t', 'all', `--name=${runId}`, '-o', '%T']).trim().split('\n');
    assert.ok(states.length >= 3 && states.every((s) => s === 'CANCELLED'), states.join(','));
  });

  it('a drained node: sei status says why the cell waits, and the run stops at maxPendingSec instead of hanging', async () => {
    const host = sh('hostname', ['-s']).trim();
    const file = pipelineFile(dir, `name: drained\nexecutor:\n${FAST}\n  maxPendingSec: 6\nstages:\n  w:\n    stage: write-text\n    params: { text: waits }\n`);
    const store = join(dir, 'store');
    sh('scontrol', ['update', `NodeName=${host}`, 'State=DRAIN', 'Reason=sei-test-maintenance']);
    try {
      const child = seiAsync(['run', file, '--store', store, '--no-progress'], env);
      const gone = exited(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      await until('the job pending with a reason', () => {
        const subs = readSubmissions(store);
        const rec = subs[0] && readJobRecord(store, subs[0].key);
        return rec && rec.state === 'PENDING' && rec.reason && rec.reason !== 'None' ? rec : undefined;
      }, 30_000);
      const status = sei(['status', '--store', store], {});
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /SLURM w .*Slurm job \d+ PENDING \(.+\)/);
      assert.match(status.stdout, /job output: .*job-\d+\.out/);
      const end = await gone;
      assert.equal(end.code, 1, out);
      const after = sei(['status', '--store', store], {});
      assert.match(after.stdout, /FAILED w .*still pending after 6 s \(reason: [^)]+\)/);
    } finally {
      sh('scontrol', ['update', `NodeName=${host}`, 'State=RESUME']);
      startCluster(false);
    }
  });

  it('bad input: no sbatch, unknown partition, invalid time, a GPU on a cluster without: exit 2, Slurm\'s own words, no store', () => {
    const cases: { name: string; executor: string; env?: NodeJS.ProcessEnv; expect: RegExp }[] = [
      { name: 'nosbatch', executor: FAST, env: { PATH: '/nonexistent' }, expect: /sbatch is not on the PATH.*apt-get install slurm-client/ },
      { name: 'partition', executor: `${FAST}\n  partition: nosuchpartition`, expect: /Slurm refuses the jobs of words.*--partition=nosuchpartition.*[Ii]nvalid partition/ },
      { name: 'time', executor: `${FAST}\n  stages:\n    write-text: { time: "2 hours" }`, expect: /executor\.stages\.write-text\.time: "2 hours" is not a Slurm time/ },
      { name: 'gpu', executor: `${FAST}\n  gres: gpu:1`, expect: /Invalid generic resource.*no node of this cluster offers a GPU/s },
    ];
    for (const c of cases) {
      const file = pipelineFile(join(dir, c.name), words(['a'], 0, c.executor));
      const store = join(dir, c.name, 'store');
      const r = sei(['run', file, '--store', store, '--no-progress'], { ...env, ...(c.env ?? {}) });
      assert.equal(r.status, 2, `${c.name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.expect, c.name);
      assert.equal(existsSync(store), false, `${c.name}: the store was not created`);
    }
  });

  it('a job killed at its time limit is requeued and resumes from its checkpoint (same job id)', async function () {
    // Slurm's limits are whole minutes, checked every ~30 s: this one takes about two minutes.
    this.timeout(400_000);
    const c = cell({ instance: 'count', stage: 'count-steps', params: { name: 'long', steps: 24, stepMs: 5000 } });
    const p = plan('timelimit', [c]);
    const store = join(dir, 'store');
    const { summary } = await runOnSlurm(p, store, env, { time: '1', maxRequeues: 2 });
    assert.equal(summary.done, 1, JSON.stringify(summary.failures));
    const starts = readJournalSync(journal).filter((e) => e.stage === 'count-steps' && e.event === 'start');
    assert.ok(starts.length >= 2, `the cell started ${starts.length} time(s)`);
    assert.equal(starts[0]!.from, 0);
    assert.ok(Number(starts[1]!.from) > 0, 'the requeued job resumed from its checkpoint');
    const jobStarts = readStarts(store, c.key);
    assert.equal(new Set(jobStarts.map((s) => s.jobId)).size, 1, 'requeued under the same job id');
    assert.ok(jobStarts[1]!.restart >= 1);
    assert.equal(readSubmissions(store).length, 1);
    const rec = readJobRecord(store, c.key)!;
    assert.ok(rec.requeues >= 1);
    const s = openStore(store, { readonly: true });
    try {
      const got = s.getCell(c.key)!;
      assert.equal(got.metrics?.steps, 24);
      assert.ok(Number(got.metrics?.resumedFrom) > 0);
      assert.match(readFileSync(got.logPath!, 'utf8'), /ended TIMEOUT; requeued \(1\/2\)/);
    } finally {
      s.close();
    }
    assert.equal(existsSync(join(cellDirOf(store, c.key), 'checkpoint')), false, 'the checkpoint is dropped once the cell is stored');
  });

  describe('with accounting (slurmdbd): job states from sacct', function () {
    this.timeout(600_000);
    before(function () {
      if (!existsSync('/usr/sbin/slurmdbd') || !existsSync('/usr/sbin/mysqld')) {
        process.stdout.write('      (accounting test skipped: slurmdbd or mariadb-server not installed)\n');
        this.skip();
      }
      startCluster(true);
    });
    after(() => startCluster(false));

    it('polls sacct with an explicit --starttime, by the run\'s job name', async () => {
      const ws = ['p', 'q', 'r'].map((t) => ({ ...writeText(`w-${t}`, t), instance: 'words' }));
      const p = plan('acct', [...ws, concat('all', ws)]);
      const store = join(dir, 'store');
      const { summary, slurm } = await runOnSlurm(p, store, env);
      assert.equal(summary.done, 4, JSON.stringify(summary.failures));
      assert.ok(slurm.tools.calls.sacct >= 2, 'sacct answered the status queries');
      assert.equal(slurm.tools.calls.squeue, 0);
      const acct = sh('sacct', ['-n', '-X', '-P', `--name=${summary.runId}`, '--starttime=now-1hour', '--format=JobID,State']).trim().split('\n');
      assert.equal(acct.length, 4, acct.join('\n'));
      assert.ok(acct.every((l) => l.endsWith('|COMPLETED')), acct.join('\n'));
    });
  });
});
