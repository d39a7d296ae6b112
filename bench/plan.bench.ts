// Planning speed: load + validate + expand + key a 10,000-cell sweep (and a 1,000-cell one) of
// the fast fixture stages. Target: under 2 s for 10,000 cells.
// Also: hashing a 100,000-file external input with the persistent index (SEI_BENCH_FILES=n).
// Run: npm run build && npm run bench:plan
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
process.env.SEI_STAGE_PATH = resolve(here, '..', 'test', 'fixtures', 'stages');

const { loadPipeline } = await import('../src/pipeline/load.js');
const { buildPlan } = await import('../src/pipeline/plan.js');

function pipeline(texts: number, repeats: number): string {
  const list = (n: number, f: (i: number) => string) => `[${Array.from({ length: n }, (_, i) => f(i)).join(', ')}]`;
  return `name: bench
stages:
  words:
    stage: write-text
    params: { text: x, style: { prefix: ">" } }
    sweep:
      grid: { text: ${list(texts, (i) => `t${i}`)}, repeat: ${list(repeats, (i) => String(i + 1))} }
  joined:
    stage: concat
    inputs: { parts: { from: words, gather: [repeat] } }
`;
}

async function measure(label: string, texts: number, repeats: number, dir: string): Promise<void> {
  const file = join(dir, `${label}.yaml`);
  writeFileSync(file, pipeline(texts, repeats));
  const runs: number[] = [];
  let cells = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const loaded = await loadPipeline(file, { projectRoot: dir });
    const t1 = performance.now();
    const plan = await buildPlan(loaded, { storeDir: join(dir, 'store') });
    const t2 = performance.now();
    cells = plan.cells.length;
    runs.push(t2 - t0);
    console.log(`${label}: ${cells} cells: load ${(t1 - t0).toFixed(0)} ms + plan ${(t2 - t1).toFixed(0)} ms = ${(t2 - t0).toFixed(0)} ms`);
  }
  const best = Math.min(...runs);
  console.log(`${label}: best ${best.toFixed(0)} ms for ${cells} cells (${((best * 1000) / cells).toFixed(1)} µs/cell)`);
}

/** The external-input index: first hash of a dataset-like tree, then unchanged re-hashes. */
async function measureIndex(files: number, dir: string): Promise<void> {
  const { FileIndex } = await import('../src/store/file-index.js');
  const root = join(dir, 'dataset');
  for (let c = 0; c < 100; c++) mkdirSync(join(root, `class${c}`), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(root, `class${i % 100}`, `img${i}.png`), `image bytes ${i}`);
  // Let the files age past the index's racy-timestamp window, as a real dataset has.
  await new Promise((r) => setTimeout(r, 300));
  const cache = join(dir, 'store', 'cache');
  for (const label of ['first (reads every file)', 'second (files hashed just now are re-checked)', 'unchanged']) {
    const t0 = performance.now();
    const index = new FileIndex(cache);
    const r = index.hashPath(root);
    index.flush();
    index.close();
    console.log(`index ${files} files, ${label}: ${(performance.now() - t0).toFixed(0)} ms, ${r.filesRead} files read`);
    await new Promise((res) => setTimeout(res, 300));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sei-plan-bench-'));
try {
  writeFileSync(join(dir, 'package.json'), '{}');
  await measure('sweep-1k', 100, 10, dir);
  await measure('sweep-10k', 100, 100, dir);
  await measureIndex(Number(process.env.SEI_BENCH_FILES ?? 100_000), dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
