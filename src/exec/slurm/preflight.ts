// Before a run touches its store: is Slurm there, and does it accept the jobs this plan will
// submit? One `sbatch --test-only` per distinct set of resources — a wrong partition, account,
// time or a GPU the cluster lacks is then one clear error (Slurm's own words, exit 2), not
// hundreds of refused submissions.
import { UsageError } from '../../util/errors.js';
import type { Plan } from '../../pipeline/types.js';
import { SlurmTools } from './commands.js';
import { resourceArgs, resourcesFor, runsLocally, type SlurmConfig } from './config.js';

export interface ClusterFacts {
  /** sacct answers (slurmdbd); otherwise job states come from squeue. */
  accounting: boolean;
  /** Most elements of one job array. */
  maxArrayTasks: number;
  /** Things worth saying that do not stop the run (e.g. every node drained: jobs will wait). */
  warnings: string[];
}

export async function preflightSlurm(plan: Plan, config: SlurmConfig, tools = new SlurmTools()): Promise<ClusterFacts> {
  const version = await tools.run('sbatch', ['--version']);
  if (version.code !== 0) throw new UsageError(`sbatch does not work on this host: ${version.stderr.trim()}`);
  const groups = new Map<string, { args: string[]; stages: Set<string> }>();
  for (const cell of plan.cells) {
    if (runsLocally(config, cell.stage)) continue;
    const args = resourceArgs(resourcesFor(config, cell.stage, cell.instance, plan.settings.backend));
    const sig = args.join('\0');
    const g = groups.get(sig) ?? { args, stages: new Set<string>() };
    g.stages.add(cell.instance);
    groups.set(sig, g);
  }
  const warnings: string[] = [];
  for (const g of groups.values()) {
    const r = await tools.run('sbatch', ['--test-only', '--job-name=sei-preflight', ...g.args, '--wrap', 'true']);
    if (r.code === 0) continue;
    if (/node configuration is not available/i.test(r.stderr)) {
      // Also what a drained or down node answers: the settings may be fine and the jobs will wait.
      const partition = g.args.find((a) => a.startsWith('--partition='))?.slice('--partition='.length);
      const nodes = await tools.run('sinfo', ['-h', '-o', '%T %N', ...(partition ? ['-p', partition] : [])]);
      const unavailable = nodes.stdout.split('\n').filter((l) => /drain|down|fail|maint|reserved|\*/.test(l.split(' ')[0] ?? ''));
      if (unavailable.length > 0) {
        warnings.push(`Slurm cannot place the jobs of ${[...g.stages].join(', ')} now (${r.stderr.trim()}); nodes unavailable: ${unavailable.join('; ')}. They will wait in the queue (sei status shows why).`);
        continue;
      }
    }
    let hint = '';
    if (g.args.some((a) => a.startsWith('--gres=gpu'))) {
      const gres = await tools.run('sinfo', ['-h', '-o', '%G']);
      const offered = gres.stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== '(null)');
      if (!offered.some((s) => s.includes('gpu'))) {
        hint = `; no node of this cluster offers a GPU (sinfo reports gres: ${offered.join(', ') || 'none'}) — use a CPU backend, or set gres: none for the stage in ${config.source}`;
      }
    }
    throw new UsageError(`Slurm refuses the jobs of ${[...g.stages].join(', ')} (${g.args.join(' ')}), set in ${config.source}: ${(r.stderr || r.stdout).trim()}${hint}`);
  }
  const acct = await tools.run('sacct', ['-n', '-X', '-P', '--starttime=now', '--format=JobID']);
  const accounting = acct.code === 0 && !/disabled/i.test(acct.stderr + acct.stdout);
  const conf = await tools.run('scontrol', ['show', 'config']);
  const m = conf.stdout.match(/^MaxArraySize\s*=\s*(\d+)/m);
  return { accounting, maxArrayTasks: m ? Math.max(1, Number(m[1]) - 1) : 1000, warnings };
}
