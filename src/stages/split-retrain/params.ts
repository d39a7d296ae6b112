// The params of the split-retrain stage: their schema, type and the helpers that resolve their values.
// A module of their own: the stage's definition (index.ts) and its run (run.ts) both read them.
import { Type, type Static } from '@sinclair/typebox';
import { BottleneckSpecSchema, ModelSpecSchema, RegimeSchema, TrainingSpecSchema } from '../../ml/spec.js';

export const Params = Type.Object({
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
