// Cache keys change when params, code, upstream cells or external files change — and
// explainChange names the cause.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempProject, expectConfigError, fixtureStages, useFixtureStages } from './helpers.js';
import { explainChange, formatReason } from '../../src/pipeline/explain.js';
import { clearCodeHashMemo } from '../../src/pipeline/code-hash.js';
import type { Plan, PlannedCell } from '../../src/pipeline/types.js';

function bySlot(plan: Plan): Map<string, PlannedCell> {
  return new Map(plan.cells.map((c) => [c.slot, c]));
}

/** Reasons per slot of `after` compared with `before`, formatted. */
function reasons(before: Plan, after: Plan): Record<string, string[]> {
  const prev = bySlot(before);
  const out: Record<string, string[]> = {};
  for (const c of after.cells) {
    const p = prev.get(c.slot);
    if (p && p.key === c.key) continue;
    out[c.slot] = explainChange(p?.keyParts, c.keyParts).map(formatReason);
  }
  return out;
}

describe('plan: cache keys and why a cell is not cached', () => {
  useFixtureStages();
  let p: TempProject;
  beforeEach(() => { p = new TempProject(); });
  afterEach(() => p.remove());

  const chain = (repeat: number, suffix = '!') => [
    'name: x',
    'stages:',
    `  base: { stage: write-text, params: { text: a, repeat: ${repeat} } }`,
    '  cut: { stage: append-text, inputs: { source: base }, sweep: { grid: { suffix: [p, q] } } }',
    `  eval: { stage: append-text, inputs: { source: cut }, params: { suffix: "${suffix}" } }`,
  ].join('\n');

  it('a param change re-keys the cell and everything downstream; the reasons name param and upstream', async () => {
    p.write('pipe.yaml', chain(3));
    const before = await p.plan('pipe.yaml');
    p.write('pipe.yaml', chain(5));
    const after = await p.plan('pipe.yaml');
    assert.deepEqual(reasons(before, after), {
      base: ['param repeat changed: 3 → 5'],
      'cut{"suffix":"p"}': ['upstream base changed (input source)'],
      'cut{"suffix":"q"}': ['upstream base changed (input source)'],
      'eval{"suffix":"p"}': ['upstream cut changed (input source)'],
      'eval{"suffix":"q"}': ['upstream cut changed (input source)'],
    });
    // A downstream-only change leaves upstream cells cached.
    p.write('pipe.yaml', chain(5, '?'));
    const again = await p.plan('pipe.yaml');
    assert.deepEqual(reasons(after, again), {
      'eval{"suffix":"p"}': ['param suffix changed: "!" → "?"'],
      'eval{"suffix":"q"}': ['param suffix changed: "!" → "?"'],
    });
  });

  it('a new cell is "new"', () => {
    assert.deepEqual(explainChange(undefined, {
      paramsHash: 'x', params: {}, codeHash: 'c', codeHashes: {}, externalHashes: {}, upstreamKeys: {},
    }), [{ kind: 'new' }]);
  });

  it('formatReason covers every reason', () => {
    assert.equal(formatReason({ kind: 'param-changed', path: 'training.epochs', before: 3, after: 5 }), 'param training.epochs changed: 3 → 5');
    assert.equal(formatReason({ kind: 'param-changed', path: 'cut', before: undefined, after: 'block1_pool' }), 'param cut changed: (unset) → block1_pool');
    assert.equal(formatReason({ kind: 'code-changed', folder: 'src/ml' }), 'code of src/ml changed');
    assert.equal(formatReason({ kind: 'upstream-changed', input: 'base', instance: 'base' }), 'upstream base changed');
    assert.equal(formatReason({ kind: 'input-file-changed', path: '/data/x' }), 'input file /data/x changed');
    assert.equal(formatReason({ kind: 'artifact-damaged', detail: 'hash mismatch' }), 'artifact damaged: hash mismatch');
    assert.equal(formatReason({ kind: 'failed-before', error: 'boom' }), 'failed before: boom');
    assert.equal(formatReason({ kind: 'interrupted' }), 'interrupted before it finished');
    assert.equal(formatReason({ kind: 'new' }), 'new');
  });

  it('a change of the stage code re-keys its cells (id unchanged) and names the folder', async () => {
    // A stage outside the package, whose codeDeps is an absolute folder the test edits.
    const stages = p.path('stages');
    const lib = p.path('lib');
    mkdirSync(join(stages, 'plug'), { recursive: true });
    mkdirSync(lib, { recursive: true });
    writeFileSync(join(lib, 'impl.js'), 'export const version = 1;\n');
    writeFileSync(join(stages, 'plug', 'index.js'), `export default {
      name: 'plug', description: 'test stage', inputs: {}, codeDeps: [${JSON.stringify(lib)}],
      params: { type: 'object', properties: { n: { type: 'integer', default: 1 } }, additionalProperties: false },
      async run() { return { metrics: {} }; },
    };\n`);
    const saved = process.env.SEI_STAGE_PATH;
    process.env.SEI_STAGE_PATH = `${fixtureStages}:${stages}`;
    try {
      p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: plug }\n  b: { stage: append-text, inputs: { source: a } }\n');
      clearCodeHashMemo();
      const before = await p.plan('pipe.yaml');
      assert.deepEqual(before.cells[0].params, { n: 1 });
      writeFileSync(join(lib, 'impl.js'), 'export const version = 2;\n');
      // Within one process the code hash is memoised: the code cannot change under a plan.
      assert.equal((await p.plan('pipe.yaml')).cells[0].key, before.cells[0].key);
      clearCodeHashMemo();
      const after = await p.plan('pipe.yaml');
      assert.equal(after.cells[0].id, before.cells[0].id);
      assert.notEqual(after.cells[0].key, before.cells[0].key);
      assert.deepEqual(reasons(before, after), { a: [`code of ${lib} changed`], b: ['upstream a changed (input source)'] });
    } finally {
      process.env.SEI_STAGE_PATH = saved;
      clearCodeHashMemo();
    }
  });

  it('the code hash covers the compiled code of the codeDeps folders and of the modules the stage imports', async () => {
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { text: a } }\n  c: { stage: concat, inputs: { parts: { from: a, gather: [] } } }\n');
    const plan = await p.plan('pipe.yaml');
    const [a, c] = plan.cells;
    assert.ok(Object.keys(a.keyParts.codeHashes).includes('test/fixtures/stages/write-text'));
    assert.ok(Object.keys(a.keyParts.codeHashes).includes('imports:test/fixtures/stages/write-text'));
    assert.ok(Object.keys(c.keyParts.codeHashes).includes('test/fixtures/stages/concat'));
    assert.ok(!Object.keys(c.keyParts.codeHashes).some((k) => k.includes('write-text')));
    assert.notEqual(a.keyParts.codeHash, c.keyParts.codeHash);
  });

  it('an external input file change re-keys the cell and is named; a missing one is a config error', async () => {
    const data = p.write('data/input.txt', 'one');
    p.write('pipe.yaml', `name: x\nstages:\n  r: { stage: read-file, params: { path: ${JSON.stringify(data)} } }\n  e: { stage: append-text, inputs: { source: r } }\n`);
    const before = await p.plan('pipe.yaml');
    assert.deepEqual(Object.keys(before.cells[0].keyParts.externalHashes), [data]);
    const same = await p.plan('pipe.yaml');
    assert.equal(same.cells[0].key, before.cells[0].key);
    writeFileSync(data, 'two');
    const after = await p.plan('pipe.yaml');
    assert.equal(after.cells[0].id, before.cells[0].id);
    assert.deepEqual(reasons(before, after), { r: [`input file ${data} changed`], e: ['upstream r changed (input source)'] });

    const f = p.write('pipe.yaml', 'name: x\nstages:\n  r: { stage: read-file, params: { path: data/missing.txt } }\n');
    await expectConfigError(p.plan('pipe.yaml'), `${f}:3:42: stages.r.params.path: external input ${p.path('data/missing.txt')} does not exist`);
  });

  it('top-level requirements reach stages with a requirements param: validated there and part of the key', async () => {
    const pipe = (max: string) => `name: x\nrequirements: { maxLength: ${max} }\nstages:\n  w: { stage: write-text, params: { text: a } }\n  c: { stage: check-limits, inputs: { source: w } }\n  own: { stage: check-limits, inputs: { source: w }, params: { requirements: { maxLength: 1 } } }\n`;
    p.write('pipe.yaml', pipe('5'));
    const before = await p.plan('pipe.yaml');
    const c = before.cells.find((x) => x.instance === 'c')!;
    assert.deepEqual(c.params, { requirements: { maxLength: 5 } });
    assert.deepEqual(before.cells.find((x) => x.instance === 'own')!.params, { requirements: { maxLength: 1 } });
    assert.deepEqual(before.settings.requirements, { maxLength: 5 });
    p.write('pipe.yaml', pipe('7'));
    const after = await p.plan('pipe.yaml');
    assert.deepEqual(reasons(before, after), { c: ['param requirements.maxLength changed: 5 → 7'] });
    const f = p.write('pipe.yaml', pipe('-1'));
    await expectConfigError(p.plan('pipe.yaml'), `${f}:2:28: requirements.maxLength: expected integer >= 0, got -1`);
  });

  it('a folder input is hashed by content: a file added, changed or renamed changes the key', async () => {
    p.write('data/set/a.txt', 'A');
    p.write('data/set/sub/b.txt', 'B');
    p.write('pipe.yaml', 'name: x\nstages:\n  r: { stage: read-file, params: { path: data/set } }\n');
    const k0 = (await p.plan('pipe.yaml')).cells[0].key;
    p.write('data/set/sub/c.txt', 'C');
    const k1 = (await p.plan('pipe.yaml')).cells[0].key;
    assert.notEqual(k1, k0);
    p.write('data/set/sub/c.txt', 'D');
    const k2 = (await p.plan('pipe.yaml')).cells[0].key;
    assert.notEqual(k2, k1);
    const { renameSync, rmSync } = await import('node:fs');
    renameSync(p.path('data/set/sub/c.txt'), p.path('data/set/sub/d.txt'));
    const k3 = (await p.plan('pipe.yaml')).cells[0].key;
    assert.notEqual(k3, k2);
    rmSync(p.path('data/set/sub/d.txt'));
    assert.equal((await p.plan('pipe.yaml')).cells[0].key, k0);
  });
});
