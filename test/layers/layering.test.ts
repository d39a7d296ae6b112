// Keeps the layering of src/ (test/layers/imports.ts) from eroding: folder-level imports that run
// upward, import cycles between files, and `as never` / `as unknown as` casts outside src/ml.
// Each list is what is left today; the test fails when one grows (and when one shrinks, so the
// list is kept honest). `npm run layers` prints the same figures.
import { strict as assert } from 'node:assert';
import { castCounts, folderImports, importCycles, importEdges, LAYERS } from './imports.js';

describe('layering of src/', () => {
  const edges = importEdges();

  it('reads a real import graph', () => {
    assert.ok(edges.length > 200, `${edges.length} imports`);
    assert.ok(edges.some((e) => e.from === 'pipeline/plan.ts' && e.to === 'pipeline/code-hash.ts'));
    assert.ok(edges.some((e) => e.dynamic && e.from === 'stages/train-base/index.ts' && e.to === 'stages/train-base/run.ts'));
  });

  it('every folder imports only lower layers (no folder imports src/cli)', () => {
    const upward = folderImports(edges).filter((f) => f.upward).map((f) => `${f.from} -> ${f.to}`);
    assert.deepEqual(upward, [], `upward imports against ${LAYERS.map((l) => l.join('|')).join(' < ')}`);
  });

  it('import cycles between files', () => {
    assert.deepEqual(importCycles(edges).map((c) => c.join(' <-> ')), []);
  });

  it('as never / as unknown as outside src/ml only at documented boundaries', () => {
    // src/report/render-figure.ts: JSON-built Vega-Lite specifications handed to vega's typings.
    assert.deepEqual(castCounts(), { 'report/render-figure.ts': 3 });
  });
});
