// The cache key covers the SIMD kernels the training stages load through
// `new URL('./assembly/kernels.wasm', import.meta.url)`: editing a kernel's AssemblyScript source
// and rebuilding the module re-keys the training cells (and only them), and `sei plan` names the
// kernel folder. Runs on a copy of the compiled package, so the real build is never touched.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline } from '../../src/pipeline/load.js';
import { buildPlan } from '../../src/pipeline/plan.js';
import { clearCodeHashMemo } from '../../src/pipeline/code-hash.js';
import { explainChange, formatReason } from '../../src/pipeline/explain.js';
import { distRoot, packageRoot } from '../../src/pipeline/registry.js';
import type { Plan } from '../../src/pipeline/types.js';

/**
 * The project's own kernel build command (package.json build:wasm: asc with the assembly folder's
 * asconfig.json, one run per build) for the SIMD128 build, from `sourceDir`, writing to `out`.
 */
function buildKernels(sourceDir: string, out: string): void {
  const script = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build:wasm']!;
  const first = script.split('&&').map((c) => c.trim()).find((c) => c.includes('simd128'));
  assert.ok(first, `build:wasm builds the SIMD128 target: ${script}`);
  const args = first.split(/\s+/).slice(1).map((a) => a.startsWith('src/ml/kernels/assembly/') ? join(sourceDir, a.slice('src/ml/kernels/assembly/'.length)) : a);
  execFileSync(join(packageRoot, 'node_modules', '.bin', 'asc'), [...args, '-o', out], { stdio: 'pipe' });
}

describe('cache key: the SIMD kernel module is part of the training stages\' code', function () {
  this.timeout(180_000);
  let root: string;
  let saved: string | undefined;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sei-kernel-key-'));
    // A copy of the compiled package (its module graph, the kernel module) and of the kernel sources.
    cpSync(join(distRoot, 'src'), join(root, 'dist', 'src'), { recursive: true, filter: (f) => !f.endsWith('.map') });
    symlinkSync(join(packageRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
    writeFileSync(join(root, 'package.json'), '{"name":"copy","type":"module"}\n');
    cpSync(join(packageRoot, 'src', 'ml', 'kernels', 'assembly'), join(root, 'assembly'), { recursive: true });
    // The copied train-base, under a name of its own (built-in stages are found first).
    mkdirSync(join(root, 'stages', 'train-copy'), { recursive: true });
    writeFileSync(join(root, 'stages', 'train-copy', 'index.js'),
      "import base from '../../dist/src/stages/train-base/index.js';\nexport default { ...base, name: 'train-copy' };\n");
    writeFileSync(join(root, 'pipeline.yaml'), [
      'name: kernel-key',
      'stages:',
      '  data: { stage: prepare-dataset, params: { dataset: { use: datasets/synthetic-demo } } }',
      '  base:',
      '    stage: train-copy',
      '    inputs: { dataset: data }',
      '    params: { model: { use: models/vgg16-demo }, training: { use: training/demo } }',
      '',
    ].join('\n'));
    saved = process.env.SEI_STAGE_PATH;
    process.env.SEI_STAGE_PATH = join(root, 'stages');
  });

  after(() => {
    if (saved === undefined) delete process.env.SEI_STAGE_PATH; else process.env.SEI_STAGE_PATH = saved;
    rmSync(root, { recursive: true, force: true });
    clearCodeHashMemo();
  });

  async function plan(backend = 'wasm'): Promise<Plan> {
    clearCodeHashMemo();
    const loaded = await loadPipeline(join(root, 'pipeline.yaml'), { projectRoot: packageRoot });
    return buildPlan(loaded, { storeDir: join(root, 'store'), settings: { backend } });
  }

  it('the backend is in the key of the stages that compute on one, and `sei plan` says so', async () => {
    const wasm = await plan('wasm');
    const cpu = await plan('cpu');
    const cell = (p: Plan, instance: string) => p.cells.find((c) => c.instance === instance)!;
    assert.equal(cell(cpu, 'data').key, cell(wasm, 'data').key, 'preparing a dataset does not depend on the backend');
    assert.equal(cell(wasm, 'data').keyParts.backend, undefined);
    assert.equal(cell(wasm, 'base').keyParts.backend, 'wasm');
    assert.notEqual(cell(cpu, 'base').key, cell(wasm, 'base').key);
    assert.deepEqual(explainChange(cell(wasm, 'base').keyParts, cell(cpu, 'base').keyParts).map(formatReason),
      ['backend changed: wasm → cpu (results are reproducible to the bit only on one backend)']);
    // A slot recorded before backends were keyed (a store from an earlier version).
    const { backend: _dropped, ...older } = cell(wasm, 'base').keyParts;
    assert.deepEqual(explainChange(older, cell(wasm, 'base').keyParts).map(formatReason),
      ['backend wasm is now part of the key (results are reproducible to the bit only on one backend; this cell was computed before backends were keyed)']);
    // Without a native TensorFlow package, `auto` plans (and so runs) on wasm.
    const require = createRequire(import.meta.url);
    const native = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some((p) => { try { require.resolve(p); return true; } catch { return false; } });
    if (!native) assert.equal(cell(await plan('auto'), 'base').keyParts.backend, 'wasm');
  });

  it('editing a kernel source and rebuilding re-keys the training cell, named by the kernel folder', async () => {
    const before = await plan();
    const kernelFolder = `imports:${join(root, 'dist', 'src', 'ml', 'kernels', 'assembly')}`;
    const base0 = before.cells.find((c) => c.instance === 'base')!;
    assert.ok(kernelFolder in base0.keyParts.codeHashes, Object.keys(base0.keyParts.codeHashes).join(' '));

    // A real change to a kernel: the Adam update's epsilon term is added twice.
    const adam = join(root, 'assembly', 'adam.ts');
    const text = readFileSync(adam, 'utf8');
    const edited = text.replace(/\+\s*eps\b/, '+ eps + eps');
    assert.notEqual(edited, text, 'the kernel source has an epsilon term to edit');
    writeFileSync(adam, edited);
    buildKernels(join(root, 'assembly'), join(root, 'dist', 'src', 'ml', 'kernels', 'assembly', 'kernels.wasm'));

    const after = await plan();
    const data0 = before.cells.find((c) => c.instance === 'data')!;
    const data1 = after.cells.find((c) => c.instance === 'data')!;
    const base1 = after.cells.find((c) => c.instance === 'base')!;
    assert.equal(data1.key, data0.key, 'the dataset cell loads no kernel and stays cached');
    assert.notEqual(base1.key, base0.key, 'the training cell is stale');
    const reasons = explainChange(base0.keyParts, base1.keyParts).map(formatReason);
    assert.deepEqual(reasons, [`code of ${join(root, 'dist', 'src', 'ml', 'kernels', 'assembly')} (imported by the stage) changed`]);
  });
});
