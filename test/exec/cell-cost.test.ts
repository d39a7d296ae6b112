// The memory and cost model at plan time: the model's sizes against the networks actually built,
// a training cell that cannot fit the wasm heap refused by `sei plan` and `sei run` before
// anything starts (with the numbers), a micro-batch chosen when unset, and `sei plan --estimate`.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../../src/exec/load-plan.js';
import { misfits, planCosts } from '../../src/exec/cell-cost.js';
import { networkCost, trainingMemory, largestMicroBatch, WASM_HEAP_BYTES, WASM_HEAP_USABLE } from '../../src/ml/cost-model.js';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sei(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(root, 'bin', 'sei.js'), ...args], { cwd: root }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A pipeline training full-width VGG16 at 224 px on the synthetic dataset (never run here). */
function pipeline(dir: string, training: string): string {
  const file = join(dir, 'big.yaml');
  writeFileSync(file, `name: big
settings: { backend: wasm }
stages:
  data:
    stage: prepare-dataset
    params:
      dataset: { use: datasets/synthetic-demo, resolution: 224 }
  base:
    stage: train-base
    inputs: { dataset: data }
    params:
      model: { arch: vgg16, width: 1 }
      training: { use: training/paper, ${training} }
`);
  return file;
}

describe('memory and cost model at plan time', function () {
  this.timeout(120000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sei-cost-'));
    // The project's named configs, where the loader looks for them (beside the pipeline).
    symlinkSync(join(root, 'configs'), join(dir, 'configs'));
    writeFileSync(join(dir, 'package.json'), '{}');
  });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('counts the parameters of the networks as built (VGG16, ResNet-50; narrow, small)', () => {
    for (const arch of ['vgg16', 'resnet50'] as const) {
      const spec = resolveModelSpec({ arch, inputSize: 64, inputChannels: 3, classes: 7, width: 0.25 });
      const net = buildNetwork(spec, 0);
      try {
        const cost = networkCost({ arch, height: 64, width: 64, inputChannels: 3, classes: 7, widthMultiplier: 0.25 });
        assert.equal(cost.params, net.model.countParams(), arch);
      } finally {
        net.dispose();
      }
    }
    // Full size, by the published counts: 138.36 M and 25.6 M parameters.
    assert.equal(Math.round(networkCost({ arch: 'vgg16', height: 224, width: 224, inputChannels: 3, classes: 1000, widthMultiplier: 1 }).params / 1e4), 13836);
  });

  it('chooses the largest micro-batch that fits, and none when the weights alone do not', () => {
    const vgg = networkCost({ arch: 'vgg16', height: 224, width: 224, inputChannels: 3, classes: 1000, widthMultiplier: 1 });
    const limit = WASM_HEAP_BYTES * WASM_HEAP_USABLE;
    const micro = largestMicroBatch(vgg, { optimizer: 'sgd', batch: 64 }, limit);
    assert.ok(micro >= 1 && micro < 64, `micro ${micro}`);
    assert.ok(trainingMemory(vgg, { optimizer: 'sgd', batch: 64, microBatch: micro }).totalBytes <= limit);
    assert.ok(trainingMemory(vgg, { optimizer: 'sgd', batch: 64, microBatch: micro + 1 }).totalBytes > limit);
    const huge = networkCost({ arch: 'vgg16', height: 224, width: 224, inputChannels: 3, classes: 1000, widthMultiplier: 3 });
    assert.equal(largestMicroBatch(huge, { optimizer: 'adam', batch: 64 }, limit), 0);
  });

  it('plans VGG16 at 224 px, batch 64, in micro-batches that fit the heap', async () => {
    const plan = await loadPlan(pipeline(dir, 'batchSize: 64'), { storeDir: join(dir, 'store'), allowMissingInputs: true });
    const costs = planCosts(plan);
    assert.equal(costs.length, 1);
    assert.ok(costs[0]!.microBatchChosen && costs[0]!.microBatch < 64);
    assert.ok(costs[0]!.fits);
    assert.deepEqual(misfits(costs), []);
  });

  it('sei plan and sei run refuse a cell that cannot fit, with the numbers, before anything starts', async () => {
    const file = pipeline(dir, 'batchSize: 64, microBatch: 32');
    const store = join(dir, 'store-refused');
    for (const cmd of ['plan', 'run']) {
      const r = await sei([cmd, file, '--store', store]);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /1 training cell cannot fit in memory/);
      assert.match(r.stderr, /vgg16 ×1 at 224×224 px, batch 64 in micro-batches of 32 needs weights 0\.52 GiB \+ optimizer state 0\.52 GiB/);
      assert.match(r.stderr, /more than the 3\.40 GiB usable of the 4 GiB wasm heap/);
      assert.ok(!existsSync(store), `${cmd} wrote nothing`);
    }
  });

  it('sei plan --estimate prints FLOPs, peak memory and time per stage and in total', async () => {
    const r = await sei(['plan', pipeline(dir, 'batchSize: 64'), '--store', join(dir, 'store-est'), '--estimate', '--rate', '50']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /this machine: 50\.0 GFLOP\/s \(given by --rate\)/);
    assert.match(r.stdout, /server-gpu: 2000 GFLOP\/s/);
    // 3 × 31 GFLOP per image, 1,000 images × 30 epochs: 2.79 PFLOP, 15.5 h at 50 GFLOP/s, 23 min at 2 TFLOP/s.
    const row = r.stdout.split('\n').find((l) => l.trimStart().startsWith('base '));
    assert.ok(row, r.stdout);
    assert.match(row, /vgg16 ×1 224×224\s+64 \(micro \d+, chosen\)\s+92\.9\s+3\.\d\d GiB\s+2\.78\d\s+15\.5 h\s+23 min/);
    assert.match(r.stdout, /^\s+total\s+1\s+/m);
  });
});
