// compare-subsets: the class dependence of the best cut. Gathers the validate cells of a sweep over
// class subsets and reports, per subset, I-SPLIT's and the retrained best cut, and how both move.
import { Type, type Static } from '@sinclair/typebox';
import type { StageDefinition } from '../types.js';
import { gatheredInput, upstreamMetrics } from '../metrics.js';
import { ValidateMetricsSchema } from '../validate/metrics.js';
import type { SubsetComparison } from './compute.js';
import { CompareSubsetsMetrics } from './metrics.js';

const Params = Type.Object({}, { additionalProperties: false });

const stage: StageDefinition<Static<typeof Params>, SubsetComparison> = {
  name: 'compare-subsets',
  description: 'How the best cut moves between class subsets, predicted (I-SPLIT) and retrained',
  params: Params,
  metrics: CompareSubsetsMetrics,
  inputs: {
    validations: { kind: 'many', minItems: 2, description: 'validate cells gathered over the class-subset axis' },
  },
  codeDeps: [],
  outputs: [
    'subsets.json: per class subset, I-SPLIT\'s and the retrained best cut, and how they move',
  ],
  async run(ctx) {
    const { writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { compareSubsets, subsetLabels } = await import('./compute.js');
    const cells = gatheredInput(ctx.inputs, 'validations');
    const labels = subsetLabels(cells.map((c) => c.coords));
    const result = compareSubsets(cells.map((c, i) => {
      const m = upstreamMetrics(c, ValidateMetricsSchema);
      // An undefined correlation is written as null; NaN is written as null again.
      return { label: labels[i]!, cuts: m.cuts, cui: m.cui, accuracy: m.accuracy, isplitBest: m.isplitBest, retrainedBest: m.retrainedBest, spearman: m.spearman.value ?? NaN };
    }));
    ctx.log(`compare-subsets: I-SPLIT best cuts ${result.isplitBestCuts.join(', ')}; retrained best cuts ${result.retrainedBestCuts.join(', ')}`);
    await writeFile(join(ctx.outDir, 'subsets.json'), JSON.stringify(result, null, 2));
    return { metrics: result };
  },
};

export default stage;
