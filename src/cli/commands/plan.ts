// `sei plan <pipeline>`: the dry run. Every cell, cached or not, and why not; what each stage
// writes. External inputs that are absent (a dataset not downloaded yet) do not stop it: the
// cells that need them are listed as blocked, with the missing path.
import type { Command } from 'commander';
import { backendOption, collect, DEFAULT_STORE } from '../progress/options.js';

interface PlanOpts { estimate?: boolean; rate?: string; profile: string; verify?: boolean; store: string; set: string[]; backend?: string; json?: boolean; all?: boolean }

interface InstanceSummary { instance: string; stage: string; cells: number; cached: number; toRun: number; blocked: number; outputs: string[] }

export function register(program: Command): void {
  program
    .command('plan')
    .description('dry run: list every cell of a pipeline, whether it is cached, and if not why (new, param changed, code changed, upstream changed, input file changed, damaged, failed before, blocked by a missing input), and what each stage writes')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .option('--set <path=value>', 'override a value of the pipeline (repeatable)', collect, [])
    .addOption(backendOption('tfjs backend setting, as for run'))
    .option('--json', 'machine-readable output')
    .option('--estimate', 'print per training stage and in total the FLOPs, peak memory and expected time on this machine and on --profile')
    .option('--rate <gflops>', 'with --estimate: this machine\'s training GFLOP/s (default: measured by a short training step)')
    .option('--profile <device>', 'with --estimate: the device profile (configs/devices) to compare with', 'server-gpu')
    .option('--verify', 're-hash every cached artifact instead of trusting unchanged file sizes and times')
    .addHelpText('after', '\nExit codes: 0 planned (also when missing inputs block cells: they are listed), 2 usage or config error.')
    .action(async (file: string, opts: PlanOpts) => {
      const { loadPlan } = await import('../../exec/load-plan.js');
      const settings: Record<string, unknown> = {};
      if (opts.backend !== undefined) settings.backend = opts.backend;
      const plan = await loadPlan(file, { sets: opts.set, storeDir: opts.store, settings, allowMissingInputs: true });
      const { planWarnings } = await import('../../exec/load-plan.js');
      for (const w of await planWarnings(plan)) process.stderr.write(`warning: ${w}\n`);
      const { planCosts, misfits, runsOnWasm } = await import('../../exec/cell-cost.js');
      const costs = planCosts(plan);
      if (opts.estimate) await printEstimate(plan, costs, runsOnWasm(plan.settings), opts);
      // A cell that cannot fit in memory is refused here, with the numbers, as `sei run` refuses it.
      const tooBig = misfits(costs);
      if (tooBig.length > 0) {
        const { UsageError } = await import('../../util/errors.js');
        throw new UsageError(`${tooBig.length} training cell${tooBig.length === 1 ? '' : 's'} cannot fit in memory:\n  ${tooBig.join('\n  ')}`);
      }
      const { openStore, storeExists } = await import('../../store/store.js');
      const { assessPlan, reasonFormatter } = await import('../../exec/assess.js');
      const { loadStage } = await import('../../pipeline/registry.js');
      // Read-only: a plan never creates or changes the store.
      const store = storeExists(opts.store) ? openStore(opts.store, { readonly: true }) : undefined;
      try {
        const assessed = await assessPlan(plan, store, { verify: opts.verify === true });
        const format = reasonFormatter();
        const total = plan.cells.length;
        const cached = assessed.filter((a) => a.cached).length;
        const blocked = assessed.filter((a) => !a.cached && a.cell.blocked).length;
        const toRun = total - cached - blocked;
        const missing = [...new Set(plan.cells.flatMap((c) => c.blocked?.missing ?? []))].sort();
        const instances = new Map<string, InstanceSummary>();
        for (const a of assessed) {
          let s = instances.get(a.cell.instance);
          if (!s) {
            const outputs = (await loadStage(a.cell.stage)).outputs ?? [];
            instances.set(a.cell.instance, s = { instance: a.cell.instance, stage: a.cell.stage, cells: 0, cached: 0, toRun: 0, blocked: 0, outputs });
          }
          s.cells++;
          if (a.cached) s.cached++;
          else if (a.cell.blocked) s.blocked++;
          else s.toRun++;
        }
        const totals = `${total} cells: ${cached} cached, ${toRun} to run` +
          (blocked > 0 ? `, ${blocked} blocked by missing inputs (${missing.join(', ')})` : '');
        if (opts.json) {
          const out = {
            pipeline: plan.pipeline.name,
            file: plan.pipeline.file,
            total,
            cached,
            toRun,
            blocked,
            missingInputs: missing,
            instances: [...instances.values()],
            cells: assessed.map((a) => ({
              id: a.cell.id,
              key: a.cell.key,
              instance: a.cell.instance,
              stage: a.cell.stage,
              coords: a.cell.coords,
              slot: a.cell.slot,
              cached: a.cached,
              blocked: !a.cached && a.cell.blocked !== undefined,
              blockedReason: !a.cached && a.cell.blocked ? a.cell.blocked.reason : null,
              missingInputs: a.cell.blocked?.missing ?? [],
              state: a.record?.state ?? null,
              reasons: a.reasons,
              why: a.reasons.map(format),
            })),
          };
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return;
        }
        const { cellLabel } = await import('../progress/view.js');
        const lines = [`${plan.pipeline.name} (${plan.pipeline.file}): ${total} cells, ${cached} cached, ${toRun} to run` +
          (blocked > 0 ? `, ${blocked} blocked by missing inputs` : '')];
        for (const a of assessed) {
          const label = `${a.cell.stage} ${cellLabel(a.cell)}`;
          if (a.cached) lines.push(`  cached  ${label}`);
          else if (a.cell.blocked) lines.push(`  blocked ${label}: ${a.cell.blocked.reason}`);
          else lines.push(`  run     ${label}: ${a.reasons.map(format).join('; ')}`);
        }
        lines.push('', 'Per instance (cells; what each cell writes):');
        for (const s of instances.values()) {
          const counts = [`${s.cached} cached`, `${s.toRun} to run`, ...(s.blocked > 0 ? [`${s.blocked} blocked`] : [])].join(', ');
          lines.push(`  ${s.instance} (${s.stage}): ${s.cells} cell${s.cells === 1 ? '' : 's'}, ${counts}`);
          for (const o of s.outputs) lines.push(`      ${o}`);
        }
        lines.push('', totals);
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        store?.close();
      }
    });
}

async function printEstimate(plan: import('../../pipeline/types.js').Plan, costs: import('../../exec/cell-cost.js').CellCost[], wasm: boolean, opts: PlanOpts): Promise<void> {
  const { formatEstimate, measureRate } = await import('../../exec/estimate.js');
  const { UsageError } = await import('../../util/errors.js');
  const { loadDevice } = await import('../../netsim/profiles.js');
  const { findProjectRoot } = await import('../../pipeline/load.js');
  const { dirname, resolve } = await import('node:path');
  const root = findProjectRoot(dirname(resolve(plan.pipeline.file))) ?? process.cwd();
  const device = loadDevice(root, opts.profile);
  if (device.effectiveGflops === undefined) throw new UsageError(`--profile ${opts.profile}: the profile gives no effectiveGflops to scale FLOPs by`);
  let here;
  if (opts.rate !== undefined) {
    const g = Number(opts.rate);
    if (!(g > 0)) throw new UsageError(`--rate ${opts.rate}: expected GFLOP/s, a positive number`);
    here = { gflops: g, source: 'given by --rate' };
  } else if (costs.length > 0) {
    const { initBackend } = await import('../../ml/backend.js');
    const { backendRequest } = await import('../../ml/backend-names.js');
    await initBackend(backendRequest(plan.settings.backend));
    here = await measureRate(costs[0]!.shape.arch);
  } else {
    here = { gflops: 1, source: 'no training stage to measure' };
  }
  const rate = { gflops: device.effectiveGflops, source: `configs/devices/${opts.profile}.yaml effectiveGflops` };
  process.stdout.write(formatEstimate(plan, costs, here, { name: opts.profile, rate }, wasm) + '\n\n');
}
