// Hash of a stage's implementation: every compiled module the stage's module reaches through
// relative imports (static and literal dynamic ones), grouped by folder so a change can be named,
// plus the codeDeps folders hashed whole (dist/<folder> and the non-TypeScript assets kept beside
// the sources, e.g. an ns-3 scenario). Following the import graph means a helper moved into a
// shared folder still counts without anyone remembering to list it. Memoised per process: the
// code does not change while a plan is built.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { sha256 } from '../util/hash.js';
import { UsageError } from '../cli/errors.js';
import { dirname, resolve as resolvePath } from 'node:path';
import { distRoot, packageRoot, stageModuleFile } from './registry.js';
import type { StageDefinition } from '../stages/types.js';

const memo = new Map<string, string>();

const fileDigests = new Map<string, string>();
const closures = new Map<string, string[]>();

/** Forget memoised hashes (tests that edit code in place). */
export function clearCodeHashMemo(): void {
  memo.clear();
  fileDigests.clear();
  closures.clear();
}

function fileDigest(file: string): string {
  let d = fileDigests.get(file);
  if (!d) {
    d = createHash('sha256').update(readFileSync(file)).digest('hex');
    fileDigests.set(file, d);
  }
  return d;
}

// `from './x.js'`, `import './x.js'`, `import('./x.js')` with a relative, literal specifier.
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;

/** Every module file reachable from `entry` through relative imports, sorted. */
export function importClosure(entry: string): string[] {
  const cached = closures.get(entry);
  if (cached) return cached;
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(RELATIVE_IMPORT)) queue.push(resolvePath(dirname(file), m[2]!));
  }
  const out = [...seen].sort();
  closures.set(entry, out);
  return out;
}

/** The import closure grouped by folder (relative to dist when inside it): folder → hash. */
function importHashes(entry: string): Record<string, string> {
  const byFolder = new Map<string, string[]>();
  for (const file of importClosure(entry)) {
    const rel = relative(distRoot, file);
    const inside = !rel.startsWith('..') && !isAbsolute(rel);
    const folder = inside ? dirname(rel).split('\\').join('/') : dirname(file);
    const name = inside ? relative(distRoot, file) : file;
    const lines = byFolder.get(folder) ?? [];
    lines.push(`${name.split('\\').join('/')}\0${fileDigest(file)}`);
    byFolder.set(folder, lines);
  }
  const out: Record<string, string> = {};
  for (const [folder, lines] of byFolder) out[`imports:${folder}`] = sha256('sei-imports-v1', ...lines.sort());
  return out;
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

function listFiles(root: string, filter: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if ((e.isFile() || e.isSymbolicLink()) && filter(e.name)) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

const COMPILED = /\.(js|mjs|cjs|json|wasm|node)$/;
// Sources are compiled into dist; everything else in a source folder (data files, C++ for
// ns-3, shaders) is used as is and so belongs to the code too.
const SOURCE_ONLY = /\.(ts|tsx|mts|cts|md)$/;

/**
 * Hash of one codeDeps folder. A relative folder names a source folder of the package
 * (`src/ml` → dist/src/ml); an absolute one is hashed as it is (stages outside the package).
 */
export function codeFolderHash(folder: string): string {
  const cached = memo.get(folder);
  if (cached) return cached;
  const roots: { dir: string; tag: string; filter: (n: string) => boolean }[] = [];
  if (isAbsolute(folder)) {
    roots.push({ dir: folder, tag: '', filter: (n) => !n.endsWith('.map') });
  } else {
    roots.push({ dir: join(distRoot, folder), tag: 'dist:', filter: (n) => COMPILED.test(n) });
    roots.push({ dir: join(packageRoot, folder), tag: 'src:', filter: (n) => !SOURCE_ONLY.test(n) && !n.endsWith('.map') });
  }
  // A folder of assets only (e.g. C++ read at run time) has nothing compiled in dist: either
  // side existing is enough.
  if (!roots.some((r) => existsSync(r.dir) && statSync(r.dir).isDirectory())) {
    throw new UsageError(`code folder ${roots.map((r) => r.dir).join(' or ')} does not exist (a stage lists "${folder}" in codeDeps; run npm run build)`);
  }
  const lines: string[] = [];
  for (const r of roots) {
    if (!existsSync(r.dir)) continue;
    for (const file of listFiles(r.dir, r.filter)) {
      lines.push(`${r.tag}${relative(r.dir, file).split('\\').join('/')}\0${fileDigest(file)}`);
    }
  }
  const h = sha256('sei-code-v1', ...lines);
  memo.set(folder, h);
  return h;
}

/** The code part of a cell key: per-folder hashes and their combination. */
export function stageCodeHash(stage: StageDefinition): { codeHash: string; codeHashes: Record<string, string> } {
  const codeHashes: Record<string, string> = {};
  for (const folder of [...stage.codeDeps].sort()) codeHashes[folder] = codeFolderHash(folder);
  const entry = stageModuleFile(stage);
  if (entry) Object.assign(codeHashes, importHashes(entry));
  const codeHash = sha256('sei-stage-code-v1', ...Object.keys(codeHashes).sort().map((f) => `${f}\0${codeHashes[f]}`));
  return { codeHash, codeHashes };
}
