// A swept cut whose bottleneck code is not smaller than the tensor at the cut is flagged at plan
// time: a warning from `sei plan` and `sei run` (not an error), naming the cut and both sizes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressionWarnings } from '../../src/stages/split-retrain/checks.js';
import { compresses } from '../../src/report/csv.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sei = join(root, 'bin', 'sei.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [sei, ...args], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('split-retrain: a bottleneck that compresses nothing is flagged at plan time', function () {
  this.timeout(120_000);
  const scratch = mkdtempSync(join(tmpdir(), 'sei-compress-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const model = { arch: 'vgg16' as const, width: 0.125, inputSize: 32 };

  it('the rule: code elements ≥ cut elements', () => {
    // block5_pool at 32 px, 1/8 width: 1×1×64; ratio 2 → code 1×1×64 (no gain), ratio 8 → 1×1×16.
    assert.match(compressionWarnings(model, 'block5_pool', { ratio: 2, expansion: 2 })[0]!,
      /bottleneck at block5_pool compresses nothing: its code 1×1×64 \(64 values\) is not smaller than the tensor at the cut 1×1×64 \(64 values\)/);
    assert.deepEqual(compressionWarnings(model, 'block5_pool', { ratio: 8, expansion: 2 }), []);
    assert.deepEqual(compressionWarnings(model, 'block4_pool', { ratio: 2, expansion: 2 }), []); // 2×2×64 → 1×1×64
    assert.deepEqual(compressionWarnings({ ...model, inputSize: 64 }, 'block5_pool', { ratio: 2, expansion: 2 }), []);
    // An invalid split is the validator's error, not a warning.
    assert.deepEqual(compressionWarnings(model, 'nowhere', { ratio: 2, expansion: 2 }), []);
  });

  it('the report marks it: cuts.csv bottleneck_compresses, "no compression" in the cut table', () => {
    assert.equal(compresses({ raw: 256, fp32: 256 }), false);
    assert.equal(compresses({ raw: 256, fp32: 64 }), true);
    assert.equal(compresses({ raw: 256, fp32: null }), null);
  });

  it('sei plan warns (exit 0) and the shipped demo has no such cut', async () => {
    const demo = join(root, 'pipelines', 'demo.yaml');
    const store = join(scratch, 'store');
    const flagged = await run(['plan', demo, '--store', store, '--set', 'stages.retrain.params.bottleneck.ratio=2']);
    assert.equal(flagged.code, 0, flagged.stderr);
    const warnings = flagged.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    // One per class subset: only block5_pool (1×1×64) fails to compress at ratio 2.
    assert.equal(warnings.length, 3, flagged.stderr);
    assert.ok(warnings.every((w) => /^warning: retrain \[.*cut="block5_pool".*\]: the bottleneck at block5_pool compresses nothing/.test(w)), flagged.stderr);
    const shipped = await run(['plan', demo, '--store', store]);
    assert.equal(shipped.code, 0, shipped.stderr);
    assert.doesNotMatch(shipped.stderr, /warning:/);
  });
});
