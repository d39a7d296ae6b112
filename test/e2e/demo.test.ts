// The README's demo, exactly as shipped: `sei run pipelines/demo.yaml`, then `sei report` and
// `sei recommend` on its store. About a minute and a half on an idle 2-core machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sei = join(root, 'bin', 'sei.js');
const demo = join(root, 'pipelines', 'demo.yaml');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [sei, ...args], { cwd: root, maxBuffer: 1 << 26, env: { ...process.env, SEI_STAGE_PATH: '' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('the shipped demo pipeline, end to end', function () {
  this.timeout(15 * 60_000);
  let tmp: string;
  let store: string;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sei-demo-'));
    store = join(tmp, 'store');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('runs every stage, then a second run finds everything cached', async () => {
    const first = await run(['run', demo, '--store', store, '--no-progress']);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
    const total = /demo: (\d+)\/(\d+) cells done \(0 cached, (\d+) run\)/.exec(first.stdout);
    assert.ok(total, first.stdout.slice(-2000));
    assert.equal(total[1], total[2]);
    assert.match(first.stdout, /Report: sei report /);

    const again = await run(['run', demo, '--store', store, '--no-progress']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`demo: ${total[2]}/${total[2]} cells done \\(${total[2]} cached, 0 run\\)`));
  });

  it('the base networks learn, and validation covers every class subset', async () => {
    const status = await run(['status', demo, '--store', store, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const results = readdirSync(join(store, 'objects')).flatMap((shard) =>
      readdirSync(join(store, 'objects', shard)).map((key) => join(store, 'objects', shard, key, 'result.json')))
      .filter((f) => existsSync(f))
      .map((f) => JSON.parse(readFileSync(f, 'utf8')) as { metrics: Record<string, unknown> });
    const bases = results.filter((r) => typeof r.metrics.testAccuracy === 'number' && Array.isArray(r.metrics.cutPoints));
    assert.equal(bases.length, 3, 'one base network per class subset');
    // Ten (or five) synthetic classes: chance is 0.1 (0.2); a trained network is far above it.
    for (const b of bases) assert.ok((b.metrics.testAccuracy as number) > 0.5, `base accuracy ${b.metrics.testAccuracy}`);
    const validations = results.filter((r) => r.metrics.spearman !== undefined);
    assert.equal(validations.length, 3);
    for (const v of validations) {
      const rho = (v.metrics.spearman as { value: number; ci95: [number, number] });
      assert.ok(rho.value >= -1 && rho.value <= 1);
      assert.ok(rho.ci95[0] <= rho.ci95[1]);
      assert.equal((v.metrics.cuts as string[]).length, 7);
    }
  });

  it('reports and recommends from the store', async () => {
    const out = join(tmp, 'report');
    const report = await run(['report', demo, '--store', store, '--out', out, '--format', 'md,html,csv,tex']);
    assert.equal(report.code, 0, report.stderr);
    for (const f of ['report.md', 'report.html', 'csv/validation.csv', 'latex/main.tex']) assert.ok(existsSync(join(out, f)), f);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok((html.match(/<svg/g) ?? []).length >= 10, 'figures inline');
    assert.doesNotMatch(readFileSync(join(out, 'report.md'), 'utf8'), /cells finished\.\s*$/m, 'the report has content beyond its header');

    const rec = await run(['recommend', demo, '--store', store, '--json']);
    assert.equal(rec.code, 0, rec.stderr);
    const groups = JSON.parse(rec.stdout) as { coords: Record<string, unknown>; recommendation: { chosen: unknown; feasible: unknown[] } }[];
    assert.equal(groups.length, 3, 'one recommendation per class subset');
    for (const g of groups) {
      assert.ok(g.recommendation.chosen, 'a design meets the demo requirements');
      assert.ok(g.recommendation.feasible.length > 0);
    }
  });
});
