// train-base: trains the base network on the prepared dataset, or starts from a user's pretrained
// weights (model.pretrained, hashed by content as an external input) and fine-tunes them.
import { Type, type Static } from '@sinclair/typebox';
import { isAbsolute, resolve } from 'node:path';
import { ModelSpecSchema, TrainingSpecSchema } from '../../ml/spec.js';
import { checkModelSpec } from '../split-retrain/checks.js';
import { checkTorchCheckpoint } from '../../ml/checkpoints/plan-check.js';
import type { StageDefinition } from '../types.js';

const Params = Type.Object({
  model: ModelSpecSchema,
  training: TrainingSpecSchema,
}, { additionalProperties: false });
export type TrainBaseParams = Static<typeof Params>;

/** The user's pretrained weights file, absolute (relative paths resolve against the working directory). */
export function pretrainedPath(params: TrainBaseParams): string | undefined {
  const p = params.model.pretrained;
  return p === undefined ? undefined : isAbsolute(p) ? p : resolve(p);
}

const stage: StageDefinition<TrainBaseParams> = {
  name: 'train-base',
  description: 'Train (or fine-tune from pretrained weights) the base network on the prepared dataset',
  params: Params,
  inputs: { dataset: { kind: 'one', description: 'a prepare-dataset cell' } },
  codeDeps: [],
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
