import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStage, typeText } from '../../src/cli/stages-help/describe.js';
import { loadStage, stageNames } from '../../src/pipeline/registry.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sei(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(root, 'bin', 'sei.js'), ...args], { cwd: root, env: { ...process.env, SEI_STAGE_PATH: '' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('sei stages: the reference for writing pipelines', () => {
  it('describes types from the schema', () => {
    assert.equal(typeText({ type: 'integer', minimum: 1 }), 'integer ≥ 1');
    assert.equal(typeText({ anyOf: [{ const: 'label' }, { const: 'predicted' }] }), '"label" | "predicted"');
    assert.equal(typeText({ type: 'array', items: { type: 'string' } }), 'list of string');
    assert.equal(typeText({ type: 'array', items: [{ type: 'integer' }, { type: 'integer' }] }), '[integer, integer]');
  });

  it('every built-in stage describes its inputs, params with defaults, and outputs', async () => {
    const saved = process.env.SEI_STAGE_PATH;
    delete process.env.SEI_STAGE_PATH;
    try {
      for (const name of stageNames()) {
        const text = describeStage(await loadStage(name));
        assert.match(text, new RegExp(`^${name}: \\S`), name);
        assert.match(text, /\n {2}inputs:\n/);
        assert.match(text, /\n {2}params:\n/);
      }
      const retrain = describeStage(await loadStage('split-retrain'));
      assert.match(retrain, /\n {4}cut: string, required — /);
      assert.match(retrain, /\n {6}ratio: number, default 8 — /);
      assert.match(retrain, /regime: "bottleneck" \| "bottleneck\+classifier" \| "all", default "bottleneck"/);
      assert.match(retrain, /\n {2}writes:\n {4}model\.json/);
      const validate = describeStage(await loadStage('validate'));
      assert.match(validate, /evaluations: gathered list, at least 3 distinct cut values/);
    } finally {
      process.env.SEI_STAGE_PATH = saved;
    }
  });

  it('the command lists stages, shows one, and refuses an unknown name with the known ones', async () => {
    const list = await sei(['stages']);
    assert.equal(list.code, 0, list.stderr);
    for (const name of ['prepare-dataset', 'train-base', 'importance', 'split-retrain', 'evaluate', 'validate', 'simulate', 'recommend']) {
      assert.match(list.stdout, new RegExp(`^${name} +\\S`, 'm'));
    }
    const json = await sei(['stages', 'importance', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const def = JSON.parse(json.stdout) as { name: string; params: { properties: Record<string, unknown> } };
    assert.equal(def.name, 'importance');
    assert.ok('target' in def.params.properties);
    const bad = await sei(['stages', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown stage "nope" \(known stages: .*split-retrain/);
  });
});
