// The params of the evaluate stage: their schema, type and the helpers that resolve their values.
// A module of their own: the stage's definition (index.ts) and its run (run.ts) both read them.
import { Type, type Static } from '@sinclair/typebox';

export const Params = Type.Object({
  batchSize: Type.Integer({ minimum: 1, default: 64 }),
  timing: Type.Object({
    warmup: Type.Integer({ minimum: 0, default: 2 }),
    repeats: Type.Integer({ minimum: 1, default: 10, description: 'batch-1 forward passes timed per side' }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });
export type EvaluateParams = Static<typeof Params>;
