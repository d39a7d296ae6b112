// Reuse: `use:` of named configs, extends/include layers, vars, --set overrides.
import assert from 'node:assert/strict';
import { TempProject, expectConfigError, fixturePipelines, useFixtureStages } from '../pipeline/helpers.js';
import { loadPipeline } from '../../src/pipeline/load.js';
import { parseSetPath } from '../../src/config/resolve.js';

describe('config resolution', () => {
  useFixtureStages();
  let p: TempProject;
  beforeEach(() => { p = new TempProject(); });
  afterEach(() => p.remove());

  it('use: loads configs/<kind>/<name>.yaml and deep-merges the sibling keys over it', async () => {
    p.write('configs/text/hello.yaml', 'text: hello\nrepeat: 2\nstyle: { prefix: ">", upper: true }\n');
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { use: text/hello, repeat: 3, style: { upper: false } }\n');
    const l = await p.load('pipe.yaml');
    assert.deepEqual(l.instances.a.cells[0].params, {
      text: 'hello', repeat: 3, style: { prefix: '>', upper: false },
      sleepMs: 0, failTimes: 0, crash: 'none', output: 'text.txt',
    });
  });

  it('a config may use another config; use cycles are errors', async () => {
    p.write('configs/text/base.yaml', 'text: base\nrepeat: 4\n');
    p.write('configs/text/derived.yaml', 'use: text/base\ntext: derived\n');
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { use: text/derived } }\n');
    const l = await p.load('pipe.yaml');
    assert.equal((l.instances.a.cells[0].params as { text: string }).text, 'derived');
    assert.equal((l.instances.a.cells[0].params as { repeat: number }).repeat, 4);
    const f = p.write('configs/text/base.yaml', 'use: text/derived\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:1:6: stages.a.params.use: use cycle: text/derived → text/base → text/derived`);
  });

  it('config names cannot leave configs/', async () => {
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { use: ../secret } }\n');
    await expectConfigError(p.load('pipe.yaml'), 'expected a config name <kind>/<name>');
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { use: text/../../secret } }\n');
    await expectConfigError(p.load('pipe.yaml'), 'expected a config name <kind>/<name>');
  });

  it('extends (relative to the file) and include: layered, this file wins, positions from each file', async () => {
    p.write('pipelines/base/base.yaml', 'name: base\nstages:\n  a: { stage: write-text, params: { text: base, repeat: 2 } }\n');
    const frag = p.write('pipelines/frag.yaml', 'stages:\n  a: { params: { repeat: 5, repeet: 1 } }\n');
    p.write('pipelines/main.yaml', 'extends: base/base.yaml\ninclude: [frag.yaml]\nname: main\nstages:\n  a: { params: { text: main } }\n');
    const e = await expectConfigError(p.load('pipelines/main.yaml'), `${frag}:2:29: stages.a.params.repeet: unknown key "repeet"`);
    assert.equal(e.problems.length, 1);
    p.write('pipelines/frag.yaml', 'stages:\n  a: { params: { repeat: 5 } }\n  b: { stage: append-text, inputs: { source: a } }\n');
    const l = await p.load('pipelines/main.yaml');
    assert.equal(l.name, 'main');
    assert.deepEqual(l.order, ['a', 'b']);
    const params = l.instances.a.cells[0].params as { text: string; repeat: number };
    assert.equal(params.text, 'main');
    assert.equal(params.repeat, 5);
    assert.equal(l.doc.extends, undefined);
  });

  it('extends/include cycles are errors naming the files', async () => {
    p.write('a.yaml', 'extends: b.yaml\nname: a\n');
    const b = p.write('b.yaml', 'include: [a.yaml]\nstages: {}\n');
    await expectConfigError(p.load('a.yaml'), `${b}:1:`, 'extends/include cycle:', 'a.yaml → ', 'b.yaml → ');
  });

  it('a missing extends file is reported where it is named', async () => {
    const f = p.write('pipe.yaml', 'name: x\nextends: nothere.yaml\nstages: {}\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:2:10: extends: file not found:`);
  });

  it('vars: whole-value substitution keeps the type; inside strings it interpolates', async () => {
    p.write('configs/text/hello.yaml', 'text: hello\n');
    p.write('pipe.yaml', [
      'name: x',
      'vars: { n: 3, texts: [a, b], cfg: text/hello, word: hi, both: "${vars.word}-${vars.n}" }',
      'stages:',
      '  a:',
      '    stage: write-text',
      '    params: { use: "${vars.cfg}", repeat: "${vars.n}", style: { prefix: "<${vars.word}>" } }',
      '    sweep: { grid: { text: "${vars.texts}" } }',
      '  b: { stage: write-text, params: { text: "${vars.both}" } }',
    ].join('\n'));
    const l = await p.load('pipe.yaml');
    assert.equal(l.instances.a.cells.length, 2);
    assert.deepEqual(l.instances.a.cells.map((c) => c.params.text), ['a', 'b']);
    assert.equal(l.instances.a.cells[0].params.repeat, 3);
    assert.deepEqual(l.instances.a.cells[0].params.style, { prefix: '<hi>', upper: false });
    assert.equal(l.instances.b.cells[0].params.text, 'hi-3');
  });

  it('unknown variables and variable cycles are errors', async () => {
    const f = p.write('pipe.yaml', 'name: x\nvars: { a: "${vars.b}", b: "${vars.a}" }\nstages:\n  a: { stage: write-text, params: { text: "${vars.nope}" } }\n');
    const e = await expectConfigError(p.load('pipe.yaml'), `${f}:4:43: stages.a.params.text: unknown variable vars.nope (defined: a, b)`, `${f}:2:28: vars.b: variable cycle: vars.a → vars.b → vars.a`);
    assert.equal(e.problems.length, 2);
  });

  it('--set overrides any path; values parse as YAML', async () => {
    p.write('configs/text/hello.yaml', 'text: hello\nrepeat: 2\n');
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { use: text/hello }\n    sweep: { grid: { "style.prefix": [x] } }\n');
    const l = await p.load('pipe.yaml', {
      sets: ['stages.a.params.repeat=7', 'stages.a.params.style.upper=true', 'stages.a.sweep.grid."style.prefix"=[p, q, r]', 'stages.a.timeoutSec=2.5'],
    });
    assert.equal(l.instances.a.cells.length, 3);
    assert.deepEqual(l.instances.a.cells.map((c) => c.params.style), [
      { prefix: 'p', upper: true }, { prefix: 'q', upper: true }, { prefix: 'r', upper: true }]);
    assert.equal(l.instances.a.cells[0].params.repeat, 7);
    assert.equal(l.instances.a.cells[0].params.text, 'hello');
    assert.equal(l.instances.a.timeoutSec, 2.5);
  });

  it('--set reaches values that came from vars and can replace a use: name; vars.* sets feed substitution', async () => {
    p.write('configs/text/hello.yaml', 'text: hello\nrepeat: 2\n');
    p.write('configs/text/bye.yaml', 'text: bye\n');
    p.write('pipe.yaml', 'name: x\nvars: { t: { use: text/hello }, n: 1 }\nstages:\n  a: { stage: write-text, params: "${vars.t}" }\n  b: { stage: write-text, params: { text: b, repeat: "${vars.n}" } }\n');
    const l = await p.load('pipe.yaml', { sets: ['stages.a.params.repeat=9', 'vars.n=4'] });
    assert.deepEqual([l.instances.a.cells[0].params.text, l.instances.a.cells[0].params.repeat], ['hello', 9]);
    assert.equal(l.instances.b.cells[0].params.repeat, 4);
    const l2 = await p.load('pipe.yaml', { sets: ['stages.a.params.use=text/bye'] });
    assert.deepEqual([l2.instances.a.cells[0].params.text, l2.instances.a.cells[0].params.repeat], ['bye', 1]);
  });

  it('a sweep can range over named configs', async () => {
    p.write('configs/text/hello.yaml', 'text: hello\n');
    p.write('configs/text/bye.yaml', 'text: bye\nrepeat: 2\n');
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { text: x }\n    sweep: { grid: { style: [{ prefix: "<" }, { prefix: ">" }], repeat: [1, 3] } }\n');
    const l = await p.load('pipe.yaml');
    assert.equal(l.instances.a.cells.length, 4);
    assert.deepEqual(l.instances.a.cells[3].params.style, { prefix: '>', upper: false });
    // a use: inside a sweep value is expanded too; here it yields a mapping where a string is expected
    const p2 = p.path('pipe.yaml');
    p.write('pipe.yaml', 'name: x\nstages:\n  b:\n    stage: write-text\n    params: { text: x }\n    sweep: { grid: { style: [{ use: text/hello }] } }\n');
    await expectConfigError(p.load('pipe.yaml'), `${p.path('configs/text/hello.yaml')}:1:1: stages.b.sweep.grid.style[0].text: unknown key "text" (expected one of: upper, prefix)`);
    void p2;
  });

  it('--set errors name the --set argument', async () => {
    p.write('pipe.yaml', 'name: x\nstages:\n  retrain: { stage: write-text, params: { text: a } }\n');
    await expectConfigError(p.load('pipe.yaml', { sets: ['stages.retrain.params.repeat=three'] }),
      '--set stages.retrain.params.repeat=three: stages.retrain.params.repeat: expected integer >= 1, got "three"');
    await expectConfigError(p.load('pipe.yaml', { sets: ['stages.retrain.params.repat=3'] }),
      '--set stages.retrain.params.repat=3: stages.retrain.params.repat: unknown key "repat"');
    await expectConfigError(p.load('pipe.yaml', { sets: ['stages.retrain.params.repeat'] }), '--set stages.retrain.params.repeat: expected path=value');
    await expectConfigError(p.load('pipe.yaml', { sets: ['stages.retrain.params.text.x=1'] }), 'cannot set inside "a"');
    await expectConfigError(p.load('pipe.yaml', { sets: ['stages.retrain.params.text=[1'] }), 'invalid YAML value');
  });

  it('include may be one file name; --set may index into lists', async () => {
    p.write('frag.yaml', 'stages:\n  a: { stage: write-text, params: { text: a }, sweep: { grid: { repeat: [1, 2, 3] } } }\n');
    p.write('pipe.yaml', 'name: x\ninclude: frag.yaml\n');
    const l = await p.load('pipe.yaml', { sets: ['stages.a.sweep.grid.repeat.1=5'] });
    assert.deepEqual(l.instances.a.cells.map((c) => c.params.repeat), [1, 5, 3]);
    await expectConfigError(p.load('pipe.yaml', { sets: ['stages.a.sweep.grid.repeat.7=5'] }), 'no list item 7 (the list has 3)');
  });

  it('--set paths: dotted, with quoted keys', () => {
    assert.deepEqual(parseSetPath('a.b.c'), ['a', 'b', 'c']);
    assert.deepEqual(parseSetPath('a."b.c".d'), ['a', 'b.c', 'd']);
    assert.deepEqual(parseSetPath('a."b.c"'), ['a', 'b.c']);
    assert.equal(parseSetPath('a..b'), undefined);
    assert.equal(parseSetPath('a."b'), undefined);
  });

  it('settings and requirements reach the loaded pipeline; unknown settings are errors', async () => {
    p.write('pipe.yaml', 'name: x\nsettings: { backend: wasm }\nrequirements: { latencyMs: 50 }\nstages:\n  a: { stage: write-text, params: { text: a } }\n');
    const l = await p.load('pipe.yaml');
    assert.deepEqual(l.settings, { backend: 'wasm', requirements: { latencyMs: 50 } });
    const f = p.write('pipe.yaml', 'name: x\nsettings: { backend: gpu, jbos: 2 }\nstages:\n  a: { stage: write-text, params: { text: a } }\n');
    await expectConfigError(p.load('pipe.yaml'),
      `${f}:2:22: settings.backend: expected one of "auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu", got "gpu"`,
      `${f}:2:27: settings.jbos: unknown key "jbos" (expected one of: backend, jobs)`);
  });

  it('the fixture pipeline loads with its own configs folder', async () => {
    const l = await loadPipeline(`${fixturePipelines}/basic.yaml`, { projectRoot: fixturePipelines });
    assert.deepEqual(l.order, ['words', 'shout', 'all']);
    assert.equal(l.instances.words.cells.length, 5);
    assert.deepEqual(l.instances.all.axes, ['style.prefix']);
  });
});
