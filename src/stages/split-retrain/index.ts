// split-retrain: split the base network at a cut point, inject the bottleneck (encoder on the
// device, decoder on the server), retrain under a freeze regime, keep the weights.
import { Type, type Static } from '@sinclair/typebox';
import { BottleneckSpecSchema, ModelSpecSchema, RegimeSchema, TrainingSpecSchema } from '../../ml/spec.js';
import type { StageDefinition } from '../types.js';
import { checkSplit, compressionWarnings } from './checks.js';

const Params = Type.Object({
  // The base network's model spec (the same as train-base's): lets the plan check the cut and
  // the ratio before anything trains; run() checks that it matches the base.
  model: ModelSpecSchema,
  cut: Type.String({ minLength: 1, description: 'the cut point (a layer output of model.arch)' }),
  bottleneck: BottleneckSpecSchema,
  regime: RegimeSchema,
  training: TrainingSpecSchema,
  seed: Type.Integer({ minimum: 0, default: 0, description: 'seeds the bottleneck initialisation and the training order' }),
}, { additionalProperties: false });
export type SplitRetrainParams = Static<typeof Params>;

const stage: StageDefinition<SplitRetrainParams> = {
  name: 'split-retrain',
  description: 'Split the base network at a cut point, inject a bottleneck and retrain',
  params: Params,
  inputs: {
    dataset: { kind: 'one', description: 'the prepare-dataset cell the base was trained on' },
    base: { kind: 'one', description: 'a train-base cell' },
  },
  codeDeps: [],
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
