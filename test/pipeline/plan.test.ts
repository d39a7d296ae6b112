// Sweeps and the DAG: cell counts for grid/zip/exclude, joins and gathers, topological order,
// shared upstream work, stable ids.
import assert from 'node:assert/strict';
import { TempProject, expectConfigError, useFixtureStages } from './helpers.js';
import type { Plan, PlannedCell } from '../../src/pipeline/types.js';

function of(plan: Plan, instance: string): PlannedCell[] {
  return plan.cells.filter((c) => c.instance === instance);
}

describe('plan: sweeps and the DAG', () => {
  useFixtureStages();
  let p: TempProject;
  beforeEach(() => { p = new TempProject(); });
  afterEach(() => p.remove());

  it('grid is a cartesian product, zip walks lists together, exclude removes matching cells', async () => {
    p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  a:',
      '    stage: write-text',
      '    sweep:',
      '      grid: { text: [a, b, c], "style.upper": [true, false] }',
      '      zip: { repeat: [1, 2], "style.prefix": [">", "<"] }',
      '      exclude: [ { text: a, repeat: 2 }, { text: c, "style.upper": false } ]',
    ].join('\n'));
    const plan = await p.plan('pipe.yaml');
    const cells = of(plan, 'a');
    // 3 × 2 × 2 = 12, minus (a, repeat 2) ×2 upper, minus (c, upper false) ×2 zip rows
    assert.equal(cells.length, 8);
    assert.ok(cells.every((c) => Object.keys(c.coords).sort().join() === 'repeat,style.prefix,style.upper,text'));
    assert.ok(!cells.some((c) => c.coords.text === 'a' && c.coords.repeat === 2));
    assert.ok(!cells.some((c) => c.coords.text === 'c' && c.coords['style.upper'] === false));
    // zip keeps pairs together
    assert.ok(cells.every((c) => (c.coords.repeat === 1) === (c.coords['style.prefix'] === '>')));
    const first = cells[0].params as { text: string; repeat: number; style: { upper: boolean; prefix: string } };
    assert.deepEqual([first.text, first.style.upper, first.repeat, first.style.prefix], ['a', true, 1, '>']);
    assert.equal(new Set(cells.map((c) => c.id)).size, 8);
    assert.equal(new Set(cells.map((c) => c.slot)).size, 8);
  });

  it('a mapped input gives one downstream cell per upstream cell; shared upstream work is planned once', async () => {
    p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  base: { stage: write-text, params: { text: base } }',
      '  cut:',
      '    stage: append-text',
      '    inputs: { source: base }',
      '    sweep: { grid: { suffix: [p1, p2, p3] } }',
      '  eval: { stage: append-text, inputs: { source: cut }, params: { suffix: "!" } }',
    ].join('\n'));
    const plan = await p.plan('pipe.yaml');
    assert.equal(of(plan, 'base').length, 1);
    assert.equal(of(plan, 'cut').length, 3);
    const base = of(plan, 'base')[0];
    assert.ok(of(plan, 'cut').every((c) => c.inputs.source.cellIds[0] === base.id && c.keyParts.upstreamKeys.source === base.key));
    const evals = of(plan, 'eval');
    assert.equal(evals.length, 3);
    assert.deepEqual(evals.map((c) => c.coords.suffix), ['p1', 'p2', 'p3']);
    assert.deepEqual(evals.map((c) => c.inputs.source.cellIds[0]), of(plan, 'cut').map((c) => c.id));
    // topological order
    const pos = new Map(plan.cells.map((c, i) => [c.id, i]));
    for (const c of plan.cells) for (const inp of Object.values(c.inputs)) for (const id of inp.cellIds) assert.ok(pos.get(id)! < pos.get(c.id)!);
  });

  it('several swept inputs are joined on the coordinates they share', async () => {
    p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  data: { stage: write-text, sweep: { grid: { text: [d1, d2] } } }',
      '  model: { stage: append-text, inputs: { source: data }, sweep: { grid: { suffix: [m1, m2, m3] } } }',
      '  other: { stage: write-text, sweep: { grid: { text: [d1, d2], repeat: [1, 2] } } }',
      '  both: { stage: pair, inputs: { left: model, right: other } }',
    ].join('\n'));
    const plan = await p.plan('pipe.yaml');
    const both = of(plan, 'both');
    // model: 2 × 3 cells with coords {text, suffix}; other: {text, repeat}; join on text → 2 × 3 × 2
    assert.equal(both.length, 12);
    const byId = new Map(plan.cells.map((c) => [c.id, c]));
    for (const c of both) {
      const left = byId.get(c.inputs.left.cellIds[0])!;
      const right = byId.get(c.inputs.right.cellIds[0])!;
      assert.equal(left.coords.text, right.coords.text);
      assert.deepEqual(c.coords, { ...left.coords, ...right.coords });
    }
  });

  it('gather groups the upstream cells that differ only on the gathered axes', async () => {
    p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  w: { stage: write-text, sweep: { grid: { text: [a, b, c], repeat: [1, 2] } } }',
      '  byRepeat: { stage: concat, inputs: { parts: { from: w, gather: [text] } } }',
      '  all: { stage: concat, inputs: { parts: { from: w, gather: [text, repeat] } } }',
    ].join('\n'));
    const plan = await p.plan('pipe.yaml');
    const byRepeat = of(plan, 'byRepeat');
    assert.equal(byRepeat.length, 2);
    assert.deepEqual(byRepeat.map((c) => c.coords), [{ repeat: 1 }, { repeat: 2 }]);
    const byId = new Map(plan.cells.map((c) => [c.id, c]));
    for (const c of byRepeat) {
      assert.equal(c.inputs.parts.kind, 'many');
      const parts = c.inputs.parts.cellIds.map((id) => byId.get(id)!);
      assert.deepEqual(parts.map((x) => x.coords.text), ['a', 'b', 'c']);
      assert.ok(parts.every((x) => x.coords.repeat === c.coords.repeat));
      assert.equal((c.keyParts.upstreamKeys.parts as string[]).length, 3);
    }
    const all = of(plan, 'all');
    assert.equal(all.length, 1);
    assert.deepEqual(all[0].coords, {});
    assert.equal(all[0].inputs.parts.cellIds.length, 6);
  });

  it('exclusions may name inherited coordinates', async () => {
    p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  w: { stage: write-text, sweep: { grid: { text: [a, b, c] } } }',
      '  e: { stage: append-text, inputs: { source: w }, sweep: { exclude: [ { text: b } ] } }',
    ].join('\n'));
    const plan = await p.plan('pipe.yaml');
    assert.deepEqual(of(plan, 'e').map((c) => c.coords.text), ['a', 'c']);
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  w: { stage: write-text, sweep: { grid: { text: [a, b, c] } } }',
      '  e: { stage: append-text, inputs: { source: w }, sweep: { exclude: [ { text: z } ] } }',
    ].join('\n'));
    await expectConfigError(p.plan('pipe.yaml'), `${f}:4:71: stages.e.sweep.exclude[0]: this exclusion matches no cell of e`);
  });

  it('a join with no common coordinate values is an error', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  a: { stage: write-text, sweep: { grid: { text: [a, b] } } }',
      '  b: { stage: write-text, sweep: { grid: { text: [c, d] } } }',
      '  both: { stage: pair, inputs: { left: a, right: b } }',
    ].join('\n'));
    await expectConfigError(p.plan('pipe.yaml'), `${f}:5:32: stages.both.inputs: both has no cells`);
  });

  it('ids are stable when a sweep is extended: old cells keep their ids, new ones are added', async () => {
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, sweep: { grid: { text: [a, b] } } }\n  e: { stage: append-text, inputs: { source: a } }\n');
    const before = await p.plan('pipe.yaml');
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, sweep: { grid: { text: [z, a, y, b] } } }\n  e: { stage: append-text, inputs: { source: a } }\n');
    const after = await p.plan('pipe.yaml');
    const afterIds = new Set(after.cells.map((c) => c.id));
    const afterKeys = new Set(after.cells.map((c) => c.key));
    for (const c of before.cells) {
      assert.ok(afterIds.has(c.id), `${c.slot} kept its id`);
      assert.ok(afterKeys.has(c.key), `${c.slot} kept its key`);
    }
    assert.equal(after.cells.length, 8);
    // the same plan twice is identical
    assert.deepEqual(await p.plan('pipe.yaml'), after);
  });

  it('writing a default explicitly does not change the id', async () => {
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { text: a } }\n');
    const implicit = await p.plan('pipe.yaml');
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { text: a, repeat: 1, style: { upper: false }, output: text.txt } }\n');
    const explicit = await p.plan('pipe.yaml');
    assert.equal(explicit.cells[0].id, implicit.cells[0].id);
    assert.equal(explicit.cells[0].key, implicit.cells[0].key);
  });

  it('the plan carries settings, timeouts and retries', async () => {
    p.write('pipe.yaml', 'name: x\nsettings: { backend: wasm }\nstages:\n  a: { stage: write-text, params: { text: a }, timeoutSec: 30, retries: 2 }\n');
    const loaded = await p.load('pipe.yaml');
    const { buildPlan } = await import('../../src/pipeline/plan.js');
    const plan = await buildPlan(loaded, { storeDir: p.path('store'), settings: { backend: 'cpu' } });
    assert.deepEqual(plan.settings, { backend: 'cpu' });
    assert.equal(plan.cells[0].timeoutSec, 30);
    assert.equal(plan.cells[0].retries, 2);
    assert.equal(plan.pipeline.name, 'x');
    assert.equal(plan.pipeline.file, p.path('pipe.yaml'));
    assert.match(plan.pipeline.hash, /^[0-9a-f]{64}$/);
    assert.equal(plan.cells[0].slot, 'a');
  });
});
