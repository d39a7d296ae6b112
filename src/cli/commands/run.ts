// `sei run <pipeline>`: run every cell that is not cached, resumable and parallel.
import type { Command } from 'commander';
import { backendOption, collect, DEFAULT_STORE, positiveInt } from '../progress/options.js';

interface RunOpts { executor?: string; verify?: boolean; store: string; jobs?: number; set: string[]; backend?: string; keepGoing?: boolean; failFast?: boolean; progress: boolean }

export function register(program: Command): void {
  program
    .command('run')
    .description('run a pipeline: every cell not already cached, in dependency order and in parallel; run it again to resume')
    .argument('<pipeline>', 'pipeline YAML file (e.g. pipelines/demo.yaml)')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .option('-j, --jobs <n>', 'cells run in parallel (default: the number of cores)', positiveInt)
    .option('--set <path=value>', 'override a value of the pipeline, e.g. stages.base.params.training.epochs=2 (repeatable)', collect, [])
    .addOption(backendOption('tfjs backend for the ML stages (overrides the pipeline\'s settings.backend)'))
    .option('--keep-going', 'run every cell that can run despite failures (default)')
    .option('--fail-fast', 'stop at the first failed cell')
    .option('--executor <name>', 'where cells run: local (this machine), slurm (batch jobs), or a config under configs/executors/ (default: the pipeline\'s executor block, else local)')
    .option('--no-progress', 'plain log lines even on a terminal')
    .option('--verify', 're-hash every cached artifact instead of trusting unchanged file sizes and times')
    .addHelpText('after', '\nExit codes: 0 every cell done, 1 some cells failed or did not run, 2 usage or config error (nothing written),\n3 the disk is full (no new cell started; free space and run again), 130/143 stopped by SIGINT/SIGTERM.')
    .action(async (file: string, opts: RunOpts) => {
      const { UsageError } = await import('../../util/errors.js');
      if (opts.keepGoing && opts.failFast) throw new UsageError('--keep-going and --fail-fast exclude each other');
      const { loadPlan } = await import('../../exec/load-plan.js');
      const settings: Record<string, unknown> = {};
      if (opts.backend !== undefined) settings.backend = opts.backend;
      // Plan first: a config error exits 2 before the store is even created.
      const plan = await loadPlan(file, { sets: opts.set, storeDir: opts.store, settings });
      const { planWarnings } = await import('../../exec/load-plan.js');
      for (const w of await planWarnings(plan)) process.stderr.write(`warning: ${w}\n`);
      const path = await import('node:path');
      const { chooseExecutor, buildSlurmExecutor } = await import('../../exec/slurm/index.js');
      const { findProjectRoot } = await import('../../pipeline/load.js');
      const choice = chooseExecutor(opts.executor, plan.executor, findProjectRoot(path.dirname(path.resolve(file))) ?? process.cwd(), file);
      // Checked against the cluster before the store is opened: a refused job setting exits 2 with nothing written.
      const built = choice.kind === 'slurm'
        ? await buildSlurmExecutor(plan, choice.config, {
          ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
          onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
        })
        : undefined;
      // A training cell that cannot fit in memory is refused before anything starts.
      const { planCosts, misfits } = await import('../../exec/cell-cost.js');
      const tooBig = misfits(planCosts(plan));
      if (tooBig.length > 0) throw new UsageError(`${tooBig.length} training cell${tooBig.length === 1 ? '' : 's'} cannot fit in memory:\n  ${tooBig.join('\n  ')}`);
      const { runPlan } = await import('../../exec/orchestrator.js');
      const { ProgressView } = await import('../progress/view.js');
      const view = new ProgressView({ live: opts.progress && process.stdout.isTTY === true });
      await view.init();
      const controller = new AbortController();
      let signals = 0;
      let stopSignal: NodeJS.Signals | undefined;
      // Exit status of a run stopped by a signal: 128 + its number (SIGINT 130, SIGTERM 143).
      const signalExit = (sig: NodeJS.Signals): number => 128 + (sig === 'SIGTERM' ? 15 : 2);
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) process.exit(signalExit(stopSignal ?? sig));
        stopSignal = sig;
        // Only a person at the terminal (Ctrl-C) can press again; a SIGTERM comes from a program.
        const again = sig === 'SIGINT' ? '; press Ctrl-C again to quit at once' : '';
        process.stderr.write(`\n${sig}: stopping the running cells (they will run again next time)${again}\n`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await runPlan(plan, {
          store: opts.store,
          ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
          ...(built ? { executor: built.executor } : {}),
          keepGoing: !opts.failFast,
          verify: opts.verify === true,
          // git provenance of the project the pipeline belongs to
          projectRoot: path.dirname(path.resolve(file)),
          signal: controller.signal,
          onEvent: (e) => view.handle(e),
        });
        process.exitCode = stopSignal ? signalExit(stopSignal) : summary.exitCode;
        view.stop();
        if (summary.diskFull) process.stderr.write(`error: ${summary.diskFull.message}\n`);
        if (!controller.signal.aborted) process.stdout.write(nextSteps(file, opts.store));
      } finally {
        view.stop();
        await built?.executor.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** What to do with a finished (or partly finished) run: the report reads the store as it is. */
function nextSteps(file: string, store: string): string {
  const storeArg = store === DEFAULT_STORE ? '' : ` --store ${store}`;
  return `\nReport: sei report ${file}${storeArg}   (writes reports/<pipeline>/: report.html, report.md, CSV, LaTeX)\n` +
    `Recommendation: sei recommend ${file}${storeArg}\n`;
}
