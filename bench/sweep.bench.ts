// A whole sweep from an empty store, as `sei run` does it, and where its wall time went: cell-
// seconds per stage, worker utilisation and the critical path, read from the attempt timings the
// store records (src/report/run-profile.ts).
//   npm run bench:sweep [-- PIPELINE] [--jobs N] [--keep] [--json]   (default: the Fashion-MNIST study, 2 jobs)
//   npm run bench:sweep -- --analyze STORE [--pipeline NAME]          (profile a store's latest run, run nothing;
//                                                                     a run still going is profiled up to now)
//   npm run bench:sweep -- --torch [--python PATH] [--max-per-class N] (then the same study in plain PyTorch,
//                                                                     bench/torch_sweep.py, with --jobs threads:
//                                                                     both walls and their ratio)
// --max-per-class N sets the study's cap on images a class (stages.data.params.dataset.maxPerClass)
// for `sei run` and the PyTorch run alike; without it both take the pipeline's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { openStore } from '../src/store/index.js';
import { formatRunProfile, profileRun } from '../src/report/run-profile.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const DEFAULT_PIPELINE = join(root, 'pipelines', 'isplit-fashion-mnist.yaml');
/** The study in plain PyTorch (the source tree's copy: this file runs from dist/bench). */
const TORCH_SWEEP = join(root, 'bench', 'torch_sweep.py');

/** Test accuracy of each base network and the retrained accuracy at each cut, per class subset. */
interface SubsetAccuracy { classes: string[]; base: number | null; cuts: Record<string, number> }

/** What `bench/torch_sweep.py --json` prints (the fields read here). */
interface TorchSweep {
  torch: string; threads: number; maxPerClass: number; wall: number; cpu: number; startup: number;
  phases: Record<string, number>;
  subsets: { classes: string[]; base: { testAccuracy: number }; cuts: { cut: string; accuracy: number }[] }[];
}

/** Why `python` cannot run the PyTorch study, or undefined when it can. */
function torchUnavailable(python: string): string | undefined {
  if (!existsSync(python)) return `${python} not found: the PyTorch study needs Python 3 with torch (Debian: apt-get install python3-torch)`;
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.error) return `${python} could not be run: ${r.error.message}`;
  if (r.status === 0) return undefined;
  return /No module named/.test(r.stderr) ? `${python} has no torch module (Debian: apt-get install python3-torch)`
    : `${python} -c 'import torch' failed: ${r.stderr.trim().split('\n').pop() ?? `exit code ${r.status}`}`;
}

/** The pipeline's cap on images a class (stages.data.params.dataset.maxPerClass); 0 when it has none. */
function pipelineMaxPerClass(pipeline: string): number {
  const doc = parseYaml(readFileSync(pipeline, 'utf8')) as { stages?: { data?: { params?: { dataset?: { maxPerClass?: unknown } } } } };
  const v = doc.stages?.data?.params?.dataset?.maxPerClass;
  return typeof v === 'number' ? v : 0;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function profileStore(storeDir: string, pipeline?: string) {
  const store = openStore(storeDir, { readonly: true });
  try {
    const run = store.listRuns(pipeline, 1)[0];
    if (!run) throw new Error(`${storeDir} holds no run${pipeline ? ` of pipeline ${pipeline}` : ''}`);
    // A run still going is profiled up to now (its running cells count until now).
    const endedAt = run.endedAt ?? new Date().toISOString();
    return { run, partial: run.endedAt === undefined, profile: profileRun(store.runAttempts(run.id), { startedAt: run.startedAt, endedAt, jobs: run.jobs }),
      accuracies: subsetAccuracies(store, run.pipeline) };
  } finally {
    store.close();
  }
}

/** Base and retrained test accuracies per class subset, from the train-base and evaluate cells of the pipeline's latest run. */
function subsetAccuracies(store: ReturnType<typeof openStore>, pipeline: string): SubsetAccuracy[] {
  const out = new Map<string, SubsetAccuracy>();
  const subset = (coords: Record<string, unknown>) => {
    const names = (coords['dataset.classes'] as { names?: unknown } | undefined)?.names;
    const classes = Array.isArray(names) ? names.map(String) : [];
    const key = JSON.stringify(classes);
    let s = out.get(key);
    if (!s) out.set(key, s = { classes, base: null, cuts: {} });
    return s;
  };
  for (const c of store.listCells({ pipeline, instance: 'base', state: 'done' })) {
    const a = c.metrics?.['testAccuracy'];
    subset(c.coords).base = typeof a === 'number' ? a : null;
  }
  for (const c of store.listCells({ pipeline, instance: 'evaluate', state: 'done' })) {
    const a = c.metrics?.['accuracy'];
    if (typeof a === 'number' && typeof c.coords['cut'] === 'string') subset(c.coords).cuts[c.coords['cut']] = a;
  }
  return [...out.values()];
}

/** Runs bench/torch_sweep.py; its report and its wall time as a process, or the reason it failed. */
function runTorchSweep(python: string, threads: string, maxPerClass: number): { ok: true; result: TorchSweep; wall: number } | { ok: false; error: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(python, [TORCH_SWEEP, '--json', '--threads', threads, '--max-per-class', String(maxPerClass)],
    { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.error) return { ok: false, error: `${python} could not be run: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, error: `bench/torch_sweep.py exited with ${r.status ?? r.signal}:\n${r.stderr.slice(-4000)}` };
  try {
    return { ok: true, result: JSON.parse(r.stdout) as TorchSweep, wall };
  } catch (e) {
    return { ok: false, error: `bench/torch_sweep.py printed no JSON (${(e as Error).message}):\n${r.stdout.slice(0, 2000)}` };
  }
}

/** The PyTorch run beside the tool's: its report, its wall as a process, the ratio and the accuracies side by side. */
interface TorchComparison extends TorchSweep {
  measuredWall: number; loadBefore: string; loadAfter: string;
  /** PyTorch wall / sei run wall, both measured as processes. */
  ratio: number;
  accuracies: { classes: string[]; base: { sei: number | null; torch: number | null }; cuts: { sei: Record<string, number>; torch: Record<string, number> } }[];
}

function formatTorchComparison(r: TorchComparison, seiWall: number): string {
  const f = (v: number | null) => (v === null ? '-' : v.toFixed(4)).padStart(8);
  const m = (cuts: Record<string, number>) => (Object.keys(cuts).length ? mean(Object.values(cuts)) : null);
  const lines = [
    '',
    `plain PyTorch (bench/torch_sweep.py: torch ${r.torch}, one process, ${r.threads} threads, no head caching; validate, compare-subsets, simulate and recommend not run):`,
    `  ${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}; ${r.cpu.toFixed(1)} CPU-s; load average ${r.loadBefore} before, ${r.loadAfter} after`,
    `  wall: PyTorch ${r.measuredWall.toFixed(1)} s, sei run ${seiWall.toFixed(1)} s; ratio (PyTorch / sei) ${r.ratio.toFixed(2)}`,
    `  ${'test accuracy'.padEnd(36)}${'base: sei'.padStart(10)}${'torch'.padStart(8)}${'retrained, mean of cuts: sei'.padStart(30)}${'torch'.padStart(8)}`,
  ];
  for (const s of r.accuracies) {
    const name = s.classes.length > 4 ? `${s.classes.length} classes` : s.classes.join(', ');
    lines.push(`  ${name.padEnd(36)}${f(s.base.sei).padStart(10)}${f(s.base.torch)}${f(m(s.cuts.sei)).padStart(30)}${f(m(s.cuts.torch))}`);
  }
  return lines.join('\n');
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      jobs: { type: 'string', default: '2' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, analyze: { type: 'string' }, pipeline: { type: 'string' },
      torch: { type: 'boolean' }, python: { type: 'string', default: '/usr/bin/python3' }, 'max-per-class': { type: 'string' },
    },
  });
  const pipeline = resolve(positionals[0] ?? DEFAULT_PIPELINE);
  const cap = values['max-per-class'];
  if (cap !== undefined && !/^[1-9]\d*$/.test(cap)) {
    console.error(`--max-per-class: expected a positive whole number of images, got '${cap}'`);
    return 2;
  }
  if (values.torch) {
    // Checked before the tool's sweep, which takes many minutes.
    if (values.analyze !== undefined) {
      console.error('--torch runs the study in PyTorch after running it with sei; it does not apply to --analyze');
      return 2;
    }
    if (pipeline !== DEFAULT_PIPELINE) {
      console.error(`--torch: bench/torch_sweep.py implements ${DEFAULT_PIPELINE} only, not ${pipeline}`);
      return 2;
    }
    const why = torchUnavailable(values.python!);
    if (why) {
      console.error(`--torch: ${why}`);
      return 2;
    }
  }
  const maxPerClass = cap !== undefined ? Number(cap) : values.torch ? pipelineMaxPerClass(pipeline) : undefined;
  let storeDir = values.analyze;
  let loadBefore: string | undefined, loadAfter: string | undefined, measuredWall: number | undefined;
  if (storeDir === undefined) {
    storeDir = mkdtempSync(join(tmpdir(), 'sei-sweep-'));
    const log = join(storeDir, 'run.log');
    loadBefore = load();
    const t = process.hrtime.bigint();
    // A real `sei run` in its own process (its workers as in any run), output kept in the store folder.
    const sets = cap !== undefined ? ['--set', `stages.data.params.dataset.maxPerClass=${cap}`] : [];
    const r = spawnSync(process.execPath, [join(root, 'bin', 'sei.js'), 'run', pipeline, '--store', storeDir, '--jobs', values.jobs!, '--no-progress', ...sets],
      { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
    measuredWall = Number(process.hrtime.bigint() - t) / 1e9;
    loadAfter = load();
    if (r.status !== 0) {
      console.error(`sei run exited with ${r.status}:\n${r.stderr.toString().slice(-4000)}\n(store kept in ${storeDir})`);
      return 1;
    }
    if (!values.json) console.log(`store ${storeDir}${values.keep ? ' (kept)' : ''}; log of the run: ${r.stdout.length} bytes`);
  }
  const { run, partial, profile, accuracies } = profileStore(storeDir, values.pipeline);
  if (values.analyze === undefined && !values.keep) rmSync(storeDir, { recursive: true, force: true });
  let torch: TorchComparison | undefined;
  if (values.torch) {
    if (!values.json) console.error(`running the study in PyTorch (bench/torch_sweep.py, ${values.jobs} threads, ${maxPerClass ? `at most ${maxPerClass}` : 'all'} images a class)…`);
    const torchLoadBefore = load();
    const t = runTorchSweep(values.python!, values.jobs!, maxPerClass!);
    if (!t.ok) {
      console.error(t.error);
      return 1;
    }
    torch = {
      ...t.result, measuredWall: t.wall, loadBefore: torchLoadBefore, loadAfter: load(),
      // Both as processes: sei run's wall (planning, workers and every stage) against the PyTorch script's.
      ratio: t.wall / measuredWall!,
      accuracies: accuracies.map((a) => {
        const other = t.result.subsets.find((s) => JSON.stringify(s.classes) === JSON.stringify(a.classes));
        const torchCuts = Object.fromEntries((other?.cuts ?? []).map((c) => [c.cut, c.accuracy]));
        return { classes: a.classes, base: { sei: a.base, torch: other?.base.testAccuracy ?? null }, cuts: { sei: a.cuts, torch: torchCuts } };
      }),
    };
  }
  if (values.json) {
    console.log(JSON.stringify({ run: run.id, pipeline: run.pipeline, cells: run.total, cached: run.cached, done: run.done, partial, measuredWall, loadBefore, loadAfter, ...(cap !== undefined ? { maxPerClass } : {}), ...profile, ...(torch ? { torch } : {}) }, null, 1));
  } else {
    console.log(`pipeline ${run.pipeline}: run ${run.id}, ${run.total} cells (${run.cached} cached), ${run.jobs} jobs` +
      (partial ? `; still running: ${run.done} cells done, profiled up to now` : ''));
    if (measuredWall !== undefined) console.log(`sei run took ${measuredWall.toFixed(1)} s as a process (planning and start-up included; the profile below is the run as the store recorded it); load average (1/5/15 min) ${loadBefore} before, ${loadAfter} after`);
    console.log(formatRunProfile(profile));
    if (torch) console.log(formatTorchComparison(torch, measuredWall!));
  }
  return 0;
}

process.exitCode = main();
