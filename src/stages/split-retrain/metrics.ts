// What a split-retrain cell reports: read by the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields, MaybeNumber } from '../metrics.js';
import { EpochRecord } from '../train-base/metrics.js';

export const SplitRetrainMetrics = Fields({
  cut: Type.String(),
  ratio: Type.Number(),
  expansion: Type.Number(),
  regime: Type.String(),
  seed: Type.Integer(),
  cutShape: Type.Array(Type.Integer()),
  codeShape: Type.Array(Type.Integer()),
  valAccuracy: Type.Optional(MaybeNumber),
  epochs: Type.Integer(),
  bestEpoch: Type.Integer(),
  history: Type.Array(EpochRecord),
  cachedParts: Type.Array(Type.String(), { description: 'frozen parts whose outputs were cached instead of recomputed' }),
});
export type SplitRetrainMetrics = Static<typeof SplitRetrainMetrics>;
