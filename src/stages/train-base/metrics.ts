// What a train-base cell reports: read by evaluate and the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields, MaybeNumber } from '../metrics.js';

export const EpochRecord = Fields({
  epoch: Type.Integer(), loss: Type.Number(), accuracy: Type.Number(),
  valAccuracy: Type.Optional(MaybeNumber), valLoss: Type.Optional(MaybeNumber),
});

export const TrainBaseMetrics = Fields({
  arch: Type.String(),
  widthMultiplier: Type.Number(),
  inputShape: Type.Array(Type.Integer()),
  classes: Type.Array(Type.String()),
  cutPoints: Type.Array(Type.String()),
  testAccuracy: Type.Number(),
  balancedAccuracy: Type.Number(),
  perClassAccuracy: Type.Array(Type.Number()),
  valAccuracy: Type.Optional(MaybeNumber),
  epochs: Type.Integer(),
  bestEpoch: Type.Integer(),
  stoppedEarly: Type.Boolean(),
  history: Type.Array(EpochRecord),
  params: Type.Integer(),
  trainSeconds: Type.Number(),
  pretrained: Type.Union([Fields({ path: Type.Optional(Type.String()), loaded: Type.Integer() }), Type.Null()]),
});
export type TrainBaseMetrics = Static<typeof TrainBaseMetrics>;
