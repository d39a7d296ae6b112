// From a pipeline file to a Plan, through the config loader (src/config) and the planner
// (src/pipeline). Used by `sei run`, `sei plan` and `sei gc`; nothing here touches the store.
import { resolve } from 'node:path';
import { loadPipeline } from '../pipeline/load.js';
import { buildPlan } from '../pipeline/plan.js';
import type { Plan } from '../pipeline/types.js';
import { loadStage } from '../pipeline/registry.js';

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

/** The stages' plan-time warnings for every cell, each message once, prefixed by where it applies. */
export async function planWarnings(plan: Plan): Promise<string[]> {
  const out = new Set<string>();
  for (const cell of plan.cells) {
    const stage = await loadStage(cell.stage);
    if (!stage.warnings) continue;
    const where = Object.keys(cell.coords).length ? `${cell.instance} [${Object.entries(cell.coords).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}]` : cell.instance;
    for (const m of stage.warnings(cell.params)) out.add(`${where}: ${m}`);
  }
  return [...out];
}
