// The DAG of stage instances: wiring checks (declared vs wired inputs, kinds, unknown
// upstreams), a topological order with cycle detection, and each instance's coordinate axes.
import type { InputDecl, StageDefinition } from '../stages/types.js';

export interface WiredInput {
  from: string;
  kind: 'one' | 'many';
  /** Axes of the upstream instance gathered into one array (kind 'many'). */
  gather: string[];
}

export interface WiringProblem {
  /** Path below the instance, e.g. ['inputs', 'parts'] or []. */
  path: (string | number)[];
  atKey: boolean;
  message: string;
}

export type RawInput = string | { from: string; gather?: string[] };

/** Checks one instance's inputs against its stage's declarations. */
export function wireInputs(
  stage: StageDefinition,
  raw: Record<string, RawInput>,
  instances: ReadonlySet<string>,
  problems: WiringProblem[],
): Record<string, WiredInput> {
  const wired: Record<string, WiredInput> = {};
  const declared = stage.inputs as Record<string, InputDecl>;
  const declaredNames = Object.keys(declared);
  for (const [name, ref] of Object.entries(raw)) {
    const decl = declared[name];
    if (!decl) {
      problems.push({
        path: ['inputs', name], atKey: true,
        message: `stage ${stage.name} has no input "${name}" (${declaredNames.length ? `its inputs: ${declaredNames.join(', ')}` : 'it takes no inputs'})`,
      });
      continue;
    }
    const from = typeof ref === 'string' ? ref : ref.from;
    const gather = typeof ref === 'string' ? undefined : ref.gather;
    const fromPath = typeof ref === 'string' ? ['inputs', name] : ['inputs', name, 'from'];
    if (!instances.has(from)) {
      problems.push({ path: fromPath, atKey: false, message: `unknown instance "${from}" (instances: ${[...instances].join(', ')})` });
      continue;
    }
    if (decl.kind === 'many' && gather === undefined) {
      problems.push({
        path: ['inputs', name], atKey: false,
        message: `input "${name}" of stage ${stage.name} takes many cells: wire it as { from: ${from}, gather: [<axes of ${from}>] }`,
      });
      continue;
    }
    if (decl.kind === 'one' && gather !== undefined) {
      problems.push({
        path: ['inputs', name, 'gather'], atKey: true,
        message: `input "${name}" of stage ${stage.name} takes one cell per downstream cell: remove "gather" (or use a stage whose input is 'many')`,
      });
      continue;
    }
    wired[name] = { from, kind: decl.kind, gather: gather ?? [] };
  }
  for (const [name, decl] of Object.entries(declared)) {
    if (!decl.optional && !(name in raw)) {
      problems.push({
        path: Object.keys(raw).length ? ['inputs'] : [], atKey: true,
        message: `missing input "${name}" (required by stage ${stage.name}${decl.description ? `: ${decl.description}` : ''})`,
      });
    }
  }
  return wired;
}

/**
 * Topological order (declaration order among independent instances), or the instances of one
 * cycle when there is one.
 */
export function topoOrder(names: string[], deps: (name: string) => string[]): { order: string[] } | { cycle: string[] } {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps(n)) {
      if (!names.includes(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    order.push(n);
    return undefined;
  };
  for (const n of names) {
    const c = visit(n);
    if (c) return { cycle: c };
  }
  return { order };
}
