// `sei bench` end to end, as a real process, on a tiny protocol.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sei = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'sei.js'), ...args], { encoding: 'utf8', cwd: root });

describe('sei bench', function () {
  this.timeout(60000);

  it('reports images/s of training and inference for a reference model on wasm, as JSON', () => {
    const r = sei('bench', '--json', '--backend', 'wasm', '--models', 'ref-cnn', '--batch', '8', '--batches', '1', '--repeats', '1');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { backend: { name: string }; tfjs: { models: Record<string, Record<string, number>> }; flops: Record<string, { train: number }> };
    assert.equal(j.backend.name, 'wasm');
    const t = j.tfjs.models['ref-cnn']!;
    for (const k of ['train_img_s', 'infer_img_s', 'train_cpu_img_s', 'infer_cpu_img_s']) assert.ok(t[k]! > 0, `${k} = ${t[k]}`);
    assert.equal(j.flops['ref-cnn']!.train, 60169728);
  });

  it('--rounds alternates tfjs and PyTorch; the figures are the medians of the rounds', () => {
    const r = sei('bench', '--json', '--torch', '--rounds', '2', '--backend', 'wasm', '--models', 'ref-cnn', '--batch', '8', '--batches', '1', '--repeats', '1');
    assert.equal(r.status, 0, r.stderr);
    type Models = { models: Record<string, Record<string, number>> };
    const j = JSON.parse(r.stdout) as { tfjs: Models; torch: Models; rounds: { tfjs: Models; torch: Models }[] };
    assert.equal(j.rounds.length, 2);
    for (const side of ['tfjs', 'torch'] as const) {
      for (const k of ['train_img_s', 'train_cpu_img_s', 'infer_img_s']) {
        const each = j.rounds.map((x) => x[side].models['ref-cnn']![k]!);
        assert.ok(each.every((v) => v > 0), `${side} ${k}: ${each}`);
        // The median of two is the upper one (the reference script's convention: the middle element of the sorted list).
        assert.equal(j[side].models['ref-cnn']![k], Math.max(...each), `${side} ${k}`);
      }
    }
  });

  it('--rounds is refused where it does not apply (full-size networks, the export bench)', () => {
    const r = sei('bench', '--rounds', '2', '--models', 'vgg16', '--input', '32');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--rounds applies to the reference models only/);
  });

  it('a requested backend that is not installed exits 2 naming the package', () => {
    const r = sei('bench', '--backend', 'tensorflow', '--models', 'ref-cnn', '--batches', '1', '--repeats', '1');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /backend 'tensorflow' was requested but is not available: package @tensorflow\/tfjs-node is not installed/);
  });

  it('--torch without a usable Python says so and exits 2 before benchmarking', () => {
    const r = sei('bench', '--torch', '--python', '/nonexistent/python3');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--torch: \/nonexistent\/python3 not found/);
  });

  it('an unknown model is a usage error listing the reference models', () => {
    const r = sei('bench', '--models', 'resnet');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown reference model "resnet": expected ref-cnn, vgg16-w0.25/);
  });
});
