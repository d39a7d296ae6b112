// What an evaluate cell reports: read by validate, simulate and the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields } from '../metrics.js';

const PerPrecision = Fields({ fp32: Type.Number(), fp16: Type.Number(), int8: Type.Number() });
const Timing = Fields({ p50: Type.Number(), min: Type.Number(), max: Type.Number() });
const Side = Fields({ flops: Type.Number(), params: Type.Number(), peakActivationBytes: Type.Number(), timeMs: Timing });

export const EvaluateMetrics = Fields({
  cut: Type.String(),
  accuracy: Type.Number({ description: 'test accuracy with the fp32 code' }),
  balancedAccuracy: Type.Number(),
  perClassAccuracy: Type.Array(Type.Number()),
  testImages: Type.Integer(),
  baseAccuracy: Type.Union([Type.Number(), Type.Null()], { description: 'the unsplit base network\'s test accuracy' }),
  cutShape: Type.Array(Type.Integer()),
  codeShape: Type.Array(Type.Integer()),
  payload: Fields({
    rawElements: Type.Integer(), bottleneckElements: Type.Integer(),
    bytes: Fields({ raw: PerPrecision, bottleneck: PerPrecision }),
  }),
  quantizedAccuracy: PerPrecision,
  device: Side,
  server: Side,
  network: Side,
});
export type EvaluateMetrics = Static<typeof EvaluateMetrics>;
