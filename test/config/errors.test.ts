// Every bad input is a ConfigError (exit code 2) naming file:line:col, the field path and what
// was expected — and all problems of a config are reported together.
import assert from 'node:assert/strict';
import { TempProject, expectConfigError, useFixtureStages } from '../pipeline/helpers.js';
import { isUsageError } from '../../src/util/errors.js';

describe('config errors', () => {
  useFixtureStages();
  let p: TempProject;
  beforeEach(() => { p = new TempProject(); });
  afterEach(() => p.remove());

  it('malformed YAML: position of the syntax error', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { text: "unclosed }\n');
    const e = await expectConfigError(p.load('pipe.yaml'), `${f}:6:1: invalid YAML: Missing closing "quote`);
    assert.ok(isUsageError(e));
  });

  it('duplicate keys are a YAML error', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { text: a }\n    params: { text: b }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:6:5`, /unique/);
  });

  it('unknown key at the top level names the allowed keys', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstagez: {}\nstages:\n  a: { stage: write-text, params: { text: a } }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:2:1: stagez: unknown key "stagez" (expected one of: name, description, extends, include, vars, settings, requirements, executor, stages)`);
  });

  it('unknown key in a stage instance and in its params', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  a:',
      '    stage: write-text',
      '    timeout: 5',
      '    params:',
      '      text: a',
      '      repaet: 2',
      '      style: { upper: true, prefx: ">" }',
    ].join('\n'));
    const e = await expectConfigError(p.load('pipe.yaml'),
      `${f}:5:5: stages.a.timeout: unknown key "timeout" (expected one of: stage, description, params, inputs, sweep, timeoutSec, retries)`);
    assert.equal(e.problems.length, 1);
    // With the instance's shape fixed, its params are checked.
    p.write('pipe.yaml', [
      'name: x', 'stages:', '  a:', '    stage: write-text', '    params:', '      text: a', '      repaet: 2', '      style: { upper: true, prefx: ">" }',
    ].join('\n'));
    const e2 = await expectConfigError(p.load('pipe.yaml'),
      `${f}:7:7: stages.a.params.repaet: unknown key "repaet" (expected one of: text, repeat, sleepMs, failTimes, failCounter, crash, style, output)`,
      `${f}:8:29: stages.a.params.style.prefx: unknown key "prefx" (expected one of: upper, prefix)`);
    assert.equal(e2.problems.length, 2);
  });

  it('problems in the pipeline shape and in another instance\'s params come together', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstagez: 1\nstages:\n  a: { stage: write-text, retries: -1 }\n  b: { stage: write-text, params: { text: 1 } }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:2:1: stagez: unknown key`, `${f}:4:36: stages.a.retries: expected integer >= 0 <= 100, got -1`,
      `${f}:5:43: stages.b.params.text: expected string, got 1`);
  });

  it('wrong type: expected type and bounds, the value given', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  retrain:\n    stage: write-text\n    params:\n      text: a\n      repeat: three\n      crash: boom\n');
    await expectConfigError(p.load('pipe.yaml'),
      `${f}:7:15: stages.retrain.params.repeat: expected integer >= 1, got "three"`,
      `${f}:8:14: stages.retrain.params.crash: expected one of "none", "exit", "oom", got "boom"`);
  });

  it('missing required param', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { repeat: 2 }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:5:13: stages.a.params: missing required key "text" (string)`);
  });

  it('unknown stage lists the known ones', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-txt\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:4:12: stages.a.stage: unknown stage "write-txt" (known stages:`, 'write-text');
  });

  it('missing referenced config lists the available names of that kind', async () => {
    p.write('configs/text/hello.yaml', 'text: hello\n');
    p.write('configs/text/bye.yaml', 'text: bye\n');
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { use: text/helo }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:5:20: stages.a.params.use: unknown config "text/helo"`, '(available text: bye, hello)');
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { use: txt/hello }\n');
    await expectConfigError(p.load('pipe.yaml'), 'no folder configs/txt (available kinds: text)');
  });

  it('unknown key inside a used config is reported in that config file', async () => {
    const cfg = p.write('configs/text/hello.yaml', 'text: hello\nrepeat: 2\nstyle:\n  uper: true\n');
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { use: text/hello }\n');
    await expectConfigError(p.load('pipe.yaml'), `${cfg}:4:3: stages.a.params.style.uper: unknown key "uper" (expected one of: upper, prefix)`);
  });

  it('a wrong value inside a used config is reported in that config file', async () => {
    const cfg = p.write('configs/text/hello.yaml', 'text: hello\nrepeat: 0\n');
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { use: text/hello }\n');
    await expectConfigError(p.load('pipe.yaml'), `${cfg}:2:9: stages.a.params.repeat: expected integer >= 1, got 0`);
  });

  it('dependency cycle names the instances', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  a: { stage: append-text, inputs: { source: c } }',
      '  b: { stage: append-text, inputs: { source: a } }',
      '  c: { stage: append-text, inputs: { source: b } }',
    ].join('\n'));
    await expectConfigError(p.load('pipe.yaml'), `${f}:3:`, 'dependency cycle: a → c → b → a');
  });

  it('wiring: undeclared input, missing input, unknown upstream, kind mismatch', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  w: { stage: write-text, params: { text: a } }',
      '  a: { stage: append-text, inputs: { source: w, sauce: w } }',
      '  b: { stage: append-text }',
      '  c: { stage: append-text, inputs: { source: nope } }',
      '  d: { stage: concat, inputs: { parts: w } }',
      '  e: { stage: append-text, inputs: { source: { from: w, gather: [text] } } }',
    ].join('\n'));
    const e = await expectConfigError(p.load('pipe.yaml'),
      `${f}:4:49: stages.a.inputs.sauce: stage append-text has no input "sauce" (its inputs: source, extra)`,
      `${f}:5:3: stages.b: missing input "source" (required by stage append-text)`,
      `${f}:6:46: stages.c.inputs.source: unknown instance "nope" (instances: w, a, b, c, d, e)`,
      `stages.d.inputs.parts: input "parts" of stage concat takes many cells: wire it as { from: w, gather: [<axes of w>] }`,
      `stages.e.inputs.source.gather: input "source" of stage append-text takes one cell per downstream cell`);
    assert.equal(e.problems.length, 5);
  });

  it('in a union, each entry is explained on its own (a mapping: its unknown keys)', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  w: { stage: write-text, params: { text: a } }',
      '  a: { stage: append-text, inputs: { source: { from: w, gahter: [x] } } }',
      '  b: { stage: append-text, inputs: { source: 5 } }',
      '  c: { stage: write-text, params: { text: a }, sweep: { grid: { text: a } } }',
    ].join('\n'));
    const e = await expectConfigError(p.load('pipe.yaml'),
      `${f}:4:57: stages.a.inputs.source.gahter: unknown key "gahter" (expected one of: from, gather)`,
      `${f}:5:46: stages.b.inputs.source: expected string that is not empty or mapping with keys from, gather, got 5`,
      `${f}:6:71: stages.c.sweep.grid.text: expected list, got "a"`);
    assert.equal(e.problems.length, 3);
  });

  it('empty sweep: an empty list, or exclusions that remove everything', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    sweep: { grid: { text: [] } }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:5:28: stages.a.sweep.grid.text: empty sweep`);
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    sweep:\n      grid: { text: [a, b] }\n      exclude: [ { text: a }, { text: b } ]\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:7:16: stages.a.sweep.exclude: empty sweep: the exclusions remove every cell of a`);
  });

  it('zip lists of different lengths', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    sweep:\n      zip: { text: [a, b, c], repeat: [1, 2] }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:6:39: stages.a.sweep.zip.repeat: zip lists must have equal lengths: this one has 2 values, the first has 3`);
  });

  it('sweep keys must be params of the stage; sweep values are checked against their schema', async () => {
    const f = p.write('pipe.yaml', [
      'name: x',
      'stages:',
      '  a:',
      '    stage: write-text',
      '    params: { text: a }',
      '    sweep:',
      '      grid: { "style.prefx": [a], repeat: [1, two] }',
      '      exclude: [ { sed: 1 } ]',
    ].join('\n'));
    await expectConfigError(p.load('pipe.yaml'),
      `${f}:7:15: stages.a.sweep.grid."style.prefx": "style.prefx" is not a param of stage write-text (expected one of: style.upper, style.prefix)`,
      `${f}:7:47: stages.a.sweep.grid.repeat[1]: expected integer >= 1, got "two"`,
      `${f}:8:20: stages.a.sweep.exclude[0].sed: "sed" is not a coordinate of a`);
  });

  it('an exclusion that matches no cell is an error (a typo must not be ignored)', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    sweep:\n      grid: { text: [a, b] }\n      exclude: [ { text: c } ]\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:7:18: stages.a.sweep.exclude[0]: this exclusion matches no cell of a`);
  });

  it('unsafe names: instance names and pipeline names cannot escape the store', async () => {
    const f = p.write('pipe.yaml', 'name: ../evil\nstages:\n  "../up": { stage: write-text, params: { text: a } }\n  ok: { stage: write-text, params: { text: a } }\n');
    await expectConfigError(p.load('pipe.yaml'),
      `${f}:1:7: name: expected string matching /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, got "../evil"`);
    p.write('pipe.yaml', 'name: fine\nstages:\n  "../up": { stage: write-text, params: { text: a } }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:3:3: stages."../up": instance name "../up" must be made of letters`);
    p.write('bad name.yaml', 'stages:\n  a: { stage: write-text, params: { text: a } }\n');
    await expectConfigError(p.load('bad name.yaml'), 'the file name "bad name" is not one: add name: <name>');
  });

  it('unsafe output paths: absolute or with ".." are rejected', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { text: a, output: /etc/passwd } }\n  b: { stage: write-text, params: { text: a, output: sub/../../x.txt } }\n  c: { stage: write-text, params: { text: a, output: sub/x.txt } }\n');
    const e = await expectConfigError(p.load('pipe.yaml'),
      `${f}:3:54: stages.a.params.output: expected a relative path inside the cell folder (not absolute, no ".."), got "/etc/passwd"`,
      `${f}:4:54: stages.b.params.output: expected a relative path inside the cell folder`);
    assert.equal(e.problems.length, 2);
  });

  it('collects the problems of every file and phase in one error', async () => {
    p.write('configs/text/hello.yaml', 'text: hello\nrepaet: 2\n');
    p.write('pipe.yaml', 'name: x\nstages:\n  a: { stage: write-text, params: { use: text/hello } }\n  b: { stage: write-text, params: { text: 5 } }\n  c: { stage: append-text, inputs: { source: zzz } }\n');
    const e = await expectConfigError(p.load('pipe.yaml'), /3 problems in the pipeline config/);
    assert.deepEqual(e.problems.map((x) => x.path.join('.')).sort(), ['stages.a.params.repaet', 'stages.b.params.text', 'stages.c.inputs.source']);
  });

  it('a stage\'s own semantic checks (validate) are reported at its params, per cell', async () => {
    const f = p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { text: ab }\n    sweep: { grid: { repeat: [10, 600000] } }\n');
    const e = await expectConfigError(p.load('pipe.yaml'), `${f}:5:13: stages.a.params: text × repeat is 1200000 characters; at most 1000000 (in the cell {repeat=600000})`);
    assert.equal(e.problems.length, 1);
    // A message naming a param is placed at it, or at the sweep value that set it.
    p.write('pipe.yaml', 'name: x\nstages:\n  a:\n    stage: write-text\n    params: { text: ab }\n    sweep: { grid: { "style.prefix": [x, "y\\nz"] } }\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:6:42: stages.a.params.style.prefix: a prefix is one line (no line breaks) (in the cell {style.prefix="y\\nz"})`);
  });

  it('YAML anchors and aliases resolve to their values', async () => {
    p.write('pipe.yaml', 'name: x\nvars: { style: &s { prefix: ">" } }\nstages:\n  a: { stage: write-text, params: { text: a, style: *s } }\n');
    const l = await p.load('pipe.yaml');
    assert.deepEqual(l.instances.a.cells[0].params.style, { prefix: '>', upper: false });
  });

  it('a missing pipeline file is a usage error', async () => {
    await expectConfigError(p.load('nope.yaml'), 'file not found');
  });

  it('a top level that is not a mapping', async () => {
    const f = p.write('pipe.yaml', '- a\n- b\n');
    await expectConfigError(p.load('pipe.yaml'), `${f}:1:1: expected a mapping at the top`);
  });
});

describe('schema strictness', () => {
  it('objects that do not say additionalProperties are closed anyway', async () => {
    const { checkSchema } = await import('../../src/config/schema.js');
    const schema = { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'integer', default: 2 } } } } } as never;
    const issues = checkSchema(schema, { a: { c: 1 } }, true);
    assert.deepEqual(issues, [{ pointer: '/a/c', atKey: true, message: 'unknown key "c" (expected one of: b)' }]);
    const data = { a: {} };
    assert.deepEqual(checkSchema(schema, data, true), []);
    assert.deepEqual(data, { a: { b: 2 } });
  });
});
