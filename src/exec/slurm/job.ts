// The program a Slurm job runs: `node job.js <batch folder>`. It picks its cell (the array
// element's, or the only one), runs it through the same worker process as the local executor,
// and writes outcome.json last, in the cell's folder on the shared store. It never opens the
// database; the orchestrator on the submit host verifies the outcome and records it.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { LocalExecutor } from '../local.js';
import type { CellSpec } from '../types.js';

async function main(): Promise<number> {
  const batchDir = process.argv[2];
  if (!batchDir) {
    process.stderr.write('usage: job.js <batch folder>\n');
    return 2;
  }
  const cells = JSON.parse(readFileSync(join(batchDir, 'cells.json'), 'utf8')) as string[];
  const index = Number(process.env.SLURM_ARRAY_TASK_ID ?? 0);
  const cellDir = cells[index];
  if (cellDir === undefined) {
    process.stderr.write(`job.js: no cell ${index} in ${batchDir}\n`);
    return 2;
  }
  const spec = JSON.parse(readFileSync(join(cellDir, 'spec.json'), 'utf8')) as CellSpec;
  // A requeued job starts over: whatever a killed run left is not a result (the checkpoint stays).
  rmSync(join(cellDir, 'outcome.json'), { force: true });
  rmSync(spec.outDir, { recursive: true, force: true });
  const jobId = process.env.SLURM_ARRAY_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}` : (process.env.SLURM_JOB_ID ?? 'none');
  appendFileSync(join(cellDir, 'starts.jsonl'), JSON.stringify({
    jobId, restart: Number(process.env.SLURM_RESTART_COUNT ?? 0), host: hostname(), at: new Date().toISOString(),
  }) + '\n');
  process.stdout.write(`sei job ${jobId}: cell ${spec.cellId.slice(0, 12)} ${spec.instance} (${spec.stage}) attempt ${spec.attempt}, restart ${process.env.SLURM_RESTART_COUNT ?? 0}, on ${hostname()}\n`);

  const executor = new LocalExecutor({ jobs: 1 });
  // Slurm sends SIGTERM on scancel, at the time limit and on preemption: stop the cell, write no
  // outcome (the orchestrator decides from the job's state: requeue, retry or interrupted).
  let stoppedBy: string | undefined;
  const stop = (sig: NodeJS.Signals): void => {
    stoppedBy = sig;
    executor.abortAll(`Slurm sent ${sig}`);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR1', stop);
  let lastProgress = 0;
  const result = await executor.submit(spec, {
    onProgress: (event) => {
      // The orchestrator reads the latest event when it polls; once a second is plenty.
      const now = Date.now();
      if (now - lastProgress < 1000) return;
      lastProgress = now;
      try { writeFileAtomic(join(cellDir, 'progress.json'), JSON.stringify(event)); } catch { /* progress is optional */ }
    },
  });
  await executor.close();
  if (stoppedBy !== undefined) {
    process.stdout.write(`sei job ${jobId}: stopped by ${stoppedBy}\n`);
    return 143;
  }
  writeFileAtomic(join(cellDir, 'outcome.json'), JSON.stringify(result) + '\n');
  process.stdout.write(`sei job ${jobId}: ${result.ok ? 'done' : `failed (${result.failure}): ${result.error}`}\n`);
  return result.ok ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
