import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStage } from '../../src/pipeline/registry.js';
import { clearCodeHashMemo, importClosure, stageCodeHash } from '../../src/pipeline/code-hash.js';
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
