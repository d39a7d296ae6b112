// Typed stage results. A stage declares the TypeBox schema of its metrics (`metrics` in its
// definition); the worker checks what `run` returns against it before result.json is written,
// and a downstream stage reads an upstream cell's metrics through `upstreamMetrics`, typed from
// that declaration and checked, instead of casting. Schemas declare what others may rely on:
// objects stay open (a stage may write more), declared fields are required unless Optional.
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { UpstreamOutput } from './types.js';

/** An object whose declared fields are checked; fields beyond them are allowed. */
export function Fields<T extends TProperties>(properties: T, description?: string): TObject<T> {
  return Type.Object(properties, { additionalProperties: true, ...(description ? { description } : {}) });
}

/** A number that JSON writes as null when it is not finite (NaN: undefined statistics). */
export const MaybeNumber = Type.Union([Type.Number(), Type.Null()]);

/** Problems of `metrics` (as written to JSON: NaN becomes null) against `schema`, one line each. */
export function metricsProblems(schema: TSchema, metrics: unknown): string[] {
  const asWritten: unknown = JSON.parse(JSON.stringify(metrics ?? {}));
  return [...Value.Errors(schema, asWritten)].slice(0, 10).map((e) => `${e.path || '/'}: ${e.message}`);
}

export class MetricsShapeError extends Error {
  constructor(readonly stage: string, readonly problems: string[], whose: string) {
    super(`${whose} metrics of stage '${stage}' do not match its declared schema: ${problems.join('; ')}`);
    this.name = 'MetricsShapeError';
  }
}

/** Throws when the metrics a stage returned do not match its declaration. */
export function checkMetrics(stage: string, schema: TSchema | undefined, metrics: unknown): void {
  if (!schema) return;
  const problems = metricsProblems(schema, metrics);
  if (problems.length) throw new MetricsShapeError(stage, problems, 'the');
}

/**
 * An upstream cell's metrics, typed by the schema its stage declares and checked against it
 * (a result from an older version of that stage is refused with the fields that differ).
 */
export function upstreamMetrics<S extends TSchema>(upstream: UpstreamOutput, schema: S): Static<S> {
  const problems = metricsProblems(schema, upstream.metrics);
  if (problems.length) throw new MetricsShapeError(upstream.stage, problems, `cell ${upstream.cellId.slice(0, 12)} (${upstream.instance}):`);
  return upstream.metrics as Static<S>;
}

/** The one upstream cell wired to a 'one' input (a gathered input here is a wiring error). */
export function singleInput(inputs: Record<string, UpstreamOutput | UpstreamOutput[]>, name: string): UpstreamOutput {
  const v = inputs[name];
  if (v === undefined || Array.isArray(v)) throw new Error(`input '${name}' must be one upstream cell (${v === undefined ? 'it is not wired' : 'it is gathered'})`);
  return v;
}

/** The upstream cells of a gathered ('many') input. */
export function gatheredInput(inputs: Record<string, UpstreamOutput | UpstreamOutput[]>, name: string): UpstreamOutput[] {
  const v = inputs[name];
  if (!Array.isArray(v)) throw new Error(`input '${name}' must be gathered ({from: ..., gather: [...]})`);
  return v;
}
