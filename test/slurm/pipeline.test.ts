// The Slurm executor driven through the real CLI (`bin/sei.js`) on the real test cluster: a
// pipeline's `executor:` block (with a named config by `use:`) sets each job's resources,
// --fail-fast cancels the run's other jobs, and `sei gc` cleans <store>/slurm/ while keeping
// what a resumable run needs. Skipped, with the reason printed, only when not root or Slurm is absent.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cellDirOf, readJobRecord, readSubmissions } from '../../src/exec/slurm/records.js';
import { openStore } from '../../src/store/store.js';
import { FIXTURE_STAGES, readJournalSync, tempDir } from '../exec/helpers.js';
import { FAST, exited, jobsNamed, pipelineFile, sei, seiAsync, sh, startCluster, until, whyNot, words } from './cluster.js';

/** The run ids of a store's runs, oldest first. */
function runIds(store: string): string[] {
  const s = openStore(store, { readonly: true });
  try {
    return s.listRuns(undefined, 100).map((r) => r.id).reverse();
  } finally {
    s.close();
  }
}

function cellsOf(store: string, instance: string) {
  const s = openStore(store, { readonly: true });
  try {
    return s.listCells({ instance });
  } finally {
    s.close();
  }
}

describe('Slurm through the CLI: executor block, --fail-fast, gc', function () {
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
    dir = tempDir('sei-slurm-cli-');
    journal = join(dir, 'journal.jsonl');
    env = { SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal };
  });

  it('the pipeline\'s executor block (a named config by use:, per-stage resources) sets what each job asks Slurm for', () => {
    // A project of its own: configs/executors/ is found from the pipeline's folder (package.json marks the root).
    writeFileSync(join(dir, 'package.json'), '{}\n');
    mkdirSync(join(dir, 'configs', 'executors'), { recursive: true });
    writeFileSync(join(dir, 'configs', 'executors', 'tiny.yaml'), [
      'kind: slurm', 'partition: main', 'cpus: 1', 'mem: 300M', 'time: "7"', 'pollSec: 0.3', 'latencyWaitSec: 10',
      'stages:', '  write-text: { time: "9", mem: 400M }', '',
    ].join('\n'));
    // The pipeline uses the named config and adds an entry for one stage instance (it wins over the config's).
    const file = pipelineFile(dir, words(['a', 'b'], 0, '  use: executors/tiny\n  stages:\n    all: { cpus: 2, mem: 500M, time: "1:30:00" }'));
    const store = join(dir, 'store');
    const r = sei(['run', file, '--store', store, '--no-progress'], env);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const [runId] = runIds(store);
    // What Slurm itself holds for each job of the run (finished jobs stay in its memory for MinJobAge).
    const rows = sh('squeue', ['-h', '-r', '-t', 'all', `--name=${runId}`, '-o', '%i|%j|%P|%C|%m|%l|%T']).trim().split('\n')
      .map((l) => { const [id, name, partition, cpus, mem, limit, state] = l.trim().split('|'); return { id: id!, name, partition, cpus, mem, limit, state }; });
    assert.equal(rows.length, 3, rows.map((x) => x.id).join(', '));
    const byInstance = new Map(readSubmissions(store).map((s) => [s.jobId, s.instance]));
    for (const row of rows) {
      const instance = byInstance.get(row.id);
      assert.equal(row.name, runId, 'every job carries the run id as its name');
      assert.equal(row.partition, 'main');
      assert.equal(row.state, 'COMPLETED');
      if (instance === 'words') assert.deepEqual([row.cpus, row.mem, row.limit], ['1', '400M', '9:00'], `write-text job ${row.id}`);
      else assert.deepEqual([instance, row.cpus, row.mem, row.limit], ['all', '2', '500M', '1:30:00'], `concat job ${row.id}`);
    }
    // scontrol agrees, field by field, for the job of the instance entry.
    const concatId = readSubmissions(store).find((s) => s.instance === 'all')!.jobId;
    const show = sh('scontrol', ['show', 'job', concatId]);
    for (const field of ['TimeLimit=01:30:00', 'NumCPUs=2', 'MinMemoryNode=500M', 'Partition=main', `JobName=${runId}`]) assert.ok(show.includes(field), `${field} in:\n${show}`);
  });

  it('--fail-fast: one cell fails, the run scancels its other jobs, exits 1, and records them interrupted', async () => {
    // One cell that fails at once; three slow ones (two run, one waits for a CPU); a concat after them.
    const file = pipelineFile(dir, `name: ff
executor:
${FAST}
stages:
  bad:
    stage: write-text
    params: { text: bad, sleepMs: 1500, failTimes: 99 }
  slow:
    stage: write-text
    params: { text: x, sleepMs: 120000 }
    sweep:
      grid: { text: [s1, s2, s3] }
  all:
    stage: concat
    inputs: { parts: { from: slow, gather: [text] } }
`);
    const store = join(dir, 'store');
    const t0 = Date.now();
    const child = seiAsync(['run', file, '--store', store, '--no-progress', '--fail-fast'], env);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const end = await exited(child);
    assert.equal(end.code, 1, out);
    assert.ok(Date.now() - t0 < 90_000, 'the run did not wait for the slow cells');
    const [runId] = runIds(store);
    assert.equal(sh('squeue', ['-h', `--name=${runId}`]).trim(), '', 'no job of the run left in the queue');
    const subs = readSubmissions(store);
    assert.deepEqual(subs.map((x) => x.instance).sort(), ['bad', 'slow', 'slow', 'slow'], 'the concat was never submitted');
    // Slurm's own account: array elements cancelled while pending stay folded in the array's record.
    const jobs = jobsNamed(runId!);
    const stateOf = (id: string) => (jobs.find((j) => j.id === id) ?? jobs.find((j) => j.id === id.split('_')[0]))?.state;
    for (const x of subs) assert.equal(stateOf(x.jobId), x.instance === 'slow' ? 'CANCELLED' : 'FAILED', `job ${x.jobId} (${x.instance}) in ${JSON.stringify(jobs)}`);
    // The store: bad failed, the slow ones interrupted (they run again next time), the concat never ran.
    assert.deepEqual(cellsOf(store, 'bad').map((c) => c.state), ['failed']);
    assert.deepEqual(cellsOf(store, 'slow').map((c) => c.state), ['interrupted', 'interrupted', 'interrupted']);
    assert.ok(cellsOf(store, 'all').every((c) => c.state === 'pending'));
    for (const c of cellsOf(store, 'slow')) assert.equal(readJobRecord(store, c.key)!.final, true, 'nothing left to re-attach to');
    assert.equal(readJournalSync(journal).filter((e) => e.event === 'done').length, 0, 'no slow cell ran to its end');
  });

  it('sei gc cleans slurm/ of cells no pipeline plans and of ended runs, keeping a live job a run re-attaches to', async () => {
    const store = join(dir, 'store');
    // Run 1: words a, b; run 2 (the pipeline edited): word c only. a, b and run 1's concat are unreachable.
    const v1 = pipelineFile(join(dir, 'v1'), words(['a', 'b'], 0, FAST));
    const v2 = pipelineFile(join(dir, 'v2'), words(['c'], 0, FAST));
    for (const f of [v1, v2]) {
      const r = sei(['run', f, '--store', store, '--no-progress'], env);
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
    // Run 3, another pipeline: its orchestrator is killed while its job runs (a resumable run).
    const hang = pipelineFile(join(dir, 'hang'), `name: hang\nexecutor:\n${FAST}\nstages:\n  long:\n    stage: write-text\n    params: { text: long, sleepMs: 15000 }\n`);
    const child = seiAsync(['run', hang, '--store', store, '--no-progress'], env);
    const gone = exited(child);
    await until('the long job running', () => readJournalSync(journal).some((e) => e.text === 'long' && e.event === 'start'));
    child.kill('SIGKILL');
    await gone;
    const [run1, run2, run3] = runIds(store);
    const subs = readSubmissions(store);
    const keysOf = (run: string) => [...new Set(subs.filter((s) => s.runId === run).map((s) => s.key))];
    assert.equal(keysOf(run1!).length, 3);
    const cellDirs = () => readdirSync(join(store, 'slurm', 'cells')).sort();
    const before = cellDirs();
    assert.equal(before.length, 6);

    // A dry run lists and removes nothing.
    const dry = sei(['gc', '--dry-run', '--json', v2, '--store', store], env);
    assert.equal(dry.status, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout) as { slurm: { removed: { path: string }[] } };
    assert.equal(planned.slurm.removed.length, 4, JSON.stringify(planned.slurm.removed));
    assert.deepEqual(cellDirs(), before);

    // gc keeping only v2: the live job's cell (unreachable, but still running) stays.
    const gc = sei(['gc', v2, '--store', store], env);
    assert.equal(gc.status, 0, gc.stdout + gc.stderr);
    assert.match(gc.stdout, /slurm\/: deleted 4 item\(s\)/);
    const kept = [...keysOf(run2!), ...keysOf(run3!)].sort();
    assert.deepEqual(cellDirs(), kept, 'the cells of run 1 are gone, those of runs 2 and 3 kept');
    const runs = readdirSync(join(store, 'slurm', 'runs')).sort();
    assert.deepEqual(runs, [run2, run3].sort(), 'run 1\'s scripts and job output are gone');
    assert.deepEqual(readSubmissions(store).map((s) => s.key).sort(), kept, 'the submission log keeps the kept cells\' lines');
    assert.ok(existsSync(join(cellDirOf(store, keysOf(run3!)[0]!), 'spec.json')));

    // The killed run, started again, re-attaches to its job (not submitted again) and finishes.
    const again = sei(['run', hang, '--store', store, '--no-progress'], env);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.equal(readSubmissions(store).filter((s) => s.key === keysOf(run3!)[0]).length, 1, 'the long cell was submitted once');
    assert.equal(readJournalSync(journal).filter((e) => e.text === 'long' && e.event === 'done').length, 1);
    // v2 still complete from the store: gc took nothing it needs.
    const cached = sei(['run', v2, '--store', store, '--no-progress'], env);
    assert.equal(cached.status, 0, cached.stdout + cached.stderr);
    assert.equal(readSubmissions(store).filter((s) => s.runId !== run2 && s.runId !== run3).length, 0, 'nothing of v2 ran again');

    // Now the hang pipeline ended: gc with only v2 removes its cell and its run folder too.
    const gc2 = sei(['gc', v2, '--store', store], env);
    assert.equal(gc2.status, 0, gc2.stdout + gc2.stderr);
    assert.deepEqual(cellDirs(), keysOf(run2!).sort());
    assert.ok(!readdirSync(join(store, 'slurm', 'runs')).includes(run3!), 'the ended run 3\'s folder is gone');
    assert.ok(readFileSync(join(store, 'slurm', 'submissions.log'), 'utf8').trim().split('\n').length === keysOf(run2!).length);
  });
});
