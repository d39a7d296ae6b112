// The importance stage's choices: the named reference config resolves to the reference code's
// choices, the schema refuses unknown ones, and the report states them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '../../src/pipeline/load.js';
import { importanceChoices } from '../../src/report/document.js';
import type { ImportanceModel } from '../../src/report/model.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const pipeline = (importanceParams: string) => `name: choices
stages:
  data: { stage: prepare-dataset, params: { dataset: { use: datasets/synthetic-demo } } }
  base: { stage: train-base, inputs: { dataset: data }, params: { model: { use: models/vgg16-demo }, training: { use: training/demo } } }
  importance: { stage: importance, inputs: { dataset: data, base: base }, params: ${importanceParams} }
`;

describe('importance choices', function () {
  this.timeout(60_000);
  let dir = '';
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'sei-choices-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (params: string) => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, pipeline(params));
    return loadPipeline(file, { projectRoot: repo });
  };

  it('configs/importance/reference.yaml gives the reference code\'s choices; the defaults are the paper\'s', async () => {
    const ref = await load('{ use: importance/reference }');
    const p = ref.instances.importance!.cells[0]!.params as Record<string, unknown>;
    assert.deepEqual({ target: p.target, split: p.split, imagesPerClass: p.imagesPerClass, readPoint: p.readPoint, candidates: p.candidates },
      { target: 'predicted', split: 'test', imagesPerClass: 'all', readPoint: 'reference', candidates: 'reference' });
    const def = (await load('{}')).instances.importance!.cells[0]!.params as Record<string, unknown>;
    assert.deepEqual({ target: def.target, split: def.split, imagesPerClass: def.imagesPerClass, readPoint: def.readPoint, candidates: def.candidates },
      { target: 'label', split: 'train', imagesPerClass: 32, readPoint: 'post-activation', candidates: 'strict' });
  });

  it('an unknown read point is a config error naming the field', async () => {
    await assert.rejects(load('{ readPoint: before-relu }'), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /readPoint/);
      return true;
    });
  });

  it('the report states every choice a curve was made with', () => {
    const imp = { target: 'predicted', imagesPerClass: 'all', split: 'test', images: 500, readPoint: 'reference', candidateRule: 'reference' } as ImportanceModel;
    const text = importanceChoices(imp);
    for (const part of ['target predicted class', 'all test images (500 scored)', 'VGG convolutions before ReLU', "reference code's rule", 'inference mode']) {
      assert.ok(text.includes(part), `${part} missing from: ${text}`);
    }
    const def = importanceChoices({ ...imp, target: 'label', imagesPerClass: 32, split: 'train', readPoint: 'post-activation', candidateRule: 'strict' });
    assert.match(def, /the first 32 train images of each class .*after its activation.*strict local maxima/);
  });
});
