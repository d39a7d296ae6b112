// What a validate cell reports: read by compare-subsets and the report. Statistics that are
// undefined for a sweep (NaN) are written as null.
import { Type, type Static } from '@sinclair/typebox';
import { Fields, MaybeNumber } from '../metrics.js';

const Correlation = Fields({ value: MaybeNumber, ci95: Type.Array(MaybeNumber, { minItems: 2, maxItems: 2 }) });

export const ValidateMetricsSchema = Fields({
  cuts: Type.Array(Type.String()),
  cui: Type.Array(Type.Number()),
  accuracy: Type.Array(Type.Number()),
  seeds: Type.Array(Type.Integer()),
  payloadBytes: Type.Array(Type.Number()),
  spearman: Correlation,
  kendall: Correlation,
  isplitBest: Type.String({ description: 'the cut with the highest CUI among the retrained ones' }),
  isplitBestOverall: Type.String(),
  retrainedBest: Type.String(),
  hit: Type.Boolean(),
  isplitRank: Type.Integer(),
  regret: Fields({ isplit: MaybeNumber, cde: MaybeNumber, payloadBudgetBytes: Type.Number() }),
  calibration: Fields({
    points: Type.Array(Fields({ cut: Type.String(), cui: Type.Number(), predicted: MaybeNumber, actual: Type.Number() })),
    looMae: MaybeNumber,
  }),
});
export type ValidateMetricsShape = Static<typeof ValidateMetricsSchema>;
