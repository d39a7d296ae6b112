// Which executor a run uses and, for Slurm, what each stage's jobs ask for. Sources, strongest
// first: `--executor` on the command line (local, slurm, or the name of configs/executors/<name>.yaml),
// then the pipeline's `executor:` block. Everything is checked here, before a store is opened.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../util/errors.js';
import { ExecutorObject, type SlurmResources } from '../../config/executor-schema.js';
import { checkSchema } from '../../config/schema.js';
import { parseSlurmTime } from './time.js';

export interface SlurmConfig {
  /** Where the settings came from (for messages). */
  source: string;
  defaults: SlurmResources;
  stages: Record<string, SlurmResources>;
  localStages: string[];
  maxQueued: number;
  pollMs: number;
  latencyWaitMs: number;
  /** 0: no limit. */
  maxPendingMs: number;
  maxRequeues: number;
  arrays: boolean;
  node: string;
}

export type ExecutorChoice = { kind: 'local' } | { kind: 'slurm'; config: SlurmConfig };

/** Stages cheap enough to run on the submit host by default (no training, no big network). */
export const DEFAULT_LOCAL_STAGES = ['validate', 'simulate', 'recommend', 'compare-subsets'];

/** What a stage's job asks for unless the config says otherwise. */
const STAGE_DEFAULTS: Record<string, SlurmResources> = {
  'train-base': { cpus: 4, mem: '8G', time: '1-00:00:00' },
  'split-retrain': { cpus: 4, mem: '8G', time: '12:00:00' },
  importance: { cpus: 2, mem: '8G', time: '4:00:00' },
  evaluate: { cpus: 2, mem: '4G', time: '2:00:00' },
  'prepare-dataset': { cpus: 2, mem: '4G', time: '2:00:00' },
};
const GENERIC_DEFAULT: SlurmResources = { cpus: 1, mem: '2G', time: '1:00:00' };
/** Stages that train a network: they get a GPU when the backend is tensorflow-gpu. */
const TRAINING_STAGES = new Set(['train-base', 'split-retrain']);

/**
 * The executor for a run. `cli` is the --executor value; `block` the pipeline's executor block
 * (already schema-checked by the pipeline loader); `projectRoot` holds configs/executors/.
 */
export function chooseExecutor(cli: string | undefined, block: unknown, projectRoot: string, pipelineFile: string): ExecutorChoice {
  if (cli === 'local') return { kind: 'local' };
  if (cli !== undefined && cli !== 'slurm') {
    return fromObject(loadNamedExecutor(cli, projectRoot), `configs/executors/${cli}.yaml`);
  }
  const source = `${pipelineFile}: executor`;
  if (block === undefined || block === 'local') return cli === 'slurm' ? fromObject({ kind: 'slurm' }, '--executor slurm') : { kind: 'local' };
  if (block === 'slurm') return fromObject({ kind: 'slurm' }, source);
  const obj = block as ExecutorObject;
  // --executor slurm over a pipeline block of kind local: Slurm with the block's other settings.
  return fromObject(cli === 'slurm' ? { ...obj, kind: 'slurm' } : obj, source);
}

function loadNamedExecutor(name: string, projectRoot: string): ExecutorObject {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new UsageError(`--executor ${name}: expected local, slurm, or the name of a config under configs/executors/`);
  const dir = join(projectRoot, 'configs', 'executors');
  const file = [join(dir, `${name}.yaml`), join(dir, `${name}.yml`)].find((f) => existsSync(f));
  if (!file) throw new UsageError(`--executor ${name}: expected local, slurm, or a config configs/executors/${name}.yaml (not found under ${projectRoot})`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const issues = checkSchema(ExecutorObject, doc, false);
  if (issues.length > 0) throw new UsageError(`${file}: ${issues.map((i) => `${i.pointer || '(top)'}: ${i.message}`).join('; ')}`);
  return doc as ExecutorObject;
}

function fromObject(obj: ExecutorObject, source: string): ExecutorChoice {
  if (obj.kind === 'local') return { kind: 'local' };
  const defaults: SlurmResources = pick(obj);
  checkResources(defaults, source);
  const stages = obj.stages ?? {};
  for (const [name, r] of Object.entries(stages)) checkResources(r, `${source}.stages.${name}`);
  return {
    kind: 'slurm',
    config: {
      source,
      defaults,
      stages,
      localStages: obj.localStages ?? DEFAULT_LOCAL_STAGES,
      maxQueued: obj.maxQueued ?? 500,
      pollMs: Math.round((obj.pollSec ?? 10) * 1000),
      latencyWaitMs: Math.round((obj.latencyWaitSec ?? 30) * 1000),
      maxPendingMs: Math.round((obj.maxPendingSec ?? 0) * 1000),
      maxRequeues: obj.maxRequeues ?? 3,
      arrays: obj.arrays ?? true,
      node: obj.node ?? process.execPath,
    },
  };
}

function pick(obj: ExecutorObject): SlurmResources {
  const r: SlurmResources = {};
  if (obj.partition !== undefined) r.partition = obj.partition;
  if (obj.account !== undefined) r.account = obj.account;
  if (obj.qos !== undefined) r.qos = obj.qos;
  if (obj.time !== undefined) r.time = obj.time;
  if (obj.cpus !== undefined) r.cpus = obj.cpus;
  if (obj.mem !== undefined) r.mem = obj.mem;
  if (obj.gres !== undefined) r.gres = obj.gres;
  if (obj.sbatchArgs !== undefined) r.sbatchArgs = obj.sbatchArgs;
  return r;
}

function checkResources(r: SlurmResources, where: string): void {
  if (r.time === undefined) return;
  try {
    parseSlurmTime(r.time);
  } catch (e) {
    throw new UsageError(`${where}.time: ${(e as Error).message}`);
  }
}

/** Whether cells of this stage run on the submit host. */
export function runsLocally(config: SlurmConfig, stage: string): boolean {
  return config.localStages.includes(stage);
}

/**
 * The resources of one cell's job: the stage's built-in default, then the config's defaults,
 * then its entry for the stage type, then for the instance name. A training stage on the
 * tensorflow-gpu backend asks for one GPU unless gres says otherwise ("none" drops it).
 */
export function resourcesFor(config: SlurmConfig, stage: string, instance: string, backend: unknown): SlurmResources {
  const r: SlurmResources = { ...(STAGE_DEFAULTS[stage] ?? GENERIC_DEFAULT) };
  if (TRAINING_STAGES.has(stage) && backend === 'tensorflow-gpu') r.gres = 'gpu:1';
  Object.assign(r, config.defaults, config.stages[stage] ?? {}, config.stages[instance] ?? {});
  if (r.gres === 'none') delete r.gres;
  return r;
}

/** The sbatch options a set of resources maps to. */
export function resourceArgs(r: SlurmResources): string[] {
  const args: string[] = [];
  if (r.partition) args.push(`--partition=${r.partition}`);
  if (r.account) args.push(`--account=${r.account}`);
  if (r.qos) args.push(`--qos=${r.qos}`);
  if (r.time) args.push(`--time=${r.time}`);
  if (r.cpus) args.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem) args.push(`--mem=${r.mem}`);
  if (r.gres) args.push(`--gres=${r.gres}`);
  args.push(...(r.sbatchArgs ?? []));
  return args;
}
