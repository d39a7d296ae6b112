// Rebuilding the store's index from its artifact folders: a store of N cells (default 1,000;
// SEI_BENCH_CELLS=n) whose database was lost. Each folder is laid out as a run leaves it (an
// output file, result.json, cell.json with its manifest). Target: under 2 s for 1,000 cells.
// Run: npm run build && npm run bench:store
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArtifactRecord } from '../src/store/artifact-record.js';
import { takeManifest } from '../src/store/manifest.js';
import { rebuildIndex } from '../src/store/rebuild.js';
import { DB_FILE, openStore } from '../src/store/store.js';
import { hashJson, sha256 } from '../src/util/hash.js';

const cells = Number(process.env.SEI_BENCH_CELLS ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'sei-store-bench-'));
try {
  const store = openStore(join(dir, 'st'));
  const t0 = performance.now();
  for (let i = 0; i < cells; i++) {
    const params = { text: `t${i}`, repeat: 1 + (i % 7) };
    const id = sha256('write-text', 'words', hashJson(params));
    const key = sha256(id, 'code');
    const out = join(store.tmpDir, key);
    mkdirSync(out);
    writeFileSync(join(out, 'text.txt'), `t${i}`.repeat(200));
    writeFileSync(join(out, 'result.json'), JSON.stringify({ metrics: { length: 200, i }, provenance: { host: 'bench', durationMs: 3 } }));
    const manifest = await takeManifest(out);
    const now = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    writeArtifactRecord(out, {
      cellId: id, key, pipeline: 'bench', instance: 'words', stage: 'write-text', slot: `words{"i":${i}}`, position: i,
      coords: { i }, params, paramsDigest: hashJson(params), inputs: {},
      keyParts: { paramsHash: hashJson(params), params, codeHash: sha256('code'), codeHashes: {}, externalHashes: {}, upstreamKeys: {} },
      manifest, attempt: { runId: 'bench', n: 1, startedAt: now, endedAt: now, durationMs: 3, logPath: 'logs/bench/x.log' },
    });
    mkdirSync(join(store.objectsDir, key.slice(0, 2)), { recursive: true });
    const { renameSync } = await import('node:fs');
    renameSync(out, join(store.objectsDir, key.slice(0, 2), key));
  }
  store.close();
  console.log(`store of ${cells} artifact folders written in ${(performance.now() - t0).toFixed(0)} ms`);

  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, 'st', DB_FILE + suffix), { force: true });
    const t1 = performance.now();
    const st = openStore(join(dir, 'st'));
    const r = await rebuildIndex(st);
    st.close();
    const ms = performance.now() - t1;
    times.push(ms);
    if (r.indexed !== cells) throw new Error(`indexed ${r.indexed} of ${cells} folders`);
    console.log(`rebuild (open a new database, read and check ${r.folders} folders, index them, close): ${ms.toFixed(0)} ms`);
  }
  const best = Math.min(...times);
  console.log(`best ${best.toFixed(0)} ms for ${cells} cells (${((best * 1000) / cells).toFixed(0)} µs/cell); goal < 2000 ms for 1,000`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
