// Hash of a stage's implementation: every file the stage's module loads, found by lexing the
// compiled modules (es-module-lexer, not a regex: strings and comments that look like imports
// are not followed), grouped by folder so a change can be named, plus the codeDeps folders hashed
// whole (dist/<folder> and the non-TypeScript assets kept beside the sources, e.g. an ns-3
// scenario). Followed: static imports and re-exports, dynamic imports with a literal specifier,
// and assets located with `new URL('<literal>', import.meta.url)` (the SIMD kernels' .wasm,
// built from src/ml/kernels/assembly: the compiled module is what runs, so it is what is hashed).
// Following the graph means a helper moved into a shared folder still counts without anyone
// remembering to list it. Memoised per process: the code does not change while a plan is built.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve as resolvePath } from 'node:path';
import { init as initLexer, parse as lexModule } from 'es-module-lexer';
import { sha256 } from '../util/hash.js';
import { UsageError } from '../util/errors.js';
import { distRoot, packageRoot, stageModuleFile } from './registry.js';
import type { StageDefinition } from '../stages/types.js';

await initLexer;

const memo = new Map<string, string>();

const fileDigests = new Map<string, string>();
const closures = new Map<string, string[]>();

/** Forget memoised hashes (tests that edit code in place). */
export function clearCodeHashMemo(): void {
  memo.clear();
  fileDigests.clear();
  closures.clear();
}

/** Digest of a file's bytes; a file that does not exist hashes as 'missing' (built later). */
function fileDigest(file: string): string {
  let d = fileDigests.get(file);
  if (!d) {
    d = existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'missing';
    fileDigests.set(file, d);
  }
  return d;
}

/** Modules are lexed for what they load in turn; any other file (.wasm, .json) is a leaf. */
const MODULE_FILE = /\.(js|mjs|cjs)$/;

// The two halves around an `import.meta` the lexer found: `new URL('<literal>', ` before it and
// `.url)` after it. Only literal specifiers can be followed; anything computed is a codeDeps folder.
const URL_BEFORE = /new\s+URL\s*\(\s*(['"])([^'"\\]+)\1\s*,\s*$/;
const URL_AFTER = /^\s*\.\s*url\s*\)/;

function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../');
}

/**
 * The relative specifiers a compiled module loads: imports, re-exports, literal dynamic
 * imports, and `new URL('<literal>', import.meta.url)` assets. Bare specifiers (packages) are
 * outside the project's code and not followed.
 */
export function loadedSpecifiers(source: string, file = '<module>'): string[] {
  let imports;
  try {
    [imports] = lexModule(source, file);
  } catch (e) {
    throw new Error(`cannot lex ${file} to find what it loads: ${(e as Error).message}`);
  }
  const out: string[] = [];
  for (const imp of imports) {
    if (imp.type === 'import-meta') {
      const before = URL_BEFORE.exec(source.slice(Math.max(0, imp.importStart - 300), imp.importStart));
      if (before && URL_AFTER.test(source.slice(imp.importEnd, imp.importEnd + 40))) out.push(before[2]!);
      continue;
    }
    if (imp.type === 'dynamic' && (imp.specifier === undefined || imp.glob)) continue;
    if (imp.specifier !== undefined && isRelative(imp.specifier)) out.push(imp.specifier);
  }
  return out;
}

/** Every file reachable from `entry` through what its modules load, sorted. */
export function importClosure(entry: string): string[] {
  const cached = closures.get(entry);
  if (cached) return cached;
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!MODULE_FILE.test(file) || !existsSync(file)) continue;
    for (const spec of loadedSpecifiers(readFileSync(file, 'utf8'), file)) queue.push(resolvePath(dirname(file), spec));
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
