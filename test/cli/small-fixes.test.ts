// Behaviour at the edges of `sei`: signals, wrong paths, unreadable datasets, the status after
// a crash, and commands that must leave the store exactly as they found it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_STAGES, readJournalSync, tempDir } from '../exec/helpers.js';
import { describeResult, running, sleep, startSei, type SeiResult } from './sei-process.js';

const PIPELINE = (sleepMs: number): string => `name: edge
stages:
  words:
    stage: write-text
    params: { text: x, sleepMs: ${sleepMs} }
    sweep:
      grid: { text: [a, b, c] }
  copy:
    stage: read-file
    params: { path: input.txt }
`;

const fingerprint = (file: string): string => `${statSync(file).mtimeMs}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;

describe('sei at the edges', function () {
  this.timeout(90_000);
  let dir: string;
  let journal: string;
  let env: NodeJS.ProcessEnv;
  const sei = (args: string[]): Promise<SeiResult> => startSei(args, env, dir).done;
  const exits = (r: SeiResult, code: number): void => assert.equal(r.code, code, describeResult(r));
  const waitForStarts = async (n: number): Promise<void> => {
    const t0 = Date.now();
    while (readJournalSync(journal).filter((e) => e.event === 'start').length < n) {
      if (Date.now() - t0 > 30_000) throw new Error('cells did not start');
      await sleep(25);
    }
  };

  beforeEach(() => {
    dir = tempDir('sei-edge-');
    journal = join(dir, 'journal.jsonl');
    env = { SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal };
    writeFileSync(join(dir, 'input.txt'), 'external');
  });
  afterEach(async () => {
    for (const child of running) child.kill('SIGKILL');
    await sleep(running.size > 0 ? 300 : 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM stops a run with exit 143 and no "press again"', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(3000));
    const run = startSei(['run', 'p.yaml', '--store', 'st', '--jobs', '2', '--no-progress'], env, dir);
    await waitForStarts(1);
    run.child.kill('SIGTERM');
    const r = await run.done;
    exits(r, 143);
    assert.match(r.stderr, /SIGTERM: stopping the running cells/);
    assert.doesNotMatch(r.stderr, /press/);
  });

  it('after a kill -9, status calls the last run interrupted, not running; read-only commands leave no -wal/-shm', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(3000));
    const run = startSei(['run', 'p.yaml', '--store', 'st', '--jobs', '2', '--no-progress'], env, dir);
    await waitForStarts(1);
    run.child.kill('SIGKILL');
    await run.done;
    const status = await sei(['status', '--store', 'st']);
    exits(status, 0);
    assert.match(status.stdout, /last run \S+: interrupted/);
    assert.doesNotMatch(status.stdout, /last run \S+: running/);
    assert.match(status.stdout, /a dead run left its lock/);

    // Finish it, then read: the store folder stays as the run left it.
    exits(await sei(['run', 'p.yaml', '--store', 'st', '--jobs', '2', '--no-progress']), 0);
    const files = (): string[] => readdirSync(join(dir, 'st')).concat(readdirSync(join(dir, 'st', 'cache')).map((f) => `cache/${f}`)).sort();
    const after = files();
    assert.ok(!after.some((f) => /-(wal|shm)$/.test(f)), `files after the run: ${after.join(', ')}`);
    for (const args of [['status', '--store', 'st'], ['status', 'edge', '--store', 'st', '--json'], ['plan', 'p.yaml', '--store', 'st']]) {
      exits(await sei(args), 0);
      assert.deepEqual(files(), after, `sei ${args.join(' ')} left files behind`);
    }
  });

  it('a config error writes nothing, not even the file index', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(0));
    // The first run plans before its store exists (no index kept); the second keeps one.
    exits(await sei(['run', 'p.yaml', '--store', 'st', '--no-progress']), 0);
    exits(await sei(['run', 'p.yaml', '--store', 'st', '--no-progress']), 0);
    const index = join(dir, 'st', 'cache', 'file-index.sqlite');
    assert.ok(existsSync(index));
    const before = fingerprint(index);
    await sleep(20);
    writeFileSync(join(dir, 'input.txt'), 'changed, so planning hashes it again');
    writeFileSync(join(dir, 'bad.yaml'), PIPELINE(0).replace('sleepMs: 0 }', 'sleepMs: 0, colour: red }'));
    const bad = await sei(['run', 'bad.yaml', '--store', 'st']);
    exits(bad, 2);
    assert.match(bad.stderr, /bad\.yaml:\d+:\d+.*colour/);
    assert.equal(fingerprint(index), before, 'the file index was not rewritten');
    assert.deepEqual(readdirSync(join(dir, 'st', 'cache')), ['file-index.sqlite']);
  });

  it('sei store rebuild: a lost database, then a damaged one, rebuilt from the artifact folders', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(0));
    exits(await sei(['run', 'p.yaml', '--store', 'st', '--no-progress']), 0);
    rmSync(join(dir, 'st', 'store.sqlite'));
    const lost = await sei(['status', '--store', 'st']);
    exits(lost, 2);
    assert.match(lost.stderr, /has lost its database \(store\.sqlite\).*sei store rebuild --store/);
    const rebuilt = await sei(['store', 'rebuild', '--store', 'st']);
    exits(rebuilt, 0);
    assert.match(rebuilt.stdout, /4 artifact folder\(s\); indexed 4, 0 already indexed, 0 left alone/);
    const status = await sei(['status', 'edge', '--store', 'st', '--json']);
    assert.deepEqual((JSON.parse(status.stdout) as { pipelines: { states: Record<string, number> }[] }).pipelines[0]!.states, { done: 4 });

    writeFileSync(join(dir, 'st', 'store.sqlite'), 'not a database any more, but long enough to look like one at first sight');
    const again = await sei(['store', 'rebuild', '--store', 'st', '--verify']);
    exits(again, 0);
    assert.match(again.stderr, /the database was damaged .*moved it to \S+store\.sqlite\.damaged-/);
    assert.match(again.stdout, /indexed 4/);
    const rerun = await sei(['run', 'p.yaml', '--store', 'st', '--no-progress']);
    exits(rerun, 0);
    assert.match(rerun.stdout, /4 cells, 4 cached, 0 to run/);
  });

  it('a folder given as the pipeline, and a dataset without one readable image, are clear errors', async () => {
    mkdirSync(join(dir, 'pipelines'));
    const folder = await sei(['run', 'pipelines', '--store', 'st']);
    exits(folder, 2);
    assert.match(folder.stderr, /pipelines is a folder, not a pipeline file/);
    assert.ok(!existsSync(join(dir, 'st')));

    for (const cls of ['cats', 'dogs']) {
      mkdirSync(join(dir, 'ds', cls), { recursive: true });
      writeFileSync(join(dir, 'ds', cls, 'one.png'), 'not an image at all');
    }
    const inspect = await sei(['dataset', 'inspect', 'imagefolder', 'ds']);
    exits(inspect, 2);
    assert.match(inspect.stderr, /no readable image in \S+ds \(2 file\(s\) skipped/);
  });
});
