// The "Result shapes" section of docs/ARCHITECTURE.md, generated from the metrics schemas the
// stages declare, so the documentation cannot drift from what is checked at run time.
// `node dist/test/docs/result-shapes.js --write` rewrites the section; result-shapes.test.ts
// fails when it differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { loadStage, stageNames } from '../../src/pipeline/registry.js';

export const ARCHITECTURE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'ARCHITECTURE.md');
export const BEGIN = '<!-- result-shapes: generated from the stages\' metrics schemas; do not edit by hand -->';
export const END = '<!-- result-shapes: end -->';

interface JsonSchema {
  type?: string; properties?: Record<string, JsonSchema>; required?: string[]; items?: JsonSchema;
  anyOf?: JsonSchema[]; const?: unknown; additionalProperties?: unknown; minItems?: number; maxItems?: number;
}

/** A schema as a TypeScript-like type, on one line. */
export function typeText(schema: TSchema | JsonSchema): string {
  const s = schema as JsonSchema;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(typeText).join(' | ');
  switch (s.type) {
    case 'object': {
      const req = new Set(s.required ?? []);
      const fields = Object.entries(s.properties ?? {}).map(([k, v]) => `${k}${req.has(k) ? '' : '?'}: ${typeText(v)}`);
      return `{ ${fields.join('; ')} }`;
    }
    case 'array': {
      const item = typeText(s.items ?? {});
      if (s.minItems !== undefined && s.minItems === s.maxItems) return `[${Array(s.minItems).fill(item).join(', ')}]`;
      return item.includes('|') && !item.startsWith('{') ? `(${item})[]` : `${item}[]`;
    }
    case 'integer': return 'number';
    case undefined: return 'unknown';
    default: return s.type;
  }
}

/** One block per stage that declares its metrics: its top-level fields one per line. */
export async function resultShapes(): Promise<string> {
  const blocks: string[] = [];
  for (const name of stageNames()) {
    const schema = (await loadStage(name)).metrics as JsonSchema | undefined;
    if (!schema) continue;
    const req = new Set(schema.required ?? []);
    const lines = Object.entries(schema.properties ?? {}).map(([k, v]) => `  ${k}${req.has(k) ? '' : '?'}: ${typeText(v)};`);
    blocks.push(`// ${name}\n{\n${lines.join('\n')}\n}`);
  }
  return ['```ts', blocks.join('\n'), '```'].join('\n');
}

/** The text between the markers in docs/ARCHITECTURE.md. */
export function documentedShapes(text = readFileSync(ARCHITECTURE, 'utf8')): string {
  const a = text.indexOf(BEGIN), b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/ARCHITECTURE.md has no result-shapes markers`);
  return text.slice(a + BEGIN.length, b).trim();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  delete process.env.SEI_STAGE_PATH; // the built-in stages only
  const shapes = await resultShapes();
  if (process.argv.includes('--write')) {
    const text = readFileSync(ARCHITECTURE, 'utf8');
    const a = text.indexOf(BEGIN), b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error('docs/ARCHITECTURE.md has no result-shapes markers');
    writeFileSync(ARCHITECTURE, `${text.slice(0, a + BEGIN.length)}\n${shapes}\n${text.slice(b)}`);
    console.log(`rewrote the result shapes in ${join('docs', 'ARCHITECTURE.md')}`);
  } else console.log(shapes);
}
