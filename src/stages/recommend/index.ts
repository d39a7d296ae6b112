// recommend: stage 3 of Split-Et-Impera. Matches the simulated designs against the application's
// requirements (params, else the pipeline's top-level `requirements:` block — pipeline settings
// do not enter the cell's cache key, so give them as params to re-run on change): feasible designs,
// the chosen one, the Pareto front per network, every rejection with its reasons, and the binding
// constraint when nothing is feasible.
import { Type, type Static } from '@sinclair/typebox';
import type { Recommendation } from '../../netsim/recommend.js';
import type { StageDefinition } from '../types.js';
import { RequirementsSchema } from '../../netsim/recommend.js';
import { RecommendMetrics } from './metrics.js';
import { gatheredInput, upstreamMetrics } from '../metrics.js';
import { SimulateMetrics } from '../simulate/metrics.js';

const Params = Type.Object({
  requirements: Type.Optional(RequirementsSchema),
}, { additionalProperties: false });
export type RecommendParams = Static<typeof Params>;

const stage: StageDefinition<RecommendParams, Recommendation> = {
  name: 'recommend',
  description: 'Pick the design that meets the QoS requirements; Pareto front per network; reasons for every rejection',
  params: Params,
  metrics: RecommendMetrics,
  inputs: {
    simulations: { kind: 'many', description: 'simulate cells (gather over their axes, or gather: [] for one)' },
  },
  codeDeps: [],
  outputs: [
    'recommendation.json: chosen design, feasible, Pareto, rejected',
    'recommendation.txt: the recommendation in words',
  ],
  async run(ctx) {
    const { writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { recommendFromSimulations } = await import('./core.js');
    const { formatRecommendation } = await import('../../netsim/format.js');
    // Each simulate result read as simulate declares it: one stored by an older simulate that
    // lacks a field fails this cell naming that cell and field, not somewhere in the ranking.
    const sims = gatheredInput(ctx.inputs, 'simulations').map((s) => upstreamMetrics(s, SimulateMetrics));
    const requirements = ctx.params.requirements ?? ctx.settings.requirements ?? {};
    const rec = recommendFromSimulations(sims, requirements);
    const text = formatRecommendation(rec);
    ctx.log(`recommend: ${rec.summary}`);
    await writeFile(join(ctx.outDir, 'recommendation.txt'), text);
    await writeFile(join(ctx.outDir, 'recommendation.json'), JSON.stringify(rec, null, 2));
    return { metrics: rec };
  },
};

export default stage;
