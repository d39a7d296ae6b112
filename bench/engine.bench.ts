// Engine benchmark (`npm run bench:engine`):
//  1. scheduling overhead per cell beyond the stage's own work (a 1,000-cell sweep of a stage
//     that writes one small file, through real worker processes and the real store);
//  2. a no-op re-run of that finished 1,000-cell pipeline (everything cached);
//  3. the same no-op re-run end to end through `sei run` on a pipeline file, when the planner is built.
// Targets: overhead < 50 ms per cell, no-op re-run < 2 s.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPlan } from '../src/exec/orchestrator.js';
import { FIXTURE_STAGES, plan, writeText } from '../test/exec/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const N = Number(process.env.SEI_BENCH_CELLS ?? 1000);
const JOBS = Number(process.env.SEI_BENCH_JOBS ?? 2);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sei-bench-'));
  const storeDir = join(dir, 'store');
  const env = { SEI_STAGE_PATH: FIXTURE_STAGES };
  try {
    const cells = Array.from({ length: N }, (_, i) => writeText('w', `cell-${i}`));
    const p = plan('bench', cells);
    let stageMs = 0;
    const t0 = performance.now();
    const first = await runPlan(p, { store: storeDir, jobs: JOBS, workerEnv: env, onEvent: (e) => { if (e.type === 'cell-done') stageMs += e.durationMs; } });
    const wall = performance.now() - t0;
    if (first.exitCode !== 0) throw new Error(`first run failed: ${JSON.stringify(first.failures.slice(0, 3))}`);
    // Wall time spent per cell and worker slot, minus what the stage itself took.
    const overhead = (wall * JOBS - stageMs) / N;
    console.log(`cold run: ${N} cells on ${JOBS} workers in ${(wall / 1000).toFixed(2)} s; stage work ${(stageMs / N).toFixed(2)} ms/cell; scheduling overhead ${overhead.toFixed(2)} ms/cell (target < 50)`);

    const t1 = performance.now();
    const again = await runPlan(p, { store: storeDir, jobs: JOBS, workerEnv: env });
    const noop = performance.now() - t1;
    if (again.cached !== N) throw new Error(`expected ${N} cached cells, got ${again.cached}`);
    console.log(`no-op re-run (orchestrator, plan given): ${N} cached cells in ${(noop / 1000).toFixed(3)} s (target < 2)`);

    if (existsSync(join(root, 'dist', 'src', 'pipeline', 'plan.js')) && existsSync(join(root, 'dist', 'src', 'config', 'load.js'))) {
      const pipeline = join(dir, 'bench.yaml');
      const texts = Array.from({ length: N }, (_, i) => `t${i}`);
      writeFileSync(pipeline, `name: bench-cli\nstages:\n  w:\n    stage: write-text\n    params: { text: x }\n    sweep:\n      grid: { text: [${texts.join(', ')}] }\n`);
      const cliStore = join(dir, 'cli-store');
      const sei = join(root, 'bin', 'sei.js');
      const cliEnv = { ...process.env, SEI_STAGE_PATH: FIXTURE_STAGES };
      const c0 = performance.now();
      execFileSync(process.execPath, [sei, 'run', pipeline, '--store', cliStore, '--jobs', String(JOBS), '--no-progress'], { env: cliEnv, stdio: 'ignore', cwd: root });
      const cold = performance.now() - c0;
      const c1 = performance.now();
      execFileSync(process.execPath, [sei, 'run', pipeline, '--store', cliStore, '--jobs', String(JOBS), '--no-progress'], { env: cliEnv, stdio: 'ignore', cwd: root });
      const warm = performance.now() - c1;
      const c2 = performance.now();
      execFileSync(process.execPath, [sei, 'plan', pipeline, '--store', cliStore, '--json'], { env: cliEnv, stdio: 'ignore', cwd: root, maxBuffer: 1 << 28 });
      const planOnly = performance.now() - c2;
      const c3 = performance.now();
      execFileSync(process.execPath, [sei, '--version'], { stdio: 'ignore' });
      const startOnly = performance.now() - c3;
      console.log(`sei run end to end: cold ${(cold / 1000).toFixed(2)} s; no-op re-run ${(warm / 1000).toFixed(3)} s for ${N} cells, process start and planning included (target < 2)`);
      console.log(`  of which: process start ${(startOnly / 1000).toFixed(3)} s; \`sei plan\` of the same pipeline (start + load + plan + cache check) ${(planOnly / 1000).toFixed(3)} s`);
    } else {
      console.log('sei run end to end: skipped (the config loader / planner is not built yet)');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
