// train-base: trains the base network on the prepared dataset, or starts from a user's pretrained
// weights (model.pretrained, hashed by content as an external input) and fine-tunes them.
import { checkModelSpec } from '../split-retrain/checks.js';
import { checkTorchCheckpoint } from '../../ml/checkpoints/plan-check.js';
import type { StageDefinition } from '../types.js';
import { TrainBaseMetrics } from './metrics.js';
import { Params, type TrainBaseParams, pretrainedPath } from './params.js';

export type { TrainBaseParams } from './params.js';
export { pretrainedPath } from './params.js';

const stage: StageDefinition<TrainBaseParams, TrainBaseMetrics> = {
  name: 'train-base',
  description: 'Train (or fine-tune from pretrained weights) the base network on the prepared dataset',
  params: Params,
  metrics: TrainBaseMetrics,
  inputs: { dataset: { kind: 'one', description: 'a prepare-dataset cell' } },
  codeDeps: [],
  usesBackend: true,
  outputs: [
    'model.json: topology + spec (tfjs layers model)',
    'weights.bin: trained weights',
    'history.json: loss and accuracy per epoch',
  ],
  externalInputs(params) {
    const p = pretrainedPath(params);
    return p === undefined ? [] : [p];
  },
  validate(params) {
    const problems = checkModelSpec(params.model);
    return problems.length ? problems : checkTorchCheckpoint(params.model, pretrainedPath(params));
  },
  async run(ctx) {
    const { runTrainBase } = await import('./run.js');
    return runTrainBase(ctx);
  },
};

export default stage;
