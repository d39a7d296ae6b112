// The engine through `sei` itself: real processes, real SQLite files, kill -9 for real.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive, openStore } from '../../src/store/store.js';
import { FIXTURE_STAGES, readJournalSync, tempDir } from '../exec/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const SEI = resolve(here, '..', '..', '..', 'bin', 'sei.js');

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

interface Started { child: ChildProcess; done: Promise<Result>; result?: Result }

/** Every sei started by a test, so a failing test leaves no process behind. */
const children = new Set<ChildProcess>();

function start(args: string[], env: NodeJS.ProcessEnv, cwd: string): Started {
  const child = spawn(process.execPath, [SEI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  children.add(child);
  child.on('close', () => children.delete(child));
  const started: Started = { child, done: undefined as unknown as Promise<Result> };
  started.done = new Promise<Result>((res) => child.on('close', (code, signal) => {
    started.result = { code, signal, stdout, stderr };
    res(started.result);
  }));
  return started;
}

/** Assert an exit code, showing the command's output when it differs. */
function exits(r: Result, code: number): void {
  assert.equal(r.code, code, `exit ${r.code} (expected ${code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** Poll until `check` holds; fail early (with its output) if `proc` ended first. */
async function waitFor(check: () => boolean, timeoutMs: number, what: string, proc?: Started): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (proc?.result) throw new Error(`sei ended (code ${proc.result.code}) before ${what}: ${proc.result.stderr}${proc.result.stdout}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const PIPELINE = (sleepMs: number, n: number, extra = ''): string => `name: sweep
stages:
  words:
    stage: write-text
    params: { text: x, sleepMs: ${sleepMs}${extra} }
    sweep:
      grid: { text: [${Array.from({ length: n }, (_, i) => `w${i}`).join(', ')}] }
  all:
    stage: concat
    inputs: { parts: { from: words, gather: [text] } }
`;

describe('sei engine commands', function () {
  this.timeout(60_000);
  let dir: string;
  let journal: string;
  let env: NodeJS.ProcessEnv;
  const sei = (args: string[]) => start(args, env, dir).done;

  beforeEach(() => {
    dir = tempDir('sei-cli-');
    journal = join(dir, 'journal.jsonl');
    env = { SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal };
  });
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, children.size > 0 ? 300 : 0));
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 of the orchestrator mid-sweep, then the same command: every cell done once, results equal an uninterrupted run', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(250, 10));
    const t0 = Date.now();
    const lap = (what: string) => { if (process.env.SEI_TEST_TIMING) console.log(`${what}: ${Date.now() - t0} ms`); };
    const run = start(['run', 'p.yaml', '--store', 'st', '--jobs', '2'], env, dir);
    const storedDone = (): number => {
      if (!existsSync(join(dir, 'st', 'store.sqlite'))) return 0;
      try {
        const s = openStore(join(dir, 'st'), { readonly: true });
        try { return s.listCells({ pipeline: 'sweep', state: 'done' }).length; } finally { s.close(); }
      } catch {
        return 0; // still being created
      }
    };
    await waitFor(() => storedDone() >= 3, 20_000, 'three recorded cells', run);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    lap('killed');
    assert.equal(killed.signal, 'SIGKILL');

    // What the store says was finished when the orchestrator died.
    const st = openStore(join(dir, 'st'), { readonly: true });
    const doneBefore = new Set(st.listCells({ pipeline: 'sweep', state: 'done' }).map((c) => String(c.coords.text)));
    st.close();
    assert.ok(doneBefore.size >= 3 && doneBefore.size < 10, `some but not all cells done (${doneBefore.size})`);
    // Its workers notice the lost parent and exit rather than keep writing.
    const pids = new Set(readJournalSync(journal).map((e) => Number(e.pid)));
    await waitFor(() => [...pids].every((p) => !isProcessAlive(p)), 5000, 'orphaned workers to exit');

    lap('workers gone');
    const resumed = await sei(['run', 'p.yaml', '--store', 'st', '--jobs', '2']);
    lap('resumed');
    exits(resumed, 0);
    assert.match(resumed.stdout, /took over the store from a dead run/);
    // A cell whose worker finished writing it while the orchestrator was being killed is in its
    // artifact folder but not in the database; the resumed run takes it from there, cached too.
    const recovered = Number(/(\d+) finished cell\(s\) the database had not recorded/.exec(resumed.stdout)?.[1] ?? 0);
    assert.match(resumed.stdout, new RegExp(`11 cells, ${doneBefore.size + recovered} cached`));

    const entries = readJournalSync(journal).filter((e) => e.stage === 'write-text');
    for (let i = 0; i < 10; i++) {
      const t = `w${i}`;
      const starts = entries.filter((e) => e.text === t && e.event === 'start').length;
      if (doneBefore.has(t)) assert.equal(starts, 1, `${t} was done before the kill and must not run again`);
      else assert.ok(starts >= 1 && starts <= 2, `${t} ran ${starts} times`);
    }
    const s2 = openStore(join(dir, 'st'), { readonly: true });
    const cells = s2.listCells({ pipeline: 'sweep' });
    s2.close();
    assert.equal(cells.length, 11);
    assert.ok(cells.every((c) => c.state === 'done'));
    assert.deepEqual(readdirSync(join(dir, 'st', 'tmp')), [], 'no leftover temporary folders');

    // An uninterrupted run in a fresh store produces the same results.
    const ref = await sei(['run', 'p.yaml', '--store', 'ref', '--jobs', '2']);
    lap('reference');
    exits(ref, 0);
    const r = openStore(join(dir, 'ref'), { readonly: true });
    const refCells = r.listCells({ pipeline: 'sweep' });
    r.close();
    assert.deepEqual(cells.map((c) => [c.key, c.metrics]), refCells.map((c) => [c.key, c.metrics]));
    const all = cells.find((c) => c.instance === 'all')!;
    assert.equal(readFileSync(join(all.dir!, 'text.txt'), 'utf8'), Array.from({ length: 10 }, (_, i) => `w${i}`).join(''));
  });

  it('a second run on the same store refuses, naming the holder; the first finishes untouched', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(2500, 4));
    const first = start(['run', 'p.yaml', '--store', 'st', '--jobs', '2'], env, dir);
    await waitFor(() => readJournalSync(journal).some((e) => e.event === 'start'), 20_000, 'the first run to start', first);
    const second = await sei(['run', 'p.yaml', '--store', 'st', '--jobs', '2']);
    // Readers are welcome meanwhile.
    const status = await sei(['status', 'sweep', '--store', 'st', '--json']);
    exits(status, 0);
    const st = JSON.parse(status.stdout) as { running: { pid: number } | null; pipelines: { states: Record<string, number> }[] };
    assert.equal(st.running?.pid, first.child.pid);
    assert.ok((st.pipelines[0]!.states.running ?? 0) >= 1);
    exits(second, 2);
    assert.match(second.stderr, new RegExp(`in use by run \\S+ of pipeline 'sweep' \\(pid ${first.child.pid} on host \\S+, since `));
    const a = await first.done;
    exits(a, 0);
    assert.equal(readJournalSync(journal).filter((e) => e.event === 'start').length, 5, 'the refused run ran nothing');
  });

  it('two runs started together on a new store: one works, the other refuses or finds it all done; nothing runs twice', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(200, 4));
    const [x, y] = await Promise.all([sei(['run', 'p.yaml', '--store', 'st', '--jobs', '2']), sei(['run', 'p.yaml', '--store', 'st', '--jobs', '2'])]);
    const codes = [x.code, y.code].sort();
    assert.ok(codes[0] === 0 && (codes[1] === 0 || codes[1] === 2), `exit codes ${codes}: ${x.stderr} ${y.stderr}`);
    for (const r of [x, y]) if (r.code === 2) assert.match(r.stderr, /is in use by run/);
    assert.equal(readJournalSync(journal).filter((e) => e.event === 'done').length, 5, 'every cell ran once');
    const s = openStore(join(dir, 'st'), { readonly: true });
    assert.deepEqual(s.listCells({ pipeline: 'sweep' }).map((c) => [c.state, c.attempts]), Array(5).fill(['done', 1]));
    s.close();
  });

  it('Ctrl-C stops the running cells (recorded interrupted, exit 130); the same command then finishes them', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(1500, 2));
    const run = start(['run', 'p.yaml', '--store', 'st', '--jobs', '2'], env, dir);
    await waitFor(() => readJournalSync(journal).filter((e) => e.event === 'start').length >= 2, 20_000, 'both cells to start', run);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    exits(stopped, 130);
    const s = openStore(join(dir, 'st'), { readonly: true });
    assert.deepEqual(s.listCells({ pipeline: 'sweep' }).map((c) => c.state), ['interrupted', 'interrupted', 'pending']);
    assert.equal(s.lockHolder(), undefined, 'lock released');
    s.close();
    const plan = JSON.parse((await sei(['plan', 'p.yaml', '--store', 'st', '--json'])).stdout) as { cells: { why: string[] }[] };
    assert.deepEqual(plan.cells.map((c) => c.why), [['interrupted before it finished'], ['interrupted before it finished'], ['new']]);
    const again = await sei(['run', 'p.yaml', '--store', 'st', '--jobs', '2']);
    exits(again, 0);
  });

  it('exit codes: 2 for a config error with no store created, 1 when a cell fails, 0 once all are done', async () => {
    writeFileSync(join(dir, 'bad.yaml'), PIPELINE(0, 2).replace('sleepMs: 0', 'sleepMs: 0, colour: red'));
    const bad = await sei(['run', 'bad.yaml', '--store', 'st']);
    exits(bad, 2);
    assert.match(bad.stderr, /bad\.yaml:\d+:\d+.*colour/);
    assert.equal(existsSync(join(dir, 'st')), false, 'the store was not created');

    const usage = await sei(['run', 'bad.yaml', '--jobs', 'zero']);
    exits(usage, 2);

    // A misspelt backend is refused as the command line is read, not by every ML cell later.
    writeFileSync(join(dir, 'ok.yaml'), PIPELINE(0, 2));
    for (const command of ['run', 'plan']) {
      const backend = await sei([command, 'ok.yaml', '--store', 'st', '--backend', 'wsam']);
      exits(backend, 2);
      assert.match(backend.stderr, /'wsam' is invalid\. Allowed choices are auto, tensorflow-gpu, tensorflow, wasm, cpu/);
    }
    assert.equal(existsSync(join(dir, 'st')), false, 'the store was not created');

    writeFileSync(join(dir, 'p.yaml'), PIPELINE(0, 3, `, failTimes: 1, failCounter: ${JSON.stringify(join(dir, 'count'))}`));
    const failing = await sei(['run', 'p.yaml', '--store', 'st', '--jobs', '1']);
    exits(failing, 1);
    assert.match(failing.stderr, /FAILED write-text words \[text=w0\].*planned failure[\s\S]*log: .*\.log/);
    const fixed = await sei(['run', 'p.yaml', '--store', 'st', '--jobs', '1']);
    exits(fixed, 0);
    const status = JSON.parse((await sei(['status', '--store', 'st', '--json'])).stdout) as { pipelines: { pipeline: string; states: Record<string, number> }[] };
    assert.deepEqual(status.pipelines.map((p) => [p.pipeline, p.states]), [['sweep', { done: 4 }]]);
  });

  it('plan with an external input missing: exit 0, cells listed as blocked with the path; run refuses with exit 2 and writes nothing', async () => {
    const missing = join(dir, 'data', 'absent.txt');
    writeFileSync(join(dir, 'ext.yaml'), `name: ext
stages:
  r: { stage: read-file, params: { path: data/absent.txt } }
  e:
    stage: append-text
    inputs: { source: r }
    sweep: { grid: { suffix: ["1", "2"] } }
  free: { stage: write-text, params: { text: free } }
`);
    const planned = await sei(['plan', 'ext.yaml', '--store', 'st']);
    exits(planned, 0);
    assert.match(planned.stdout, /^ext \(.*ext\.yaml\): 4 cells, 0 cached, 1 to run, 3 blocked by missing inputs$/m);
    assert.match(planned.stdout, new RegExp(`^  blocked read-file r [0-9a-f]{12}: input ${missing} missing$`, 'm'));
    assert.equal(planned.stdout.match(new RegExp(`^  blocked append-text e \\[suffix=\\d\\] [0-9a-f]{12}: upstream r: input ${missing} missing$`, 'gm'))?.length, 2);
    assert.match(planned.stdout, /^  run     write-text free [0-9a-f]{12}: new$/m);
    assert.match(planned.stdout, /^  e \(append-text\): 2 cells, 0 cached, 0 to run, 2 blocked$/m);
    assert.match(planned.stdout, /^      text\.txt: /m, 'the per-instance summary lists what the stage writes');
    assert.match(planned.stdout, new RegExp(`\\n4 cells: 0 cached, 1 to run, 3 blocked by missing inputs \\(${missing}\\)\\n$`));
    assert.equal(existsSync(join(dir, 'st')), false, 'plan creates no store');

    const json = JSON.parse((await sei(['plan', 'ext.yaml', '--store', 'st', '--json'])).stdout) as {
      total: number; toRun: number; blocked: number; missingInputs: string[];
      instances: { instance: string; cells: number; blocked: number; outputs: string[] }[];
      cells: { instance: string; blocked: boolean; blockedReason: string | null; missingInputs: string[] }[];
    };
    assert.deepEqual([json.total, json.toRun, json.blocked, json.missingInputs], [4, 1, 3, [missing]]);
    assert.deepEqual(json.cells.map((c) => [c.instance, c.blocked, c.blockedReason]), [
      ['r', true, `input ${missing} missing`],
      ['e', true, `upstream r: input ${missing} missing`],
      ['e', true, `upstream r: input ${missing} missing`],
      ['free', false, null],
    ]);
    assert.deepEqual(json.instances.map((i) => [i.instance, i.cells, i.blocked]), [['r', 1, 1], ['e', 2, 2], ['free', 1, 0]]);

    const run = await sei(['run', 'ext.yaml', '--store', 'st']);
    exits(run, 2);
    assert.match(run.stderr, new RegExp(`ext\\.yaml:3:42: stages\\.r\\.params\\.path: external input ${missing} does not exist`));
    assert.equal(existsSync(join(dir, 'st')), false, 'the store was not created');
    assert.equal(existsSync(journal), false, 'no stage ran');

    // With the input present everything runs; once it is gone again, cached cells stay cached.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'data'));
    writeFileSync(missing, 'here');
    exits(await sei(['run', 'ext.yaml', '--store', 'st']), 0);
    rmSync(missing);
    const again = await sei(['plan', 'ext.yaml', '--store', 'st']);
    exits(again, 0);
    assert.match(again.stdout, new RegExp(`\\n4 cells: 1 cached, 0 to run, 3 blocked by missing inputs \\(${missing}\\)\\n$`));
    assert.match(again.stdout, /^  cached  write-text free /m);
  });

  it('plan --json says why after a param change; explain shows the cell; gc removes what no pipeline reaches', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE(0, 3));
    exits(await sei(['run', 'p.yaml', '--store', 'st']), 0);
    const planned = await sei(['plan', 'p.yaml', '--store', 'st', '--json', '--set', 'stages.words.params.repeat=2']);
    exits(planned, 0);
    const plan = JSON.parse(planned.stdout) as { total: number; cached: number; cells: { id: string; instance: string; cached: boolean; reasons: { kind: string; path?: string; before?: unknown; after?: unknown }[]; why: string[] }[] };
    assert.equal(plan.total, 4);
    assert.equal(plan.cached, 0);
    for (const c of plan.cells.filter((x) => x.instance === 'words')) {
      assert.deepEqual(c.reasons, [{ kind: 'param-changed', path: 'repeat', before: 1, after: 2 }]);
    }
    assert.equal(plan.cells.find((x) => x.instance === 'all')!.reasons[0]!.kind, 'upstream-changed');
    const unchanged = JSON.parse((await sei(['plan', 'p.yaml', '--store', 'st', '--json'])).stdout) as { cached: number; cells: { id: string }[] };
    assert.equal(unchanged.cached, 4);

    // A truncated artifact shows up in the plan as damaged.
    const s0 = openStore(join(dir, 'st'), { readonly: true });
    const w0 = s0.listCells({ pipeline: 'sweep' })[0]!;
    s0.close();
    writeFileSync(join(w0.dir!, 'text.txt'), '');
    const damaged = JSON.parse((await sei(['plan', 'p.yaml', '--store', 'st', '--json'])).stdout) as { cached: number; cells: { id: string; why: string[] }[] };
    assert.equal(damaged.cached, 3);
    assert.deepEqual(damaged.cells.find((c) => c.id === w0.id)!.why, ['artifact damaged: text.txt has 0 bytes, 2 were recorded']);

    const explained = await sei(['explain', unchanged.cells[0]!.id.slice(0, 10), '--store', 'st']);
    exits(explained, 0);
    assert.match(explained.stdout, /instance +words \(stage write-text\)/);
    assert.match(explained.stdout, /state +done, 1 attempt/);
    assert.match(explained.stdout, /log +.*\.log/);
    exits(await sei(['explain', 'abcdef', '--store', 'st']), 2);

    // Run the changed version: the first version's artifacts are still reachable from p.yaml.
    exits(await sei(['run', 'p.yaml', '--store', 'st', '--set', 'stages.words.params.repeat=2']), 0);
    writeFileSync(join(dir, 'p2.yaml'), PIPELINE(0, 3, ', repeat: 2'));
    const dry = await sei(['gc', 'p2.yaml', '--store', 'st', '--dry-run', '--json']);
    exits(dry, 0);
    const dryOut = JSON.parse(dry.stdout) as { removed: { dir: string }[]; kept: number };
    assert.equal(dryOut.removed.length, 4);
    assert.equal(dryOut.kept, 4);
    assert.ok(dryOut.removed.every((r) => existsSync(r.dir)), 'dry run deletes nothing');
    const gc = await sei(['gc', 'p2.yaml', '--store', 'st']);
    exits(gc, 0);
    assert.ok(dryOut.removed.every((r) => !existsSync(r.dir)));
    const after = JSON.parse((await sei(['plan', 'p2.yaml', '--store', 'st', '--json'])).stdout) as { cached: number };
    assert.equal(after.cached, 4, 'reachable artifacts kept');
  });
});
