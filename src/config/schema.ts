// The pipeline file's own schema, and Ajv validation with messages a person can act on:
// "unknown key "epoch" (expected one of: epochs, batchSize)", "expected integer >= 1, got "three"".
import { Type, type TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { OUTPUT_PATH_FORMAT, isSafeOutputPath } from './schema-helpers.js';
import { describeValue } from './resolve.js';

/** Names that become folder names or slots: nothing can escape the store through them. */
export const SAFE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
export const SAFE_NAME = new RegExp(SAFE_NAME_PATTERN);

import { BACKEND_CHOICES } from '../ml/backend-names.js';
import { ExecutorBlock } from './executor-schema.js';

const InputRef = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object({
    from: Type.String({ minLength: 1 }),
    gather: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  }, { additionalProperties: false }),
]);

const Sweep = Type.Object({
  grid: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Unknown()))),
  zip: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Unknown()))),
  exclude: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
}, { additionalProperties: false });

const StageInstance = Type.Object({
  stage: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  inputs: Type.Optional(Type.Record(Type.String(), InputRef)),
  sweep: Type.Optional(Sweep),
  timeoutSec: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
}, { additionalProperties: false });

export const Settings = Type.Object({
  backend: Type.Optional(Type.Union(BACKEND_CHOICES.map((b) => Type.Literal(b)))),
  jobs: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false });

export const PipelineSchema = Type.Object({
  name: Type.Optional(Type.String({ pattern: SAFE_NAME_PATTERN })),
  description: Type.Optional(Type.String()),
  extends: Type.Optional(Type.String()),
  include: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  vars: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  settings: Type.Optional(Settings),
  requirements: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** Where cells run (src/config/executor-schema.ts); not part of any cell's key. */
  executor: Type.Optional(ExecutorBlock),
  stages: Type.Record(Type.String(), StageInstance, { minProperties: 1 }),
}, { additionalProperties: false });

const ajvWithDefaults = makeAjv(true);
const ajvPlain = makeAjv(false);

function makeAjv(useDefaults: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults, verbose: true, strict: false, allowUnionTypes: true, validateFormats: true, logger: false });
  ajv.addFormat(OUTPUT_PATH_FORMAT, { type: 'string', validate: isSafeOutputPath });
  return ajv;
}

const compiled = new WeakMap<object, ValidateFunction>();
const compiledPlain = new WeakMap<object, ValidateFunction>();

/** Compiled validator for a schema (cached); `defaults` fills in schema defaults (mutating). */
export function validatorFor(schema: TSchema, defaults: boolean): ValidateFunction {
  const cache = defaults ? compiled : compiledPlain;
  let v = cache.get(schema);
  if (!v) {
    v = (defaults ? ajvWithDefaults : ajvPlain).compile(closeObjects(schema) as TSchema);
    cache.set(schema, v);
  }
  return v;
}

/**
 * A copy of the schema where every object that lists its properties but says nothing about
 * others rejects unknown keys: a stage that forgot `additionalProperties: false` must not let a
 * typo through. Objects under allOf are left alone (closing them would break the intersection).
 */
export function closeObjects(schema: unknown, underAllOf = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => closeObjects(s, underAllOf));
  if (schema === null || typeof schema !== 'object') return schema;
  const src = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'default' || k === 'const' || k === 'enum' || k === 'examples') out[k] = v;
    else if (k === 'allOf') out[k] = closeObjects(v, true);
    else if (k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(v as object).map(([name, sub]) => [name, closeObjects(sub, underAllOf)]));
    } else out[k] = closeObjects(v, underAllOf);
  }
  if (!underAllOf && src.properties && typeof src.properties === 'object' && src.additionalProperties === undefined
    && src.patternProperties === undefined && src.unevaluatedProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** A schema violation at a JSON pointer inside the validated value. */
export interface SchemaIssue {
  /** Pointer to the offending value (for an unknown key: to that key). */
  pointer: string;
  /** True when the position to report is the key, not the value. */
  atKey: boolean;
  message: string;
}

/** Validates `data` (mutated when defaults is true); returns the issues, empty when valid. */
export function checkSchema(schema: TSchema, data: unknown, defaults: boolean): SchemaIssue[] {
  const validate = validatorFor(schema, defaults);
  if (validate(data)) return [];
  return explainErrors(validate.errors ?? []);
}

function escapeSeg(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Turns Ajv's raw errors into one clear message per offending value. */
export function explainErrors(errors: ErrorObject[]): SchemaIssue[] {
  // A failed anyOf reports each branch's errors too; keep only the useful level.
  const dropped = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const prefix = `${e.schemaPath}/`;
    // Children: below this anyOf in the schema *and* at or below the same value (one schema
    // serves every entry of a record, so the schema path alone is not enough).
    const children = errors.filter((c) => c !== e && c.schemaPath.startsWith(prefix)
      && (c.instancePath === e.instancePath || c.instancePath.startsWith(`${e.instancePath}/`)));
    const branches = (e.schema as TSchema[]) ?? [];
    const data = e.data;
    // When the value is a mapping and exactly one branch is a mapping, that branch's own
    // complaints (unknown key, wrong type inside) say more than "expected A or B".
    const objectBranches = branches.map((b, i) => [b, i] as const).filter(([b]) => b && (b as { type?: unknown }).type === 'object');
    if (data !== null && typeof data === 'object' && !Array.isArray(data) && objectBranches.length === 1) {
      const keep = `${e.schemaPath}/${objectBranches[0][1]}/`;
      dropped.add(e);
      for (const c of children) if (!c.schemaPath.startsWith(keep)) dropped.add(c);
    } else {
      for (const c of children) dropped.add(c);
    }
  }
  const out: SchemaIssue[] = [];
  const seenValue = new Set<string>();
  for (const e of errors) {
    if (dropped.has(e)) continue;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const props = Object.keys(((e.parentSchema as { properties?: object })?.properties) ?? {});
        out.push({
          pointer: `${e.instancePath}/${escapeSeg(key)}`,
          atKey: true,
          message: `unknown key "${key}" (${props.length ? `expected one of: ${props.join(', ')}` : 'no keys allowed here'})`,
        });
        break;
      }
      case 'required': {
        const key = (e.params as { missingProperty: string }).missingProperty;
        const sub = (e.parentSchema as { properties?: Record<string, TSchema> })?.properties?.[key];
        out.push({ pointer: e.instancePath, atKey: false, message: `missing required key "${key}"${sub ? ` (${describeSchema(sub)})` : ''}` });
        break;
      }
      case 'minProperties':
        out.push({ pointer: e.instancePath, atKey: false, message: `expected at least ${(e.params as { limit: number }).limit} entr${(e.params as { limit: number }).limit === 1 ? 'y' : 'ies'}` });
        break;
      case 'minItems':
      case 'maxItems':
      case 'uniqueItems':
      case 'maxProperties':
        out.push({ pointer: e.instancePath, atKey: false, message: `${e.message ?? e.keyword}` });
        break;
      default: {
        if (seenValue.has(e.instancePath)) break;
        seenValue.add(e.instancePath);
        const schema = e.parentSchema as TSchema | undefined;
        out.push({ pointer: e.instancePath, atKey: false, message: `expected ${schema ? describeSchema(schema) : e.message}, got ${describeValue(e.data)}` });
      }
    }
  }
  return out;
}

/** "integer >= 1", "one of "none", "exit"", "mapping", "list of string"… */
export function describeSchema(schema: TSchema): string {
  const s = schema as Record<string, unknown>;
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const alts = (s.anyOf ?? s.oneOf) as TSchema[] | undefined;
  if (Array.isArray(alts)) {
    if (alts.every((a) => 'const' in a)) return `one of ${alts.map((a) => JSON.stringify((a as Record<string, unknown>).const)).join(', ')}`;
    return alts.map(describeSchema).join(' or ');
  }
  const type = s.type;
  if (Array.isArray(type)) return type.join(' or ');
  const bounds: string[] = [];
  if (typeof s.minimum === 'number') bounds.push(`>= ${s.minimum}`);
  if (typeof s.exclusiveMinimum === 'number') bounds.push(`> ${s.exclusiveMinimum}`);
  if (typeof s.maximum === 'number') bounds.push(`<= ${s.maximum}`);
  if (typeof s.exclusiveMaximum === 'number') bounds.push(`< ${s.exclusiveMaximum}`);
  switch (type) {
    case 'integer':
    case 'number':
      return [type, ...bounds].join(' ') + (typeof s.multipleOf === 'number' ? ` (multiple of ${s.multipleOf})` : '');
    case 'string': {
      if (s.format === OUTPUT_PATH_FORMAT) return 'a relative path inside the cell folder (not absolute, no "..")';
      const parts = ['string'];
      if (typeof s.minLength === 'number' && s.minLength > 0) parts.push(s.minLength === 1 ? 'that is not empty' : `of at least ${s.minLength} characters`);
      if (typeof s.maxLength === 'number') parts.push(`of at most ${s.maxLength} characters`);
      if (typeof s.pattern === 'string') parts.push(`matching /${s.pattern}/`);
      if (typeof s.format === 'string') parts.push(`in format ${s.format}`);
      return parts.join(' ');
    }
    case 'array': {
      const items = s.items as TSchema | undefined;
      const itemText = items && !Array.isArray(items) ? describeSchema(items) : 'a value';
      const base = itemText === 'a value' ? 'list' : `list of ${itemText}`;
      const n: string[] = [];
      if (typeof s.minItems === 'number' && s.minItems > 0) n.push(`at least ${s.minItems} items`);
      if (typeof s.maxItems === 'number') n.push(`at most ${s.maxItems} items`);
      return n.length ? `${base} (${n.join(', ')})` : base;
    }
    case 'object': {
      const props = Object.keys((s.properties as object) ?? {});
      return props.length ? `mapping with keys ${props.join(', ')}` : 'mapping';
    }
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return 'a value';
  }
}

/**
 * The schema of the value at a dotted path inside an object schema, or undefined when the
 * path does not exist (used to check sweep keys before expanding).
 */
export function subSchemaAt(schema: TSchema, path: string[]): TSchema | undefined {
  // Walk plain JSON-schema objects; TypeBox schemas are JSON schema.
  type S = Record<string, any>;
  let cur: S | undefined = schema as S;
  for (const seg of path) {
    if (!cur) return undefined;
    const props: Record<string, S> | undefined = cur.properties;
    if (props && Object.hasOwn(props, seg)) {
      cur = props[seg];
      continue;
    }
    const alts: S[] | undefined = cur.anyOf ?? cur.oneOf;
    const branch: S | undefined = alts?.find((a) => a.properties && Object.hasOwn(a.properties, seg));
    if (branch) {
      cur = branch.properties[seg] as S;
      continue;
    }
    const pp: Record<string, S> | undefined = cur.patternProperties;
    if (pp) {
      const match: [string, S] | undefined = Object.entries(pp).find(([re]) => new RegExp(re).test(seg));
      if (match) { cur = match[1]; continue; }
    }
    if (cur.additionalProperties && typeof cur.additionalProperties === 'object') { cur = cur.additionalProperties as S; continue; }
    return undefined;
  }
  return cur as TSchema | undefined;
}

/** The keys allowed at a path (for "did you mean" style messages). */
export function keysAt(schema: TSchema | undefined): string[] {
  return Object.keys(((schema as { properties?: object } | undefined)?.properties) ?? {});
}
