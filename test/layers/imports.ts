// The project's import graph, read from its own sources with es-module-lexer: which top-level
// folder of src/ imports which, the imports that run against the layering below, and the import
// cycles between files. `npm run layers` prints the figures; layering.test.ts keeps them at zero.
import { init, parse } from 'es-module-lexer';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

await init;

/**
 * The layers of src/, lowest first: a folder may import its own layer's folders only when listed
 * in the same entry, and any lower layer. util: helpers, errors; science, data: the maths and the
 * datasets; ml, netsim: models and networks; config: parse, resolve named configs, validate;
 * stages: the science as stages; store: every file and database of the store (below the planner,
 * which hashes external inputs through the store's file index); pipeline: loads stages, DAG,
 * sweeps, keys, plan; exec: runs a plan; report: reads the store; cli: commands.
 */
export const LAYERS: string[][] = [
  ['util'],
  ['science', 'data'],
  ['ml'],
  ['config'],
  ['netsim'],
  ['stages'],
  ['store'],
  ['pipeline'],
  ['exec'],
  ['report', 'export'],
  ['cli'],
];

export const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

export interface ImportEdge { from: string; to: string; typeOnly: boolean; dynamic: boolean }

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    // The kernels' AssemblyScript compiles to wasm, not into the module graph.
    if (e.isDirectory()) { if (e.name !== 'assembly') sourceFiles(p, out); } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** Every relative import between the .ts files under `root` (paths relative to root). */
export function importEdges(root = srcRoot): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    const [imports] = parse(readFileSync(file, 'utf8'), file);
    for (const imp of imports) {
      if (imp.type === 'import-meta' || imp.specifier === undefined || !imp.specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), imp.specifier).replace(/\.js$/, '.ts');
      edges.push({
        from: relative(root, file),
        to: relative(root, target),
        typeOnly: imp.type === 'static' ? imp.typeOnly : false,
        dynamic: imp.type === 'dynamic',
      });
    }
  }
  return edges;
}

const topFolder = (path: string) => path.split(/[\\/]/)[0]!;

function layerOf(folder: string): number {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  if (i < 0) throw new Error(`src/${folder} is in no layer of test/layers/imports.ts`);
  return i;
}

export interface FolderImport { from: string; to: string; imports: number; upward: boolean }

/** Folder-level imports (distinct pairs of top-level folders) and whether each runs upward. */
export function folderImports(edges: ImportEdge[]): FolderImport[] {
  const pairs = new Map<string, FolderImport>();
  for (const e of edges) {
    const from = topFolder(e.from), to = topFolder(e.to);
    if (from === to || from.endsWith('.ts') || to.endsWith('.ts')) continue;
    const k = `${from}\0${to}`;
    const p = pairs.get(k) ?? { from, to, imports: 0, upward: layerOf(to) > layerOf(from) || (layerOf(to) === layerOf(from)) };
    p.imports++;
    pairs.set(k, p);
  }
  return [...pairs.values()].sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));
}

/** Groups of files that import each other in a cycle (strongly connected, more than one file). */
export function importCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, []);
    next.get(e.from)!.push(e.to);
  }
  // Tarjan's strongly connected components, iteratively.
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  for (const start of [...next.keys()].sort()) {
    if (idx.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    idx.set(start, index); low.set(start, index); index++; stack.push(start); onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const succ = next.get(top.node) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (!idx.has(w)) {
          idx.set(w, index); low.set(w, index); index++; stack.push(w); onStack.add(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) { const parent = work[work.length - 1]!.node; low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!)); }
      if (low.get(top.node) === idx.get(top.node)) {
        const group: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); group.push(w); } while (w !== top.node);
        if (group.length > 1) out.push(group.sort());
      }
    }
  }
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** `as never` and `as unknown as` casts per file, outside the folders given. */
export function castCounts(root = srcRoot, outside: string[] = ['ml']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const file of sourceFiles(root)) {
    const rel = relative(root, file);
    if (outside.includes(topFolder(rel))) continue;
    const n = (readFileSync(file, 'utf8').match(/\bas\s+never\b|\bas\s+unknown\s+as\b/g) ?? []).length;
    if (n > 0) out[rel] = n;
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Optional argument: another checkout's src/ folder (to compare with an earlier commit).
  const root = process.argv[2] ? resolve(process.argv[2]) : srcRoot;
  const edges = importEdges(root);
  const folders = folderImports(edges);
  const upward = folders.filter((f) => f.upward);
  const cycles = importCycles(edges);
  const valueCycles = importCycles(edges.filter((e) => !e.typeOnly));
  const casts = castCounts(root);
  console.log(`folder-level imports: ${folders.length}, against the layering: ${upward.length}`);
  for (const f of upward) console.log(`  ${f.from} -> ${f.to} (${f.imports} import${f.imports === 1 ? '' : 's'})`);
  console.log(`import cycles between files: ${cycles.length} (${valueCycles.length} without type-only imports)`);
  for (const c of cycles) console.log(`  ${c.join(' <-> ')}`);
  const total = Object.values(casts).reduce((a, b) => a + b, 0);
  console.log(`as never / as unknown as outside src/ml: ${total}`);
  for (const [f, n] of Object.entries(casts)) console.log(`  ${f}: ${n}`);
}
