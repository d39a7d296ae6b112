// `sei status [<pipeline>]`: what the store holds: per pipeline and instance, cells by state,
// the failures with their log paths, and the run in progress if there is one.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_STORE } from '../progress/options.js';
import { requirePipelineOnStore } from '../known-pipeline.js';

interface StatusOpts { store: string; json?: boolean }

export function register(program: Command): void {
  program
    .command('status')
    .description('show the state of the store: cells per pipeline and stage instance, failures and their logs, the run in progress')
    .argument('[pipeline]', 'pipeline name, or its YAML file (default: every pipeline in the store)')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .option('--json', 'machine-readable output')
    .action(async (pipelineArg: string | undefined, opts: StatusOpts) => {
      const { openStore, isLockStale, describeLock } = await import('../../store/store.js');
      const { readJobRecord, describeJob } = await import('../../exec/slurm/records.js');
      const { UsageError } = await import('../../util/errors.js');
      let name = pipelineArg;
      if (pipelineArg !== undefined && /\.ya?ml$/i.test(pipelineArg)) {
        if (!existsSync(pipelineArg) || !statSync(pipelineArg).isFile()) throw new UsageError(`no pipeline file ${pipelineArg}`);
        // Only the name is needed: load the config without planning (no hashing of code or data,
        // and a pipeline whose data is absent still has a status).
        const { loadPipeline } = await import('../../pipeline/load.js');
        name = (await loadPipeline(pipelineArg)).name;
      }
      const store = openStore(opts.store, { readonly: true });
      try {
        const names = name !== undefined ? [name] : store.pipelines();
        if (name !== undefined) requirePipelineOnStore(store, name);
        const lock = store.lockHolder();
        const active = lock && !isLockStale(lock, 30_000) ? lock : undefined;
        const report = names.map((p) => {
          // Cells a dead run left 'running' are shown as what they are: interrupted.
          const cells = store.listCells({ pipeline: p }).map((c) => (c.state === 'running' && active?.pipeline !== p ? { ...c, state: 'interrupted' as const } : c));
          const instances = new Map<string, Record<string, number>>();
          for (const c of cells) {
            const counts = instances.get(c.instance) ?? { total: 0 };
            counts.total = (counts.total ?? 0) + 1;
            counts[c.state] = (counts[c.state] ?? 0) + 1;
            instances.set(c.instance, counts);
          }
          const byState: Record<string, number> = {};
          for (const c of cells) byState[c.state] = (byState[c.state] ?? 0) + 1;
          // Cells a Slurm job holds (queued, running, or left by a run that died): job id, state, node, why it waits.
          const slurmJobs = cells.filter((c) => c.state !== 'done').flatMap((c) => {
            const job = readJobRecord(store.dir, c.key);
            return job && (!job.final || c.state === 'failed') ? [{ id: c.id, instance: c.instance, coords: c.coords, cellState: c.state, job }] : [];
          });
          const lastRun = store.listRuns(p, 1)[0];
          // A run recorded 'running' whose lock is gone or dead ended without finishing (a crash, kill -9).
          if (lastRun && lastRun.state === 'running' && active?.runId !== lastRun.id) lastRun.state = 'interrupted';
          return {
            pipeline: p,
            total: cells.length,
            states: byState,
            instances: Object.fromEntries(instances),
            lastRun: lastRun ?? null,
            running: active?.pipeline === p ? active : null,
            slurmJobs,
            failed: cells.filter((c) => c.state === 'failed' || c.state === 'interrupted').map((c) => ({
              id: c.id, instance: c.instance, coords: c.coords, state: c.state, error: c.error ?? null, logPath: c.logPath ?? null,
            })),
          };
        });
        if (opts.json) {
          process.stdout.write(JSON.stringify({ store: store.dir, running: active ?? null, pipelines: report }, null, 2) + '\n');
          return;
        }
        const { formatCoords } = await import('../progress/view.js');
        const lines: string[] = [`store ${store.dir}`];
        if (active) lines.push(`running now: ${describeLock(active)}`);
        else if (lock) lines.push(`a dead run left its lock (${describeLock(lock)}); the next run takes over`);
        if (report.length === 0) lines.push('no pipeline has run on this store yet');
        for (const r of report) {
          const states = Object.entries(r.states).map(([k, v]) => `${v} ${k}`).join(', ');
          lines.push('', `${r.pipeline}: ${r.total} cells (${states || 'none'})`);
          if (r.lastRun) lines.push(`  last run ${r.lastRun.id}: ${r.lastRun.state}, started ${r.lastRun.startedAt}${r.lastRun.endedAt ? `, ended ${r.lastRun.endedAt}` : ''}`);
          const width = Math.max(...Object.keys(r.instances).map((k) => k.length), 8);
          for (const [inst, counts] of Object.entries(r.instances)) {
            const detail = ['done', 'failed', 'interrupted', 'running', 'pending'].filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ');
            lines.push(`  ${inst.padEnd(width)}  ${counts.done ?? 0}/${counts.total}  ${detail}`);
          }
          for (const f of r.failed.slice(0, 30)) {
            const c = formatCoords(f.coords);
            lines.push(`  ${f.state.toUpperCase()} ${f.instance}${c ? ` [${c}]` : ''} ${f.id.slice(0, 12)}: ${(f.error ?? '').split('\n')[0]}`);
            if (f.logPath) lines.push(`    log: ${f.logPath}`);
          }
          if (r.failed.length > 30) lines.push(`  … and ${r.failed.length - 30} more`);
          for (const j of r.slurmJobs.slice(0, 30)) {
            const c = formatCoords(j.coords);
            lines.push(`  SLURM ${j.instance}${c ? ` [${c}]` : ''} ${j.id.slice(0, 12)}: ${describeJob(j.job)}${j.job.final ? '' : active ? '' : ' — still in Slurm; `sei run` again re-attaches to it'}`);
            lines.push(`    job output: ${j.job.stdout}  ${j.job.stderr}`);
          }
          if (r.slurmJobs.length > 30) lines.push(`  … and ${r.slurmJobs.length - 30} more Slurm jobs`);
        }
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        store.close();
      }
    });
}
