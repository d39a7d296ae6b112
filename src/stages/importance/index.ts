// importance: the I-SPLIT cumulative importance curve (CUI) of the base network over its 18 cut
// points, overall and per class, its candidates and best cut; beside it the layer-size (CDE) curve.
import type { StageDefinition } from '../types.js';
import { ImportanceMetrics } from './metrics.js';
import { Params, type ImportanceParams } from './params.js';

export type { ImportanceParams } from './params.js';

const stage: StageDefinition<ImportanceParams, ImportanceMetrics> = {
  name: 'importance',
  description: 'I-SPLIT importance curve (CUI) over the cut points, its candidates and best cut, and the layer-size (CDE) curve',
  params: Params,
  metrics: ImportanceMetrics,
  inputs: {
    dataset: { kind: 'one', description: 'the prepare-dataset cell the base was trained on' },
    base: { kind: 'one', description: 'a train-base cell' },
  },
  codeDeps: [],
  usesBackend: true,
  outputs: [
    'importance.json: CUI per cut point, candidates, best cut',
  ],
  async run(ctx) {
    const { runImportance } = await import('./run.js');
    return runImportance(ctx);
  },
};

export default stage;
