// `sei plan <pipeline>`: the dry run. Every cell, cached or not, and why not.
import type { Command } from 'commander';
import { collect, DEFAULT_STORE } from '../progress/options.js';

interface PlanOpts { verify?: boolean; store: string; set: string[]; backend?: string; json?: boolean; all?: boolean }

export function register(program: Command): void {
  program
    .command('plan')
    .description('dry run: list every cell of a pipeline, whether it is cached, and if not why (new, param changed, code changed, upstream changed, input file changed, damaged, failed before)')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .option('--set <path=value>', 'override a value of the pipeline (repeatable)', collect, [])
    .option('--backend <name>', 'tfjs backend setting, as for run')
    .option('--json', 'machine-readable output')
    .option('--verify', 're-hash every cached artifact instead of trusting unchanged file sizes and times')
    .action(async (file: string, opts: PlanOpts) => {
      const { loadPlan } = await import('../../exec/load-plan.js');
      const settings: Record<string, unknown> = {};
      if (opts.backend !== undefined) settings.backend = opts.backend;
      const plan = await loadPlan(file, { sets: opts.set, storeDir: opts.store, settings });
      const { openStore, storeExists } = await import('../../store/store.js');
      const { assessPlan, reasonFormatter } = await import('../../exec/assess.js');
      // Read-only: a plan never creates or changes the store.
      const store = storeExists(opts.store) ? openStore(opts.store, { readonly: true }) : undefined;
      try {
        const assessed = await assessPlan(plan, store, { verify: opts.verify === true });
        const format = reasonFormatter();
        const cached = assessed.filter((a) => a.cached).length;
        if (opts.json) {
          const out = {
            pipeline: plan.pipeline.name,
            file: plan.pipeline.file,
            total: plan.cells.length,
            cached,
            toRun: plan.cells.length - cached,
            cells: assessed.map((a) => ({
              id: a.cell.id,
              key: a.cell.key,
              instance: a.cell.instance,
              stage: a.cell.stage,
              coords: a.cell.coords,
              slot: a.cell.slot,
              cached: a.cached,
              state: a.record?.state ?? null,
              reasons: a.reasons,
              why: a.reasons.map(format),
            })),
          };
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return;
        }
        const { cellLabel } = await import('../progress/view.js');
        const lines = [`${plan.pipeline.name} (${plan.pipeline.file}): ${plan.cells.length} cells, ${cached} cached, ${plan.cells.length - cached} to run`];
        for (const a of assessed) {
          const label = `${a.cell.stage} ${cellLabel(a.cell)}`;
          lines.push(a.cached ? `  cached  ${label}` : `  run     ${label}: ${a.reasons.map(format).join('; ')}`);
        }
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        store?.close();
      }
    });
}
