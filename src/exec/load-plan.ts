// From a pipeline file to a Plan, through the config loader (src/config) and the planner
// (src/pipeline). Used by `sei run`, `sei plan` and `sei gc`; nothing here touches the store.
import { resolve } from 'node:path';
import { loadPipeline } from '../pipeline/load.js';
import { buildPlan } from '../pipeline/plan.js';
import type { Plan } from '../pipeline/types.js';

export interface LoadPlanOptions {
  /** `--set path=value` overrides, in order. */
  sets?: string[];
  /** Store folder (for planner checks such as outputs escaping the store); never created here. */
  storeDir: string;
  /** Settings from the command line (e.g. { backend: 'wasm' }), over the pipeline's own. */
  settings?: Record<string, unknown>;
  projectRoot?: string;
  /** Dry run: plan the cells whose external inputs are missing as blocked instead of failing. */
  allowMissingInputs?: boolean;
}

export async function loadPlan(file: string, options: LoadPlanOptions): Promise<Plan> {
  // Without an explicit root the loader takes the nearest folder above the file holding package.json.
  const loaded = await loadPipeline(resolve(file), { sets: options.sets ?? [], ...(options.projectRoot ? { projectRoot: options.projectRoot } : {}) });
  return await buildPlan(loaded, { storeDir: resolve(options.storeDir), settings: options.settings ?? {}, allowMissingInputs: options.allowMissingInputs === true });
}
