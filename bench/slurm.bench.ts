// The Slurm executor on the local test cluster (test/slurm/start-cluster.sh, as root):
//   1. overhead per cell beyond the job's own work: the sbatch call (shared by an array's
//      elements) plus the time from the job writing its outcome to the cell being recorded
//      (poll interval, manifest verification, move into the store); target median under 1 s;
//   2. status queries per poll interval for 8, 64 and N jobs: one, whatever the number of jobs;
//   3. N trivial cells (default 1000) through job arrays: sbatch calls, refusals, wall time.
// Run: npm run build && npm run bench:slurm [-- --cells 1000 --poll 1]
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..');
const FIXTURES = resolve(here, '..', 'test', 'fixtures', 'stages');
const env = { SEI_STAGE_PATH: FIXTURES };
process.env.SEI_STAGE_PATH = FIXTURES;

const { runPlan } = await import('../src/exec/orchestrator.js');
const { buildSlurmExecutor, chooseExecutor } = await import('../src/exec/slurm/index.js');
const { cellDirOf } = await import('../src/exec/slurm/records.js');
const { plan, writeText } = await import('../test/exec/helpers.js');

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('cells', 1000);
const POLL = arg('poll', 1);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : NaN;
}

async function run(n: number, label: string) {
  const cells = Array.from({ length: n }, (_, i) => ({ ...writeText('words', `bench-${label}-${i}`), instance: 'words' }));
  const p = plan(`bench-${label}`, cells);
  const choice = chooseExecutor(undefined, { kind: 'slurm', cpus: 1, mem: '200M', time: '10', pollSec: POLL, latencyWaitSec: 30, maxQueued: 5000 }, ROOT, 'bench');
  if (choice.kind !== 'slurm') throw new Error('unreachable');
  const store = mkdtempSync(join(tmpdir(), 'sei-bench-slurm-'));
  const { executor, slurm } = await buildSlurmExecutor(p, choice.config, { env });
  const doneAt = new Map<string, number>();
  const t0 = Date.now();
  let keep = false;
  try {
    const summary = await runPlan(p, {
      storeDir: store, executor, workerEnv: env,
      onEvent: (e) => { if (e.type === 'cell-done') doneAt.set(e.cell.key, Date.now()); },
    });
    const wall = (Date.now() - t0) / 1000;
    const submitsAfterPreflight = slurm.tools.submitMs.length;
    const sbatchShare = slurm.tools.submitMs.reduce((a, b) => a + b, 0) / n;
    const ingest = cells.filter((c) => doneAt.has(c.key)).map((c) => doneAt.get(c.key)! - statSync(join(cellDirOf(store, c.key), 'outcome.json')).mtimeMs);
    const overhead = ingest.map((x) => x + sbatchShare);
    // A failed cell is a finding, not noise: say why, and keep the store (its logs and job output).
    for (const f of summary.failures) console.log(`  FAILED ${f.instance} ${f.cellId.slice(0, 12)}: ${f.error} (log ${f.logPath})`);
    keep = summary.failures.length > 0;
    if (keep) console.log(`  store kept for inspection: ${store}`);
    return { n, done: summary.done, wall, sbatch: submitsAfterPreflight, retried: slurm.tools.retriedSubmits, polls: slurm.polls, queries: slurm.statusQueries, overheadMedianMs: median(overhead), ingestMedianMs: median(ingest), sbatchShareMs: sbatchShare };
  } finally {
    await executor.close();
    if (!keep) rmSync(store, { recursive: true, force: true });
  }
}

console.log(`Slurm executor benchmark (poll interval ${POLL} s)`);
for (const [n, label] of [[8, 'small'], [64, 'medium'], [N, 'large']] as [number, string][]) {
  const r = await run(n, label);
  console.log(`${String(r.n).padStart(5)} cells: ${r.done} done in ${r.wall.toFixed(1)} s; sbatch calls ${r.sbatch} (retried ${r.retried}); ` +
    `polls ${r.polls}, status queries ${r.queries} (${(r.queries / Math.max(1, r.polls)).toFixed(2)} per poll); ` +
    `overhead per cell median ${(r.overheadMedianMs / 1000).toFixed(3)} s (ingest ${(r.ingestMedianMs / 1000).toFixed(3)} s + sbatch share ${(r.sbatchShareMs / 1000).toFixed(3)} s)`);
}
