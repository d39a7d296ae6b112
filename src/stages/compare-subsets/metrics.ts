// What a compare-subsets cell reports: read by the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields, MaybeNumber } from '../metrics.js';

export const CompareSubsetsMetrics = Fields({
  subsets: Type.Array(Fields({
    label: Type.String(), isplitBest: Type.String(), retrainedBest: Type.String(), hit: Type.Boolean(), spearman: MaybeNumber,
  })),
  isplitBestCuts: Type.Array(Type.String()),
  retrainedBestCuts: Type.Array(Type.String()),
  isplitBestMoves: Type.Boolean(),
  retrainedBestMoves: Type.Boolean(),
  pairs: Type.Array(Fields({
    a: Type.String(), b: Type.String(), isplitMoved: Type.Boolean(), retrainedMoved: Type.Boolean(), agree: Type.Boolean(), cuiCurveSpearman: MaybeNumber,
  })),
  moveAgreement: MaybeNumber,
  hitRate: Type.Number(),
});
export type CompareSubsetsMetrics = Static<typeof CompareSubsetsMetrics>;
