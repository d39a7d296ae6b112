// The shipped paper-scale pipelines: with the data in place (small fixtures in the published
// layouts, written by `sei dataset fixture`) `sei plan` lists every cell; without it, the plan
// stops with the missing folder named.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sei = join(root, 'bin', 'sei.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [sei, ...args], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

// Cells: per class subset, data + base + importance + 18 cuts × 3 seeds retrained and evaluated
// + validate + simulate + recommend = 114; plus one compare-subsets when subsets are swept.
const PIPELINES: [string, string, number][] = [
  ['isplit-tiny-imagenet', 'tiny-imagenet-200', 4 * 114 + 1],
  ['isplit-notmnist', 'notmnist', 3 * 114 + 1],
  ['isplit-chest-xray', 'chest-xray', 114],
];

describe('e2e: paper-scale pipelines plan', function () {
  this.timeout(120_000);
  const scratch = mkdtempSync(join(tmpdir(), 'sei-paper-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  before(async () => {
    for (const [, kind] of PIPELINES) {
      const r = await run(['dataset', 'fixture', kind, join(scratch, kind), '--per-class', '2']);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  for (const [name, kind, cells] of PIPELINES) {
    for (const arch of ['vgg16', 'resnet50']) {
      it(`${name}-${arch}: ${cells} cells with the data present`, async () => {
        const r = await run(['plan', join(root, 'pipelines', `${name}-${arch}.yaml`), '--store', join(scratch, 'store'),
          '--set', `stages.data.params.dataset.path=${join(scratch, kind)}`]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`: ${cells} cells, 0 cached, ${cells} to run`));
        assert.match(r.stdout, arch === 'vgg16' ? /retrain \[.*cut=block5_conv3.*seed=2/ : /retrain \[.*cut=layer4_3.*seed=2/);
      });
    }
  }

  it('names the missing dataset folder when the data is absent', async () => {
    const r = await run(['plan', join(root, 'pipelines', 'isplit-chest-xray-vgg16.yaml'), '--store', join(scratch, 'store'),
      '--set', `stages.data.params.dataset.path=${join(scratch, 'nowhere')}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /dataset\.path: .*nowhere does not exist/);
  });
});
