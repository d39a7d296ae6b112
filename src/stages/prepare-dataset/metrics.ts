// What a prepare-dataset cell reports: read by the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields } from '../metrics.js';

const SplitCounts = Fields({ count: Type.Integer(), perClass: Type.Array(Type.Integer()) });

export const PrepareDatasetMetrics = Fields({
  classes: Type.Array(Type.String()),
  channels: Type.Integer(),
  height: Type.Integer(),
  width: Type.Integer(),
  splits: Fields({ train: SplitCounts, val: Type.Optional(SplitCounts), test: SplitCounts }),
  skipped: Type.Array(Fields({ file: Type.String(), reason: Type.String() }), { description: 'capped list' }),
  skippedCount: Type.Integer(),
  splitProtocol: Type.String(),
});
export type PrepareDatasetMetrics = Static<typeof PrepareDatasetMetrics>;
