// A stage's contract in words, from its definition: what it is for, its inputs, every param
// (type, default, allowed values, description, nested objects indented) and what it writes.
// The params come straight from the TypeBox schema the planner validates against, so this
// reference cannot drift from what a pipeline may say.
import type { StageDefinition } from '../../stages/types.js';

interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode | SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
}

/** A short type name: `integer ≥ 1`, `'label' | 'predicted'`, `list of string`, `object`. */
export function typeText(s: SchemaNode): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(typeText).join(' | ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type ?? 'any';
  if (type === 'array') {
    // A tuple lists each position's type; a list, its items' type.
    if (Array.isArray(s.items)) return `[${s.items.map(typeText).join(', ')}]`;
    return `list of ${s.items ? typeText(s.items) : 'any'}`;
  }
  const bounds: string[] = [];
  if (s.minimum !== undefined) bounds.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) bounds.push(`≤ ${s.maximum}`);
  return bounds.length ? `${type} ${bounds.join(' ')}` : type;
}

function paramLines(s: SchemaNode, indent: string, out: string[]): void {
  const required = new Set(s.required ?? []);
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const facts = [typeText(p)];
    if (p.default !== undefined) facts.push(`default ${JSON.stringify(p.default)}`);
    else if (required.has(name)) facts.push('required');
    out.push(`${indent}${name}: ${facts.join(', ')}${p.description ? ` — ${p.description}` : ''}`);
    if (p.properties) paramLines(p, `${indent}  `, out);
  }
}

export function describeStage(def: StageDefinition): string {
  const out = [`${def.name}: ${def.description}`, '  inputs:'];
  const inputs = Object.entries(def.inputs);
  if (inputs.length === 0) out.push('    (none)');
  for (const [name, d] of inputs) {
    const kind = d.kind === 'many' ? `gathered list${d.minItems ? `, at least ${d.minItems}${d.distinctBy ? ` distinct ${d.distinctBy} values` : ''}` : ''}` : 'one cell';
    out.push(`    ${name}: ${kind}${d.optional ? ', optional' : ''}${d.description ? ` — ${d.description}` : ''}`);
  }
  out.push('  params:');
  const before = out.length;
  paramLines(def.params as SchemaNode, '    ', out);
  if (out.length === before) out.push('    (none)');
  if (def.outputs?.length) {
    out.push('  writes:');
    for (const o of def.outputs) out.push(`    ${o}`);
  }
  return out.join('\n') + '\n';
}
