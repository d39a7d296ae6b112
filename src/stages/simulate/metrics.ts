// What a simulate cell reports: read by recommend, `sei export` and the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields, MaybeNumber } from '../metrics.js';

/** Latency percentiles of a stream; null when every frame was lost. */
const Percentiles = Fields({ p50: MaybeNumber, p95: MaybeNumber, p99: MaybeNumber, mean: MaybeNumber });

/** One simulated design (src/netsim/designs.ts Design). */
export const DesignSchema = Fields({
  id: Type.String(),
  kind: Type.Union([Type.Literal('split'), Type.Literal('local'), Type.Literal('remote')]),
  cut: Type.String(),
  precision: Type.String({ description: 'payload precision; uint8 for the raw input, none when nothing is sent' }),
  variant: Type.String({ description: 'the evaluate cell\'s coordinates other than cut' }),
  network: Type.String(),
  device: Type.String(),
  server: Type.String(),
  accuracy: MaybeNumber,
  payloadBytes: Type.Number(),
  deviceMs: Type.Number(),
  transferMs: Percentiles,
  serverMs: Type.Number(),
  endToEndMs: Percentiles,
  frameLossRate: Type.Number(),
  deviceMemoryBytes: Type.Number(),
  deviceMemoryLimitBytes: Type.Number(),
  simulator: Type.Union([Type.Literal('analytic'), Type.Literal('ns3'), Type.Null()]),
});

export const SimulateMetrics = Fields({
  network: Type.String({ description: 'the networks simulated, comma-separated' }),
  device: Type.String({ description: 'the devices simulated, comma-separated' }),
  server: Type.String(),
  networks: Type.Array(Type.String()),
  devices: Type.Array(Type.String()),
  simulator: Type.Union([Type.Literal('analytic'), Type.Literal('ns3')]),
  frameRateHz: Type.Number(),
  frames: Type.Integer(),
  seed: Type.Integer(),
  notes: Type.Array(Type.String()),
  designs: Type.Array(DesignSchema),
});
export type SimulateMetrics = Static<typeof SimulateMetrics>;
