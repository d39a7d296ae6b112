// Reads a YAML file into a plain JSON tree whose containers remember each child's line:col.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, isPair, type Document, type Node } from 'yaml';
import type { Origin, Problems } from './errors.js';
import { originsOf, type Json, type JsonObject } from './tree.js';

export interface ParsedFile {
  file: string;
  value: Json;
  /** Position of the document's top node. */
  origin: Origin;
}

/** Parses `text` (the content of `file`); syntax errors go to `problems` (result undefined then). */
export function parseYamlText(file: string, text: string, problems: Problems, path: (string | number)[] = []): ParsedFile | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number | undefined): Origin => {
    const { line, col } = lc.linePos(offset ?? 0);
    return { file, line, col };
  };
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      problems.add(at(e.pos[0]), path, `invalid YAML: ${message}`);
    }
    return undefined;
  }
  const before = problems.size;
  const value = toJson(doc.contents as Node | null, doc, at, problems, path);
  if (problems.size > before) return undefined;
  return { file, value, origin: at(doc.contents?.range?.[0]) };
}

export function parseYamlFile(file: string, problems: Problems, path: (string | number)[], origin?: Origin): ParsedFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    problems.add(origin, path, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return undefined;
  }
  return parseYamlText(file, text, problems, path);
}

function toJson(node: Node | null | undefined, doc: Document, at: (o: number | undefined) => Origin, problems: Problems, path: (string | number)[], depth = 0): Json {
  if (node === null || node === undefined) return null;
  if (depth > 200) {
    problems.add(at(node.range?.[0]), path, 'nesting too deep (recursive alias?)');
    return null;
  }
  if (isAlias(node)) return toJson(node.resolve(doc) as Node | undefined, doc, at, problems, path, depth + 1);
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return null;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) problems.add(at(node.range?.[0]), path, `expected a finite number, got ${String(v)}`);
      return v;
    }
    if (typeof v === 'bigint') {
      problems.add(at(node.range?.[0]), path, `integer ${String(v)} is too large`);
      return null;
    }
    if (typeof v === 'boolean' || typeof v === 'string') return v;
    return String(v);
  }
  if (isMap(node)) {
    const out: JsonObject = {};
    const origins = originsOf(out);
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const keyOrigin = at(keyNode?.range?.[0] ?? node.range?.[0]);
      let key: string;
      if (isScalar(keyNode) && (typeof keyNode.value === 'string' || typeof keyNode.value === 'number' || typeof keyNode.value === 'boolean')) {
        key = String(keyNode.value);
      } else {
        problems.add(keyOrigin, path, 'keys must be plain strings');
        continue;
      }
      if (key === '__proto__') {
        problems.add(keyOrigin, [...path, key], 'the key "__proto__" is not allowed');
        continue;
      }
      const valueNode = pair.value as Node | null;
      out[key] = toJson(valueNode, doc, at, problems, [...path, key], depth + 1);
      origins.set(key, { key: keyOrigin, value: valueNode?.range ? at(valueNode.range[0]) : keyOrigin });
    }
    return out;
  }
  if (isSeq(node)) {
    const out: Json[] = [];
    const origins = originsOf(out);
    node.items.forEach((item, i) => {
      const n = item as Node | null;
      out.push(toJson(n, doc, at, problems, [...path, i], depth + 1));
      const o = at(n?.range?.[0] ?? node.range?.[0]);
      origins.set(i, { key: o, value: o });
    });
    return out;
  }
  problems.add(at((node as Node).range?.[0]), path, 'unsupported YAML node');
  return null;
}
