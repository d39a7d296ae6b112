// The params of the train-base stage: their schema, type and the helpers that resolve their values.
// A module of their own: the stage's definition (index.ts) and its run (run.ts) both read them.
import { Type, type Static } from '@sinclair/typebox';
import { isAbsolute, resolve } from 'node:path';
import { ModelSpecSchema, TrainingSpecSchema } from '../../ml/spec.js';

export const Params = Type.Object({
  model: ModelSpecSchema,
  training: TrainingSpecSchema,
}, { additionalProperties: false });
export type TrainBaseParams = Static<typeof Params>;

/** The user's pretrained weights file, absolute (relative paths resolve against the working directory). */
export function pretrainedPath(params: TrainBaseParams): string | undefined {
  const p = params.model.pretrained;
  return p === undefined ? undefined : isAbsolute(p) ? p : resolve(p);
}
