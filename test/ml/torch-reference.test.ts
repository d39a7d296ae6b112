// The PyTorch reference of `sei bench --torch`, run for real on a tiny protocol: its thread pools
// are sized before torch loads, so one core compares with one core whatever the caller's
// environment says.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { DEFAULT_PYTHON, runTorchReference, torchReferenceScript } from '../../src/ml/bench.js';

const TINY = { batch: 4, batches: 1, repeats: 1 };

describe('PyTorch reference thread pools', function () {
  this.timeout(180000);
  let saved: string | undefined;
  before(() => { saved = process.env.OMP_NUM_THREADS; });
  after(() => { if (saved === undefined) delete process.env.OMP_NUM_THREADS; else process.env.OMP_NUM_THREADS = saved; });

  it('runs one intra-op and one inter-op thread even when the caller\'s environment asks for more', async () => {
    process.env.OMP_NUM_THREADS = '4';
    const r = await runTorchReference(TINY);
    assert.equal(r.threads, 1);
    assert.equal(r.interopThreads, 1);
    for (const m of ['ref-cnn', 'vgg16-w0.25']) assert.ok(r.models[m]!.train_img_s > 0 && r.models[m]!.infer_img_s > 0, m);
  });

  it('the script sizes the pools itself before import, and refuses an environment that contradicts --threads', () => {
    const script = torchReferenceScript();
    const args = [script, '--threads', '1', '--batch', '2', '--batches', '1', '--repeats', '1'];
    const clean = { ...process.env };
    for (const v of ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS']) delete clean[v];
    const ok = spawnSync(DEFAULT_PYTHON, args, { encoding: 'utf8', env: clean });
    assert.equal(ok.status, 0, ok.stderr);
    const j = JSON.parse(ok.stdout.trim().split('\n').pop()!) as { threads: number; pools: Record<string, string> };
    assert.equal(j.threads, 1);
    assert.deepEqual(j.pools, { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' });
    const bad = spawnSync(DEFAULT_PYTHON, args, { encoding: 'utf8', env: { ...clean, OMP_NUM_THREADS: '2' } });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /OMP_NUM_THREADS=2 contradicts --threads 1/);
  });
});
