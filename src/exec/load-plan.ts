// From a pipeline file to a Plan, through the config loader (src/config) and the planner
// (src/pipeline). Used by `sei run`, `sei plan` and `sei gc`; nothing here touches the store.
import { resolve } from 'node:path';
import type { Plan } from '../pipeline/types.js';

export interface LoadPlanOptions {
  /** `--set path=value` overrides, in order. */
  sets?: string[];
  /** Store folder (for planner checks such as outputs escaping the store); never created here. */
  storeDir: string;
  /** Settings from the command line (e.g. { backend: 'wasm' }), over the pipeline's own. */
  settings?: Record<string, unknown>;
  projectRoot?: string;
}

interface ConfigModule {
  loadPipeline(file: string, options: { sets: string[]; projectRoot: string }): unknown;
}
interface PlannerModule {
  buildPlan(loaded: unknown, options: { storeDir: string; settings: Record<string, unknown> }): Plan | Promise<Plan>;
}

export async function loadPlan(file: string, options: LoadPlanOptions): Promise<Plan> {
  // Imported by path at run time: the loader and planner pull in schemas and every stage module.
  const configPath = '../config/load.js';
  const plannerPath = '../pipeline/plan.js';
  const { loadPipeline } = (await import(configPath)) as ConfigModule;
  const { buildPlan } = (await import(plannerPath)) as PlannerModule;
  const projectRoot = options.projectRoot ?? process.cwd();
  const loaded = await loadPipeline(resolve(file), { sets: options.sets ?? [], projectRoot });
  return await buildPlan(loaded, { storeDir: resolve(options.storeDir), settings: options.settings ?? {} });
}
