// Typed stage results. A stage declares the TypeBox schema of its metrics (`metrics` in its
// definition); the worker checks what `run` returns against it before result.json is written,
// and a downstream stage reads an upstream cell's metrics through `upstreamMetrics`, typed from
// that declaration and checked, instead of casting. Schemas declare what others may rely on:
// objects stay open (a stage may write more), declared fields are required unless Optional.
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { formatCoords } from '../util/coords.js';
import type { UpstreamOutput } from './types.js';

/** An object whose declared fields are checked; fields beyond them are allowed. */
export function Fields<T extends TProperties>(properties: T, description?: string): TObject<T> {
  return Type.Object(properties, { additionalProperties: true, ...(description ? { description } : {}) });
}

/** A number that JSON writes as null when it is not finite (NaN: undefined statistics). */
export const MaybeNumber = Type.Union([Type.Number(), Type.Null()]);

/** A schema in a few words, for "expected …": `number`, `string[]`, `"analytic" | "ns3" | null`. */
export function schemaText(schema: TSchema): string {
  const s = schema as { const?: unknown; anyOf?: TSchema[]; type?: string; items?: TSchema };
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(schemaText).join(' | ');
  if (s.type === 'array') {
    const item = s.items ? schemaText(s.items) : 'unknown';
    return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
  }
  return s.type ?? 'unknown';
}

/**
 * Problems of `metrics` (as written to JSON: NaN becomes null) against `schema`, one line each
 * ("/designs/0/frameLossRate: missing (expected number)"). A problem that repeats in every item
 * of a list (an older result lacking a field in each design) is one line that says how often.
 */
export function metricsProblems(schema: TSchema, metrics: unknown): string[] {
  const asWritten: unknown = JSON.parse(JSON.stringify(metrics ?? {}));
  // One problem per path: a missing field also fails its type check there, which says less.
  const byPath = new Map<string, string>();
  for (const e of Value.Errors(schema, asWritten)) {
    const path = e.path || '/';
    if (e.type === ValueErrorType.ObjectRequiredProperty) byPath.set(path, `missing (expected ${schemaText(e.schema)})`);
    else if (byPath.has(path)) continue;
    // TypeBox says only "Expected union value": name the alternatives and what was there.
    else if (e.type === ValueErrorType.Union) byPath.set(path, `${JSON.stringify(e.value) ?? 'undefined'} is not ${schemaText(e.schema)}`);
    else byPath.set(path, e.message);
  }
  const alike = new Map<string, { line: string; shape: string; more: number }>();
  for (const [path, text] of byPath) {
    const shape = path.replace(/\/\d+(?=\/|$)/g, '/*');
    const seen = alike.get(`${shape}\0${text}`);
    if (seen) seen.more++;
    else alike.set(`${shape}\0${text}`, { line: `${path}: ${text}`, shape, more: 0 });
  }
  return [...alike.values()].slice(0, 10).map((p) => p.more === 0 ? p.line : `${p.line} (and at ${p.more} more ${p.shape})`);
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

/** What a stored result is read from: an upstream cell given to a stage, or a cell of the store. */
export type MetricsSource = Pick<UpstreamOutput, 'cellId' | 'stage' | 'instance' | 'coords' | 'metrics'>;

/**
 * An upstream cell's metrics, typed by the schema its stage declares and checked against it
 * (a result from an older version of that stage is refused naming the cell, its coordinates
 * and the fields that differ, instead of failing later on a field that is not there).
 */
export function upstreamMetrics<S extends TSchema>(upstream: MetricsSource, schema: S): Static<S> {
  const problems = metricsProblems(schema, upstream.metrics);
  if (problems.length) {
    const coords = formatCoords(upstream.coords);
    throw new MetricsShapeError(upstream.stage, problems, `cell ${upstream.cellId.slice(0, 12)} (${upstream.instance}${coords ? ` ${coords}` : ''}):`);
  }
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
