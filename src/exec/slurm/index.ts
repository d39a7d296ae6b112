// The Slurm executor as `sei run --executor slurm` builds it: checked against the cluster first
// (before any store is opened), cheap stages routed to the local pool on the submit host.
import type { Plan } from '../../pipeline/types.js';
import { LocalExecutor } from '../local.js';
import type { Executor } from '../types.js';
import { SlurmTools } from './commands.js';
import { runsLocally, type SlurmConfig } from './config.js';
import { SlurmExecutor } from './executor.js';
import { preflightSlurm } from './preflight.js';
import { RoutingExecutor } from './route.js';

export { chooseExecutor, type ExecutorChoice, type SlurmConfig } from './config.js';
export { SlurmExecutor } from './executor.js';

export interface BuildOptions {
  /** Parallel cells of the local pool (cheap stages). */
  jobs?: number;
  /** Environment for sbatch (jobs inherit it) and for local workers. */
  env?: NodeJS.ProcessEnv;
  /** Told about conditions that do not stop the run (all nodes drained…). */
  onWarning?(message: string): void;
}

export async function buildSlurmExecutor(plan: Plan, config: SlurmConfig, options: BuildOptions = {}): Promise<{ executor: Executor; slurm: SlurmExecutor }> {
  const tools = new SlurmTools(options.env ? { env: options.env } : {});
  const facts = await preflightSlurm(plan, config, tools);
  for (const w of facts.warnings) options.onWarning?.(w);
  const slurm = new SlurmExecutor({ config, accounting: facts.accounting, maxArrayTasks: facts.maxArrayTasks, tools, ...(options.env ? { env: options.env } : {}) });
  if (!plan.cells.some((c) => runsLocally(config, c.stage))) return { executor: slurm, slurm };
  const local = new LocalExecutor({ ...(options.jobs !== undefined ? { jobs: options.jobs } : {}), ...(options.env ? { env: options.env } : {}) });
  return { executor: new RoutingExecutor(local, slurm, (spec) => runsLocally(config, spec.stage)), slurm };
}
