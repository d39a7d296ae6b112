// What a recommend cell reports: read by `sei export` (the chosen design) and the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields, MaybeNumber } from '../metrics.js';
import { DesignSchema } from '../simulate/metrics.js';

const Violation = Fields({ constraint: Type.String(), limit: Type.Number(), actual: MaybeNumber, by: MaybeNumber });

export const RecommendMetrics = Fields({
  requirements: Fields({}, 'the requirements applied (params, else the pipeline\'s requirements block)'),
  chosen: Type.Union([DesignSchema, Type.Null()]),
  feasible: Type.Array(DesignSchema),
  pareto: Type.Record(Type.String(), Type.Array(DesignSchema), { description: 'the Pareto front per network' }),
  rejected: Type.Array(Fields({ design: DesignSchema, violations: Type.Array(Violation) })),
  binding: Type.Optional(Type.String({ description: 'the constraint to relax first when nothing is feasible' })),
  bindingDetail: Type.Optional(Type.Array(Fields({
    constraint: Type.String(), admitsIfRelaxed: Type.Integer(), relaxTo: MaybeNumber, relaxBy: MaybeNumber, violatedBy: Type.Integer(),
  }))),
  summary: Type.String(),
});
export type RecommendMetrics = Static<typeof RecommendMetrics>;
