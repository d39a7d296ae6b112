// bench/torch_sweep.py, the Fashion-MNIST study in plain PyTorch that `npm run bench:sweep -- --torch`
// times beside `sei run`: its protocol against the pipeline as the planner resolves it, a tiny real
// run (Debian's python3-torch; skipped, saying why, without it), and the bench's refusal of a
// Python that cannot run it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../../src/exec/load-plan.js';
import { PYTHON, skipWithoutTorch } from '../ml/torch-python.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCRIPT = join(root, 'bench', 'torch_sweep.py');
const PIPELINE = join(root, 'pipelines', 'isplit-fashion-mnist.yaml');
const DATA = '/usr/share/datasets/fashion-mnist';
const CUTS = ['block1_pool', 'block2_conv2', 'block2_pool', 'block3_conv3', 'block3_pool', 'block4_pool', 'block5_pool'];
const PHASES = ['data', 'train-base', 'importance', 'split-retrain', 'evaluate'];

const torchSweep = (...args: string[]) => spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', cwd: root, maxBuffer: 1 << 26 });

type Obj = Record<string, unknown>;
const without = (o: unknown, ...keys: string[]): Obj => Object.fromEntries(Object.entries(o as Obj).filter(([k]) => !keys.includes(k)));

describe('bench/torch_sweep.py: the study in plain PyTorch', function () {
  this.timeout(180000);

  it('its protocol is the pipeline\'s, as the planner resolves it', async function () {
    if (!existsSync(PYTHON)) this.skip();
    const r = torchSweep('--print-protocol');
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as Obj & { subsets: string[][]; retrain: Obj & { cuts: string[]; training: Obj } };
    const store = mkdtempSync(join(tmpdir(), 'sei-torch-sweep-'));
    try {
      const plan = await loadPlan(PIPELINE, { sets: [], storeDir: join(store, 'absent'), settings: {}, allowMissingInputs: true });
      const cells = (instance: string) => plan.cells.filter((c) => c.instance === instance);
      const data = cells('data');
      assert.deepEqual(data.map((c) => (c.params as { dataset: { classes: { names: string[] } } }).dataset.classes.names), p.subsets);
      for (const c of data) {
        const d = (c.params as { dataset: Obj }).dataset;
        // testFraction applies to datasets without a test split; the IDX files have one (t10k).
        assert.deepEqual({ ...without(d, 'classes'), split: without(d.split, 'testFraction') }, p.dataset);
      }
      for (const c of cells('base')) {
        const b = c.params as { model: Obj; training: Obj };
        assert.deepEqual(b.model, p.model);
        // valFraction only holds out images when the dataset has no val split; momentum is SGD's.
        assert.deepEqual(without(b.training, 'valFraction', 'momentum'), p.base);
      }
      for (const c of cells('importance')) assert.deepEqual(c.params, p.importance);
      const retrain = cells('retrain');
      assert.deepEqual([...new Set(retrain.map((c) => c.coords['cut']))], p.retrain.cuts);
      for (const c of retrain) {
        const q = c.params as Obj & { model: Obj; training: Obj };
        assert.deepEqual(q.model, p.model);
        assert.deepEqual({ seed: q.seed, bottleneck: q.bottleneck, regime: q.regime }, without(p.retrain, 'cuts', 'training'));
        // The stage trains with the cell's seed (split-retrain/run.ts), not training.seed.
        assert.deepEqual(without(q.training, 'valFraction', 'momentum', 'seed'), p.retrain.training);
      }
      for (const c of cells('evaluate')) assert.deepEqual(c.params, p.evaluate);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  it('a tiny run (--subsets first --max-per-class 20, one thread) reports every phase and each cut\'s accuracy', function () {
    skipWithoutTorch(this);
    if (!existsSync(DATA)) this.skip();
    const r = torchSweep('--json', '--subsets', 'first', '--max-per-class', '20', '--threads', '1');
    assert.equal(r.status, 0, r.stderr);
    type Cut = { cut: string; cutShape: number[]; codeShape: number[]; accuracy: number; quantizedAccuracy: Record<string, number>; epochs: number; timeMs: Record<string, number> };
    const j = JSON.parse(r.stdout) as {
      threads: number; maxPerClass: number; phases: Record<string, number>; wall: number; cpu: number; startup: number;
      subsets: { classes: string[]; counts: Record<string, number>; base: { testAccuracy: number; epochs: number; bestEpoch: number };
        importance: { cutPoints: string[]; cui: number[]; best: string }; cuts: Cut[] }[];
    };
    assert.equal(j.threads, 1);
    assert.equal(j.maxPerClass, 20);
    assert.deepEqual(Object.keys(j.phases), PHASES);
    for (const k of PHASES) assert.ok(j.phases[k]! > 0, `${k}: ${j.phases[k]}`);
    const phaseSum = Object.values(j.phases).reduce((a, b) => a + b, 0);
    assert.ok(j.wall >= phaseSum && j.wall > 0, `wall ${j.wall} s, phases ${phaseSum} s`);
    assert.ok(j.cpu > 0);
    assert.equal(j.subsets.length, 1);
    const s = j.subsets[0]!;
    assert.equal(s.classes.length, 10);
    // 20 a class, 10 % of train carved out for validation (2 a class); 20 a class of t10k.
    assert.deepEqual(s.counts, { train: 180, val: 20, test: 200 });
    assert.ok(s.base.testAccuracy >= 0 && s.base.testAccuracy <= 1, `base ${s.base.testAccuracy}`);
    assert.ok(s.base.epochs >= 1 && s.base.epochs <= 10 && s.base.bestEpoch >= 1 && s.base.bestEpoch <= s.base.epochs);
    assert.equal(s.importance.cutPoints.length, 18);
    assert.equal(s.importance.cui.length, 18);
    assert.ok(s.importance.cui.every((v) => Number.isFinite(v) && v >= 0), `CUI ${s.importance.cui}`);
    assert.ok(s.importance.cutPoints.includes(s.importance.best));
    assert.deepEqual(s.cuts.map((c) => c.cut), CUTS);
    // VGG16 at width 1/8 and 32 px; the code is ⌈⌈H/2⌉/2⌉ square with 2·round(C/8) channels.
    const shapes = [[16, 16, 8], [16, 16, 16], [8, 8, 16], [8, 8, 32], [4, 4, 32], [2, 2, 64], [1, 1, 64]];
    s.cuts.forEach((c, i) => {
      assert.deepEqual(c.cutShape, shapes[i], c.cut);
      const [h, , ch] = shapes[i]!;
      const side = Math.ceil(Math.ceil(h! / 2) / 2);
      assert.deepEqual(c.codeShape, [side, side, 2 * Math.round(ch! / 8)], c.cut);
      for (const a of [c.accuracy, ...Object.values(c.quantizedAccuracy)]) assert.ok(a >= 0 && a <= 1, `${c.cut}: ${a}`);
      assert.equal(c.quantizedAccuracy['fp32'], c.accuracy);
      assert.ok(c.epochs >= 1 && c.epochs <= 3, `${c.cut}: ${c.epochs} epochs`);
      for (const side of ['device', 'server', 'local']) assert.ok(c.timeMs[side]! > 0, `${c.cut} ${side}: ${c.timeMs[side]}`);
    });
  });

  it('npm run bench:sweep -- --torch with a Python that cannot run it exits 2 before the sweep', () => {
    const bench = (...args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'bench', 'sweep.bench.js'), ...args], { encoding: 'utf8', cwd: root });
    let r = bench('--torch', '--python', '/nonexistent/python3');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--torch: \/nonexistent\/python3 not found/);
    r = bench('--torch', '--analyze', '/nonexistent/store');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /does not apply to --analyze/);
  });
});
