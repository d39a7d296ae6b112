import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStage } from '../../src/pipeline/registry.js';
import { clearCodeHashMemo, importClosure, loadedSpecifiers, stageCodeHash } from '../../src/pipeline/code-hash.js';
import { explainChange, formatReason } from '../../src/pipeline/explain.js';

describe('code hash: the stage module\'s import graph', () => {
  let root: string;
  let saved: string | undefined;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sei-codehash-'));
    mkdirSync(join(root, 'stages', 'uses-helper'), { recursive: true });
    mkdirSync(join(root, 'lib', 'deep'), { recursive: true });
    // The stage lists no codeDeps at all: only the import graph can see its helpers.
    writeFileSync(join(root, 'stages', 'uses-helper', 'index.js'), [
      "import { helper } from '../../lib/helper.js';",
      'export default { name: "uses-helper", description: "x", params: { type: "object", properties: {} }, inputs: {}, codeDeps: [],',
      '  async run() { const { later } = await import("../../lib/deep/later.js"); return { metrics: { v: helper() + later() } }; } };',
    ].join('\n'));
    writeFileSync(join(root, 'lib', 'helper.js'), 'export function helper() { return 1; }\n');
    writeFileSync(join(root, 'lib', 'deep', 'later.js'), 'export function later() { return 2; }\n');
    saved = process.env.SEI_STAGE_PATH;
    process.env.SEI_STAGE_PATH = join(root, 'stages');
  });

  after(() => {
    if (saved === undefined) delete process.env.SEI_STAGE_PATH; else process.env.SEI_STAGE_PATH = saved;
    rmSync(root, { recursive: true, force: true });
    clearCodeHashMemo();
  });

  it('follows static and literal dynamic relative imports', async () => {
    clearCodeHashMemo();
    const files = importClosure(join(root, 'stages', 'uses-helper', 'index.js'));
    assert.deepEqual(files.map((f) => f.slice(root.length)), ['/lib/deep/later.js', '/lib/helper.js', '/stages/uses-helper/index.js']);
  });

  it('a change in an imported helper outside codeDeps re-keys the stage and is named', async () => {
    clearCodeHashMemo();
    const stage = await loadStage('uses-helper');
    const before = stageCodeHash(stage);
    writeFileSync(join(root, 'lib', 'deep', 'later.js'), 'export function later() { return 3; }\n');
    clearCodeHashMemo();
    const after = stageCodeHash(stage);
    assert.notEqual(after.codeHash, before.codeHash);
    const changed = Object.keys(after.codeHashes).filter((k) => after.codeHashes[k] !== before.codeHashes[k]);
    assert.deepEqual(changed, [`imports:${join(root, 'lib', 'deep')}`]);
    const parts = (h: typeof before) => ({ paramsHash: 'p', params: {}, codeHash: h.codeHash, codeHashes: h.codeHashes, externalHashes: {}, upstreamKeys: {} });
    const reasons = explainChange(parts(before), parts(after)).map(formatReason);
    assert.deepEqual(reasons, [`code of ${join(root, 'lib', 'deep')} (imported by the stage) changed`]);
  });

  it('lexes modules: follows re-exports and new URL(..., import.meta.url) assets, not look-alikes in strings or comments', () => {
    const source = [
      "export { a } from './re-export.js';",
      "export * from './star.js';",
      "const wasm = new URL('./assembly/kernels.wasm', import.meta.url);",
      "const text = \"import x from './in-a-string.js'\";",
      "// import y from './in-a-comment.js';",
      "const computed = import(name + '.js');",
      "const here = import.meta.url;",
      "import tf from '@tensorflow/tfjs';",
    ].join('\n');
    assert.deepEqual(loadedSpecifiers(source).sort(), ['./assembly/kernels.wasm', './re-export.js', './star.js']);
  });

  it('an asset the code locates with new URL enters the key, and a change to it is named', async () => {
    clearCodeHashMemo();
    mkdirSync(join(root, 'stages', 'uses-asset'), { recursive: true });
    mkdirSync(join(root, 'lib', 'blobs'), { recursive: true });
    writeFileSync(join(root, 'lib', 'blobs', 'table.bin'), 'v1');
    writeFileSync(join(root, 'lib', 'reader.js'), "export const TABLE = new URL('./blobs/table.bin', import.meta.url);\n");
    writeFileSync(join(root, 'stages', 'uses-asset', 'index.js'), [
      "import { TABLE } from '../../lib/reader.js';",
      'export default { name: "uses-asset", description: "x", params: { type: "object", properties: {} }, inputs: {}, codeDeps: [],',
      '  async run() { return { metrics: { table: String(TABLE) } }; } };',
    ].join('\n'));
    const stage = await loadStage('uses-asset');
    const before = stageCodeHash(stage);
    assert.ok(`imports:${join(root, 'lib', 'blobs')}` in before.codeHashes, Object.keys(before.codeHashes).join(' '));
    writeFileSync(join(root, 'lib', 'blobs', 'table.bin'), 'v2');
    clearCodeHashMemo();
    const after = stageCodeHash(stage);
    const changed = Object.keys(after.codeHashes).filter((k) => after.codeHashes[k] !== before.codeHashes[k]);
    assert.deepEqual(changed, [`imports:${join(root, 'lib', 'blobs')}`]);
  });

  it('the training stages reach the compiled SIMD kernel module; the others do not', async () => {
    clearCodeHashMemo();
    const saved2 = process.env.SEI_STAGE_PATH;
    delete process.env.SEI_STAGE_PATH;
    try {
      for (const name of ['train-base', 'split-retrain', 'importance', 'evaluate']) {
        const stage = await loadStage(name);
        assert.ok('imports:src/ml/kernels/assembly' in stageCodeHash(stage).codeHashes, name);
        assert.equal(stage.usesBackend, true, name);
      }
      for (const name of ['prepare-dataset', 'simulate', 'recommend', 'validate']) {
        assert.ok(!('imports:src/ml/kernels/assembly' in stageCodeHash(await loadStage(name)).codeHashes), name);
      }
    } finally {
      process.env.SEI_STAGE_PATH = saved2;
    }
  });

  it('built-in stages reach the shared folders they import (e.g. src/util)', async () => {
    clearCodeHashMemo();
    const saved2 = process.env.SEI_STAGE_PATH;
    delete process.env.SEI_STAGE_PATH;
    try {
      const { codeHashes } = stageCodeHash(await loadStage('prepare-dataset'));
      assert.ok('imports:src/util' in codeHashes, Object.keys(codeHashes).join(' '));
      assert.ok('imports:src/data' in codeHashes);
      // Assets no import reaches are declared: the ns-3 scenario, C++ read at run time.
      const simulate = stageCodeHash(await loadStage('simulate')).codeHashes;
      assert.ok('src/netsim/ns3' in simulate && 'imports:src/netsim' in simulate, Object.keys(simulate).join(' '));
    } finally {
      process.env.SEI_STAGE_PATH = saved2;
    }
  });
});
