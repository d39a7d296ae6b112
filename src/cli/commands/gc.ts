// `sei gc [--dry-run] [pipelines...]`: delete the artifacts that no current pipeline reaches.
import type { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_STORE } from '../progress/options.js';

interface GcOpts { store: string; dryRun?: boolean; json?: boolean }

export function register(program: Command): void {
  program
    .command('gc')
    .description('delete artifact folders, and Slurm job files, that no current pipeline reaches (default: every pipelines/*.yaml)')
    .argument('[pipelines...]', 'pipeline files whose cells are kept (default: pipelines/*.yaml)')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .option('--dry-run', 'only list what would be deleted')
    .option('--json', 'machine-readable output')
    .action(async (files: string[], opts: GcOpts) => {
      const { UsageError } = await import('../../util/errors.js');
      let pipelines = files;
      if (pipelines.length === 0) {
        const dir = 'pipelines';
        if (!existsSync(dir)) throw new UsageError('no pipelines/ folder here: name the pipelines whose artifacts to keep');
        pipelines = readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f)).sort().map((f) => join(dir, f));
        if (pipelines.length === 0) throw new UsageError('pipelines/ holds no pipeline: name the pipelines whose artifacts to keep');
      }
      // Every pipeline must plan: deleting on the strength of a half-read config would lose work.
      const { loadPlan } = await import('../../exec/load-plan.js');
      const reachable = new Set<string>();
      for (const file of pipelines) {
        let plan;
        try {
          plan = await loadPlan(file, { storeDir: opts.store });
        } catch (e) {
          throw new UsageError(`gc deletes nothing: the pipeline ${file} does not plan, so what it reaches is unknown.\n${(e as Error).message}\n(name the pipelines whose artifacts to keep: sei gc <pipeline.yaml>…)`);
        }
        for (const c of plan.cells) reachable.add(c.key);
      }
      const { openStore, describeLock } = await import('../../store/store.js');
      const { collectGarbage } = await import('../../store/gc.js');
      const { hostname } = await import('node:os');
      const store = openStore(opts.store, { readonly: opts.dryRun === true, create: false });
      const runId = `gc-${process.pid}-${Date.now()}`;
      try {
        if (!opts.dryRun) {
          const lock = store.acquireLock({ runId, pid: process.pid, host: hostname(), pipeline: '(gc)', startedAt: new Date().toISOString() }, 30_000);
          if (!lock.ok) throw new UsageError(`the store ${store.dir} is in use by ${describeLock(lock.holder)}; gc waits for it to finish`);
        }
        const result = collectGarbage(store, reachable, { dryRun: opts.dryRun === true });
        // The Slurm executor's job files (slurm/): under the same lock, so no run submits meanwhile.
        const { collectSlurmGarbage } = await import('../../exec/slurm/gc.js');
        const slurm = await collectSlurmGarbage(store.dir, reachable, { dryRun: opts.dryRun === true });
        if (opts.json) {
          process.stdout.write(JSON.stringify({ dryRun: opts.dryRun === true, pipelines, ...result, slurm }, null, 2) + '\n');
          return;
        }
        const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
        const verb = opts.dryRun ? 'would delete' : 'deleted';
        for (const item of result.removed.slice(0, 50)) process.stdout.write(`${verb} ${item.dir} (${mb(item.bytes)})${item.recorded ? '' : ' [unrecorded]'}\n`);
        if (result.removed.length > 50) process.stdout.write(`… and ${result.removed.length - 50} more\n`);
        process.stdout.write(`${verb} ${result.removed.length} artifact folder(s), ${mb(result.bytes)}; ${result.kept} reachable kept (from ${pipelines.length} pipeline(s))\n`);
        if (slurm.removed.length + slurm.keptCells + slurm.keptRuns > 0) {
          for (const item of slurm.removed.slice(0, 20)) process.stdout.write(`${verb} ${item.path} (${mb(item.bytes)}): ${item.why}\n`);
          if (slurm.removed.length > 20) process.stdout.write(`… and ${slurm.removed.length - 20} more\n`);
          process.stdout.write(`slurm/: ${verb} ${slurm.removed.length} item(s), ${mb(slurm.bytes)}; kept ${slurm.keptCells} cell folder(s), ${slurm.keptRuns} run folder(s)\n`);
        }
        if (slurm.queueUnknown) process.stdout.write(`slurm/: kept every cell whose job may still run (the queue could not be read: ${slurm.queueUnknown})\n`);
      } finally {
        if (!opts.dryRun) store.releaseLock(runId);
        store.close();
      }
    });
}
