// The shipped paper-scale pipelines: with the data in place (small fixtures in the published
// layouts, written by `sei dataset fixture`) `sei plan` lists every cell; without it, the plan
// lists them as blocked by the missing folder and `sei run` refuses, naming it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

  it('without the data: plan lists every cell as blocked by the missing folder (exit 0); run refuses (exit 2)', async () => {
    const nowhere = join(scratch, 'nowhere');
    const args = [join(root, 'pipelines', 'isplit-chest-xray-vgg16.yaml'), '--store', join(scratch, 'absent-store'),
      '--set', `stages.data.params.dataset.path=${nowhere}`];
    const r = await run(['plan', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: 114 cells, 0 cached, 0 to run, 114 blocked by missing inputs\n/);
    assert.equal(r.stdout.match(/^  blocked /gm)?.length, 114);
    assert.match(r.stdout, new RegExp(`^  blocked prepare-dataset data [0-9a-f]{12}: input ${nowhere} missing$`, 'm'));
    assert.match(r.stdout, /^  retrain \(split-retrain\): 54 cells, 0 cached, 0 to run, 54 blocked$/m);
    assert.match(r.stdout, /^      meta\.json: /m);
    assert.match(r.stdout, new RegExp(`\\n114 cells: 0 cached, 0 to run, 114 blocked by missing inputs \\(${nowhere}\\)\\n$`));
    const json = JSON.parse((await run(['plan', ...args, '--json'])).stdout) as { blocked: number; cells: { blocked: boolean; blockedReason: string }[] };
    assert.equal(json.blocked, 114);
    assert.ok(json.cells.every((c) => c.blocked && c.blockedReason.endsWith(`input ${nowhere} missing`)));
    const refused = await run(['run', ...args]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /dataset\.path: external input .*nowhere does not exist \(expected the unpacked chest-xray folder\)/);
    assert.equal(existsSync(join(scratch, 'absent-store')), false, 'run wrote nothing');
  });

  // As shipped, the pipelines point at data/<dataset> of the project: plan works whether or not
  // it has been downloaded, and counts every cell.
  for (const [name, , cells] of PIPELINES) {
    for (const arch of ['vgg16', 'resnet50']) {
      it(`${name}-${arch} as shipped: plan exits 0 with ${cells} cells`, async () => {
        const r = await run(['plan', join(root, 'pipelines', `${name}-${arch}.yaml`), '--store', join(scratch, 'shipped-store')]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`\\n${cells} cells: 0 cached, (${cells} to run|0 to run, ${cells} blocked by missing inputs \\(.*\\))\\n$`));
      });
    }
  }
});
