// A whole sweep from an empty store, as `sei run` does it, and where its wall time went: cell-
// seconds per stage, worker utilisation and the critical path, read from the attempt timings the
// store records (src/report/run-profile.ts).
//   npm run bench:sweep [-- PIPELINE] [--jobs N] [--keep] [--json]   (default: the Fashion-MNIST study, 2 jobs)
//   npm run bench:sweep -- --analyze STORE [--pipeline NAME]          (profile a store's latest run, run nothing;
//                                                                     a run still going is profiled up to now)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from '../src/store/index.js';
import { formatRunProfile, profileRun } from '../src/report/run-profile.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

function profileStore(storeDir: string, pipeline?: string) {
  const store = openStore(storeDir, { readonly: true });
  try {
    const run = store.listRuns(pipeline, 1)[0];
    if (!run) throw new Error(`${storeDir} holds no run${pipeline ? ` of pipeline ${pipeline}` : ''}`);
    // A run still going is profiled up to now (its running cells count until now).
    const endedAt = run.endedAt ?? new Date().toISOString();
    return { run, partial: run.endedAt === undefined, profile: profileRun(store.runAttempts(run.id), { startedAt: run.startedAt, endedAt, jobs: run.jobs }) };
  } finally {
    store.close();
  }
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { jobs: { type: 'string', default: '2' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, analyze: { type: 'string' }, pipeline: { type: 'string' } },
  });
  let storeDir = values.analyze;
  let loadBefore: string | undefined, loadAfter: string | undefined, measuredWall: number | undefined;
  if (storeDir === undefined) {
    const pipeline = positionals[0] ?? join(root, 'pipelines', 'isplit-fashion-mnist.yaml');
    storeDir = mkdtempSync(join(tmpdir(), 'sei-sweep-'));
    const log = join(storeDir, 'run.log');
    loadBefore = load();
    const t = process.hrtime.bigint();
    // A real `sei run` in its own process (its workers as in any run), output kept in the store folder.
    const r = spawnSync(process.execPath, [join(root, 'bin', 'sei.js'), 'run', pipeline, '--store', storeDir, '--jobs', values.jobs!, '--no-progress'],
      { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
    measuredWall = Number(process.hrtime.bigint() - t) / 1e9;
    loadAfter = load();
    if (r.status !== 0) {
      console.error(`sei run exited with ${r.status}:\n${r.stderr.toString().slice(-4000)}\n(store kept in ${storeDir})`);
      return 1;
    }
    if (!values.json) console.log(`store ${storeDir}${values.keep ? ' (kept)' : ''}; log of the run: ${r.stdout.length} bytes`);
  }
  const { run, partial, profile } = profileStore(storeDir, values.pipeline);
  if (values.json) {
    console.log(JSON.stringify({ run: run.id, pipeline: run.pipeline, cells: run.total, cached: run.cached, done: run.done, partial, measuredWall, loadBefore, loadAfter, ...profile }, null, 1));
  } else {
    console.log(`pipeline ${run.pipeline}: run ${run.id}, ${run.total} cells (${run.cached} cached), ${run.jobs} jobs` +
      (partial ? `; still running: ${run.done} cells done, profiled up to now` : ''));
    if (measuredWall !== undefined) console.log(`sei run took ${measuredWall.toFixed(1)} s as a process (planning and start-up included; the profile below is the run as the store recorded it); load average (1/5/15 min) ${loadBefore} before, ${loadAfter} after`);
    console.log(formatRunProfile(profile));
  }
  if (values.analyze === undefined && !values.keep) rmSync(storeDir, { recursive: true, force: true });
  return 0;
}

process.exitCode = main();
