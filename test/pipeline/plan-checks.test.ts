// Plan-time checks beyond the schema: a gathered input smaller than the stage's minItems, and a
// dry run over external inputs that are absent (cells planned as blocked, keyed with a
// placeholder, everything downstream blocked too).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/util/errors.js';
import { loadPipeline } from '../../src/pipeline/load.js';
import { buildPlan, MISSING_INPUT_HASH } from '../../src/pipeline/plan.js';
import { TempProject, expectConfigError, useFixtureStages } from './helpers.js';

describe('plan: minItems and missing external inputs', () => {
  useFixtureStages();
  let p: TempProject;
  beforeEach(() => { p = new TempProject(); });
  afterEach(() => p.remove());

  const gather = (texts: string[]) => [
    'name: x',
    'stages:',
    '  words:',
    '    stage: write-text',
    `    sweep: { grid: { text: [${texts.join(', ')}] } }`,
    '  all:',
    '    stage: concat-three',
    '    inputs: { parts: { from: words, gather: [text] } }',
  ].join('\n') + '\n';

  it('a gathered input with fewer cells than minItems is a config error naming instance, input, count and minimum', async () => {
    const f = p.write('pipe.yaml', gather(['a', 'b']));
    const err = await expectConfigError(p.plan('pipe.yaml'),
      `${f}:8:22: stages.all.inputs.parts: gathers 2 cells from 'words' (text=a, text=b) but stage 'concat-three' needs at least 3`);
    assert.equal(err.problems.length, 1);
    p.write('pipe.yaml', gather(['a', 'b', 'c']));
    const plan = await p.plan('pipe.yaml');
    assert.equal(plan.cells.filter((c) => c.instance === 'all').length, 1);
    assert.equal(plan.cells.find((c) => c.instance === 'all')!.inputs.parts.cellIds.length, 3);
  });

  it('minItems is checked per group: each short group is named with its cell', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  words:',
      '    stage: write-text',
      '    sweep:',
      '      grid: { text: [a, b, c], repeat: [1, 2] }',
      '      exclude: [ { text: c, repeat: 2 } ]',
      '  all:',
      '    stage: concat-three',
      '    inputs: { parts: { from: words, gather: [text] } }',
    ].join('\n') + '\n');
    const err = await expectConfigError(p.plan('pipe.yaml'),
      `${f}:10:22: stages.all.inputs.parts: gathers 2 cells from 'words' (text=a, text=b) but stage 'concat-three' needs at least 3 (in the cell {repeat=2})`);
    assert.equal(err.problems.length, 1);
  });


  it('a missing external input: a config error by default; in a dry run the cell and its downstream are blocked', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  r: { stage: read-file, params: { path: data/absent } }',
      '  e:',
      '    stage: append-text',
      '    inputs: { source: r }',
      '    sweep: { grid: { suffix: ["1", "2"] } }',
      '  all: { stage: concat, inputs: { parts: { from: e, gather: [suffix] } } }',
      '  free: { stage: write-text, params: { text: free } }',
    ].join('\n') + '\n');
    const missing = p.path('data/absent');
    const err = await expectConfigError(p.plan('pipe.yaml'), `${f}:3:42: stages.r.params.path: external input ${missing} does not exist`);
    assert.equal(err.problems.length, 1, err.message);

    const loaded = await p.load('pipe.yaml');
    const plan = await buildPlan(loaded, { storeDir: p.path('store'), allowMissingInputs: true });
    assert.deepEqual(plan.cells.map((c) => c.instance), ['r', 'e', 'e', 'all', 'free']);
    const [r, e1, e2, all, free] = plan.cells;
    assert.deepEqual(r.blocked, { missing: [missing], reason: `input ${missing} missing` });
    assert.deepEqual(r.keyParts.externalHashes, { [missing]: MISSING_INPUT_HASH });
    for (const c of [e1, e2]) assert.deepEqual(c.blocked, { missing: [missing], reason: `upstream r: input ${missing} missing` });
    assert.deepEqual(all.blocked, { missing: [missing], reason: `upstream r: input ${missing} missing` });
    assert.equal(free.blocked, undefined);
    // Ids do not depend on external content; the placeholder only enters the keys.
    p.write('data/absent', 'now here');
    const present = await buildPlan(await p.load('pipe.yaml'), { storeDir: p.path('store'), allowMissingInputs: true });
    assert.ok(present.cells.every((c) => c.blocked === undefined));
    assert.deepEqual(present.cells.map((c) => c.id), plan.cells.map((c) => c.id));
    assert.notEqual(present.cells[0].key, r.key);
    assert.equal(present.cells[4].key, free.key);

    // A plan with blocked cells never runs, even handed to the orchestrator directly.
    const { runPlan } = await import('../../src/exec/orchestrator.js');
    const { rmSync } = await import('node:fs');
    rmSync(p.path('data/absent'));
    await assert.rejects(runPlan(plan, { store: p.path('store') }), (e: unknown) => e instanceof UsageError && e.message === `cannot run x: external input ${missing} missing`);
    assert.equal(existsSync(p.path('store')), false, 'no store created');
  });
});

describe('plan: minItems of the real validate stage', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

  it('the demo with two cut points stops at plan time: validate needs at least three', async () => {
    const demo = join(root, 'pipelines', 'demo.yaml');
    const loaded = await loadPipeline(demo, { projectRoot: root, sets: ['stages.retrain.sweep.grid.cut=[block1_pool, block2_pool]'] });
    const err = await expectConfigError(buildPlan(loaded, { storeDir: join(root, 'no-such-store') }),
      /pipelines\/demo\.yaml:\d+:\d+: stages\.validate\.inputs\.evaluations: gathers 2 distinct cut values in 2 cells from 'evaluate' \(cut=block1_pool, cut=block2_pool\) but stage 'validate' needs at least 3 distinct cut values \(in the cell \{dataset\.classes=/);
    assert.equal(err.problems.length, 1, err.message);
    // Seeds do not make up for cut points: 2 cuts × 2 seeds is 4 cells but still 2 cut points.
    const seeded = await loadPipeline(demo, { projectRoot: root, sets: [
      'stages.retrain.sweep.grid.cut=[block1_pool, block2_pool]', 'stages.retrain.sweep.grid.seed=[0, 1]',
      'stages.validate.inputs.evaluations.gather=[cut, seed]', 'stages.simulate.inputs.evaluations.gather=[cut, seed]'] });
    await expectConfigError(buildPlan(seeded, { storeDir: join(root, 'no-such-store') }),
      /stages\.validate\.inputs\.evaluations: gathers 2 distinct cut values in 4 cells from 'evaluate' .* needs at least 3 distinct cut values/);
    const three = await loadPipeline(demo, { projectRoot: root, sets: ['stages.retrain.sweep.grid.cut=[block1_pool, block2_pool, block3_pool]'] });
    const plan = await buildPlan(three, { storeDir: join(root, 'no-such-store') });
    assert.equal(plan.cells.filter((c) => c.instance === 'validate').length, 3);
  });
});
