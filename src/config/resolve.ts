// Turns a pipeline file into one resolved tree: `extends` and `include` layers, `--set`
// overrides, `${vars.x}` substitution and `use:` of named configs, keeping every value's origin.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, relative } from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { displayFile, type Origin, type Problems } from './errors.js';
import { parseYamlFile, type ParsedFile } from './yaml-source.js';
import { namedConfigFile, namedConfigs } from './named.js';
import {
  childOrigin, cloneTree, deepMerge, isObject, originsOf, setChild, stampOrigin,
  type ChildOrigin, type Json, type JsonObject,
} from './tree.js';

const CONFIG_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)+$/;
const WHOLE_VAR = /^\$\{vars\.([^}]+)\}$/;
const ANY_VAR = /\$\{vars\.([^}]+)\}/g;

export interface ResolveOptions {
  projectRoot: string;
  sets: string[];
}

export interface Resolved {
  doc: JsonObject;
  rootOrigin: Origin;
}

/** Resolves `file` into one tree; problems are collected (the result is undefined if any). */
export function resolvePipeline(file: string, opts: ResolveOptions, problems: Problems): Resolved | undefined {
  const r = new Resolver(opts, problems);
  const layered = r.loadLayer(file, [], undefined, []);
  if (!layered || problems.size) return undefined;
  // --set of a variable must be seen by every ${vars.x}; any other --set must reach values that
  // came from a variable (`model: ${vars.model}` then `--set stages.base.params.model.width=…`)
  // and must be able to override a `use:` name or add siblings to it. Hence: vars sets, then
  // substitution, then the other sets, then `use:` expansion.
  const isVarsSet = (s: string) => /^"?vars"?\./.test(s);
  r.applySets(layered.tree, opts.sets.filter(isVarsSet));
  if (problems.size) return undefined;
  r.prepareVars(layered.tree);
  const substituted = r.resolveRoot(layered.tree, false);
  if (problems.size) return undefined;
  r.applySets(substituted, opts.sets.filter((s) => !isVarsSet(s)));
  if (problems.size) return undefined;
  const doc = r.resolveRoot(substituted, true);
  if (problems.size) return undefined;
  return { doc, rootOrigin: layered.origin };
}

class Resolver {
  private readonly parsedConfigs = new Map<string, ParsedFile | undefined>();
  private vars: JsonObject = {};
  private readonly resolvedVars = new Map<string, Json>();
  private readonly reportedCycles = new Set<string>();
  private expandUse = true;

  constructor(private readonly opts: ResolveOptions, private readonly problems: Problems) {}

  // ---- extends / include -------------------------------------------------------------------

  loadLayer(file: string, stack: string[], refOrigin: Origin | undefined, refPath: (string | number)[]): { tree: JsonObject; origin: Origin } | undefined {
    const abs = resolve(file);
    if (stack.includes(abs)) {
      const cycle = [...stack.slice(stack.indexOf(abs)), abs].map(displayFile).join(' → ');
      this.problems.add(refOrigin, refPath, `extends/include cycle: ${cycle}`);
      return undefined;
    }
    if (existsSync(abs) && statSync(abs).isDirectory()) {
      this.problems.add(refOrigin, refPath, `${displayFile(abs)} is a folder, not a pipeline file: name a YAML file in it (e.g. ${displayFile(abs)}/<name>.yaml)`);
      return undefined;
    }
    if (!existsSync(abs) || !statSync(abs).isFile()) {
      this.problems.add(refOrigin, refPath, `file not found: ${displayFile(abs)}`);
      return undefined;
    }
    const parsed = parseYamlFile(abs, this.problems, [], refOrigin);
    if (!parsed) return undefined;
    if (!isObject(parsed.value)) {
      this.problems.add(parsed.origin, [], `expected a mapping at the top of ${displayFile(abs)} (keys such as name, stages), got ${describeValue(parsed.value)}`);
      return undefined;
    }
    const root = parsed.value;
    let base: Json = {};
    const nextStack = [...stack, abs];
    if ('extends' in root) {
      const o = childOrigin(root, 'extends');
      const ext = root.extends;
      if (typeof ext !== 'string' || ext === '') {
        this.problems.add(o?.value, ['extends'], `expected a file name (string), got ${describeValue(ext)}`);
      } else {
        const layer = this.loadLayer(resolve(dirname(abs), ext), nextStack, o?.value, ['extends']);
        if (layer) base = layer.tree;
      }
    }
    if ('include' in root) {
      const o = childOrigin(root, 'include');
      const inc = root.include;
      const list: { name: Json; origin?: Origin; path: (string | number)[] }[] = typeof inc === 'string'
        ? [{ name: inc, origin: o?.value, path: ['include'] }]
        : Array.isArray(inc) ? inc.map((name, i) => ({ name, origin: childOrigin(inc, i)?.value, path: ['include', i] })) : [];
      if (typeof inc !== 'string' && !Array.isArray(inc)) {
        this.problems.add(o?.value, ['include'], `expected a list of file names, got ${describeValue(inc)}`);
      }
      for (const item of list) {
        if (typeof item.name !== 'string' || item.name === '') {
          this.problems.add(item.origin, item.path, `expected a file name (string), got ${describeValue(item.name)}`);
          continue;
        }
        const layer = this.loadLayer(resolve(dirname(abs), item.name), nextStack, item.origin, item.path);
        if (layer) base = deepMerge(base, layer.tree);
      }
    }
    const own: JsonObject = {};
    for (const [k, v] of Object.entries(root)) {
      if (k !== 'extends' && k !== 'include') setChild(own, k, v, childOrigin(root, k));
    }
    return { tree: deepMerge(base, own) as JsonObject, origin: parsed.origin };
  }

  // ---- --set ---------------------------------------------------------------------------------

  applySets(root: JsonObject, sets: string[]): void {
    for (const raw of sets) {
      const origin: Origin = { set: raw };
      const eq = raw.indexOf('=');
      if (eq <= 0) {
        this.problems.add(origin, [], 'expected path=value, e.g. stages.retrain.params.training.epochs=2');
        continue;
      }
      const path = parseSetPath(raw.slice(0, eq));
      if (!path) {
        this.problems.add(origin, [], `invalid path "${raw.slice(0, eq)}" (dotted keys; quote a key that contains dots: a."b.c")`);
        continue;
      }
      let value: Json;
      try {
        value = parseYamlValue(raw.slice(eq + 1)) as Json;
      } catch (e) {
        this.problems.add(origin, path, `invalid YAML value: ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      if (value === undefined) value = null;
      stampOrigin(value, origin);
      let cur: Json = root;
      let ok = true;
      for (let i = 0; i < path.length - 1 && ok; i++) {
        const seg = path[i];
        if (Array.isArray(cur)) {
          const idx = Number(seg);
          if (!/^\d+$/.test(seg) || idx >= cur.length) {
            this.problems.add(origin, path.slice(0, i + 1), `no list item ${seg} (the list has ${cur.length})`);
            ok = false;
          } else cur = cur[idx];
        } else if (isObject(cur)) {
          if (!(seg in cur) || cur[seg] === null) setChild(cur, seg, {}, { key: origin, value: origin });
          cur = cur[seg];
        } else {
          this.problems.add(origin, path.slice(0, i), `cannot set inside ${describeValue(cur)}`);
          ok = false;
        }
      }
      if (!ok) continue;
      const last = path[path.length - 1];
      if (Array.isArray(cur)) {
        const idx = Number(last);
        if (!/^\d+$/.test(last) || idx > cur.length) {
          this.problems.add(origin, path, `no list item ${last} (the list has ${cur.length})`);
        } else {
          cur[idx] = value;
          originsOf(cur).set(idx, { key: origin, value: origin });
        }
      } else if (isObject(cur)) {
        setChild(cur, last, value, { key: origin, value: origin });
      } else {
        this.problems.add(origin, path.slice(0, -1), `cannot set inside ${describeValue(cur)}`);
      }
    }
  }

  // ---- vars and use --------------------------------------------------------------------------

  prepareVars(root: JsonObject): void {
    const varsOrigin = childOrigin(root, 'vars');
    if ('vars' in root) {
      if (isObject(root.vars)) this.vars = root.vars;
      else this.problems.add(varsOrigin?.value, ['vars'], `expected a mapping of names to values, got ${describeValue(root.vars)}`);
    }
  }

  /** Substitutes vars everywhere; with `expandUse`, also replaces `use:` mappings by their configs. */
  resolveRoot(root: JsonObject, expandUse: boolean): JsonObject {
    this.expandUse = expandUse;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(root)) {
      const value = k === 'vars' ? this.resolveAllVars() : this.resolveValue(v, [k], []);
      setChild(out, k, value, childOrigin(root, k));
    }
    return out;
  }

  private resolveAllVars(): Json {
    const out: JsonObject = {};
    for (const name of Object.keys(this.vars)) setChild(out, name, this.lookupVar(name, undefined, ['vars', name], []) ?? null, childOrigin(this.vars, name));
    return out;
  }

  /** Resolves `${vars.a.b}`: the value of vars.a.b, itself resolved (vars may use vars). */
  private lookupVar(name: string, refOrigin: Origin | undefined, refPath: (string | number)[], varStack: string[]): Json | undefined {
    const top = name.split('.')[0];
    if (varStack.includes(top)) {
      const members = [...varStack.slice(varStack.indexOf(top))].sort().join(',');
      if (this.reportedCycles.has(members)) return undefined;
      this.reportedCycles.add(members);
      this.problems.add(refOrigin, refPath, `variable cycle: ${[...varStack, top].map((v) => `vars.${v}`).join(' → ')}`);
      return undefined;
    }
    if (!(top in this.vars)) {
      const known = Object.keys(this.vars);
      this.problems.add(refOrigin, refPath, `unknown variable vars.${top} (${known.length ? `defined: ${known.join(', ')}` : 'no vars defined'})`);
      return undefined;
    }
    if (!this.resolvedVars.has(top)) {
      const before = this.problems.size;
      const v = this.resolveValue(this.vars[top], ['vars', top], [], [...varStack, top], childOrigin(this.vars, top)?.value);
      if (this.problems.size > before) return undefined;
      this.resolvedVars.set(top, v);
    }
    let cur: Json | undefined = this.resolvedVars.get(top);
    for (const seg of name.split('.').slice(1)) {
      cur = isObject(cur) ? cur[seg] : Array.isArray(cur) && /^\d+$/.test(seg) ? cur[Number(seg)] : undefined;
      if (cur === undefined) {
        this.problems.add(refOrigin, refPath, `unknown variable vars.${name}`);
        return undefined;
      }
    }
    return cur;
  }

  private substitute(s: string, origin: Origin | undefined, path: (string | number)[], varStack: string[]): Json {
    const whole = WHOLE_VAR.exec(s);
    if (whole) {
      const v = this.lookupVar(whole[1], origin, path, varStack);
      return v === undefined ? s : cloneTree(v);
    }
    if (!s.includes('${')) return s;
    return s.replace(ANY_VAR, (m, name: string) => {
      const v = this.lookupVar(name, origin, path, varStack);
      if (v === undefined) return m;
      if (v !== null && typeof v === 'object') {
        this.problems.add(origin, path, `vars.${name} is a ${Array.isArray(v) ? 'list' : 'mapping'}: it can only be used as a whole value, not inside a string`);
        return m;
      }
      return String(v);
    });
  }

  /** Substitutes vars and expands `use:` below `value`; returns a new tree. */
  private resolveValue(value: Json, path: (string | number)[], useStack: string[], varStack: string[] = [], origin?: Origin): Json {
    if (typeof value === 'string') {
      const v = this.substitute(value, origin, path, varStack);
      // A substituted mapping may itself `use:` a config.
      return typeof v === 'string' ? v : this.resolveValue(v, path, useStack, varStack, origin);
    }
    if (Array.isArray(value)) {
      const out: Json[] = [];
      value.forEach((item, i) => {
        const o = childOrigin(value, i);
        out.push(this.resolveValue(item, [...path, i], useStack, varStack, o?.value));
        if (o) originsOf(out).set(i, o);
      });
      return out;
    }
    if (!isObject(value)) return value;
    const siblings: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'use' && this.expandUse) continue;
      const o = childOrigin(value, k);
      setChild(siblings, k, this.resolveValue(v, [...path, k], useStack, varStack, o?.value), o);
    }
    if (!('use' in value) || !this.expandUse) return siblings;
    const useOrigin = childOrigin(value, 'use')?.value;
    const name = this.resolveValue(value.use, [...path, 'use'], useStack, varStack, useOrigin);
    const config = this.loadConfig(name, useOrigin, [...path, 'use'], useStack, varStack);
    if (config === undefined) return siblings;
    return deepMerge(config, siblings);
  }

  private loadConfig(name: Json, origin: Origin | undefined, path: (string | number)[], useStack: string[], varStack: string[]): JsonObject | undefined {
    if (typeof name !== 'string' || !CONFIG_NAME.test(name) || name.split('/').includes('..')) {
      this.problems.add(origin, path, `expected a config name <kind>/<name> such as models/vgg16-demo, got ${describeValue(name)}`);
      return undefined;
    }
    if (useStack.includes(name)) {
      this.problems.add(origin, path, `use cycle: ${[...useStack, name].join(' → ')}`);
      return undefined;
    }
    const file = namedConfigFile(this.opts.projectRoot, name);
    if (!file) {
      this.problems.add(origin, path, `unknown config "${name}": ${missingConfigHint(join(this.opts.projectRoot, 'configs'), name)}`);
      return undefined;
    }
    if (!this.parsedConfigs.has(file)) this.parsedConfigs.set(file, parseYamlFile(file, this.problems, [], origin));
    const parsed = this.parsedConfigs.get(file);
    if (!parsed) return undefined;
    if (!isObject(parsed.value)) {
      this.problems.add(parsed.origin, [], `a config must be a mapping (it is merged into the place that uses it), got ${describeValue(parsed.value)}`);
      return undefined;
    }
    const resolved = this.resolveValue(cloneTree(parsed.value), path.slice(0, -1), [...useStack, name], varStack, parsed.origin);
    return isObject(resolved) ? resolved : undefined;
  }
}

/** Lists what exists where a config was expected, so a typo is easy to fix. */
function missingConfigHint(configsDir: string, name: string): string {
  const parts = name.split('/');
  const kindDir = join(configsDir, ...parts.slice(0, -1));
  const kindName = parts.slice(0, -1).join('/');
  if (existsSync(kindDir) && statSync(kindDir).isDirectory()) {
    const names = namedConfigs(dirname(configsDir), kindName);
    return `no file ${relative(process.cwd(), join(kindDir, parts[parts.length - 1]))}.yaml (available ${kindName}: ${names.length ? names.join(', ') : 'none'})`;
  }
  const kinds = existsSync(configsDir) ? readdirSync(configsDir).filter((f) => statSync(join(configsDir, f)).isDirectory()).sort() : [];
  return `no folder configs/${kindName} (available kinds: ${kinds.length ? kinds.join(', ') : `none — no configs folder in ${displayFile(dirname(configsDir))}`})`;
}

/** `a.b."c.d".e` → ['a', 'b', 'c.d', 'e']; undefined when malformed. */
export function parseSetPath(s: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i <= s.length) {
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) return undefined;
      out.push(s.slice(i + 1, end));
      i = end + 1;
      if (i < s.length && s[i] !== '.') return undefined;
      i++;
    } else {
      let end = s.indexOf('.', i);
      if (end < 0) end = s.length;
      const seg = s.slice(i, end);
      if (seg === '') return undefined;
      out.push(seg);
      i = end + 1;
    }
  }
  return out.length ? out : undefined;
}

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
