// split-retrain: split the base network at a cut point, inject the bottleneck (encoder on the
// device, decoder on the server), retrain under a freeze regime, keep the weights.
import type { StageDefinition } from '../types.js';
import { SplitRetrainMetrics } from './metrics.js';
import { checkSplit, compressionWarnings } from './checks.js';
import { Params, type SplitRetrainParams } from './params.js';

export type { SplitRetrainParams } from './params.js';

const stage: StageDefinition<SplitRetrainParams, SplitRetrainMetrics> = {
  name: 'split-retrain',
  description: 'Split the base network at a cut point, inject a bottleneck and retrain',
  params: Params,
  metrics: SplitRetrainMetrics,
  inputs: {
    dataset: { kind: 'one', description: 'the prepare-dataset cell the base was trained on' },
    base: { kind: 'one', description: 'a train-base cell' },
  },
  codeDeps: [],
  usesBackend: true,
  outputs: [
    'model.json: split model with bottleneck at the cut',
    'weights.bin: retrained weights',
    'history.json: loss and accuracy per epoch',
  ],
  validate(params) {
    return checkSplit(params.model, params.cut, params.bottleneck?.ratio ?? 8);
  },
  warnings(params) {
    return compressionWarnings(params.model, params.cut, params.bottleneck ?? { ratio: 8, expansion: 2 });
  },
  async run(ctx) {
    const { runSplitRetrain } = await import('./run.js');
    return runSplitRetrain(ctx);
  },
};

export default stage;
