// The report model from cell records: grouping, cut rows in forward order, aggregation over
// seeds, and the rule that what the store does not hold is missing (null), never zero.
import assert from 'node:assert/strict';
import { buildReportModel, buildDocument } from '../../src/report/index.js';
import type { CellRecord } from '../../src/store/types.js';
import { CUTS, sweepFixture } from './fixtures.js';

describe('report model', function () {
  it('builds one group with rows in forward order, stats over seeds and latency per network', function () {
    const m = buildReportModel(sweepFixture(), { name: 'demo' });
    assert.equal(m.empty, false);
    assert.equal(m.groups.length, 1);
    const g = m.groups[0]!;
    assert.equal(g.model, 'vgg16-demo');
    assert.equal(g.dataset, 'synthetic-demo');
    assert.deepEqual(g.classes, ['cat', 'dog', 'ship']);
    assert.equal(g.baseAccuracy, 0.72);
    assert.equal(g.variants.length, 1);
    const v = g.variants[0]!;
    assert.deepEqual(v.rows.map((r) => r.cut), CUTS);
    assert.deepEqual(v.networks, ['lte', 'wifi']);
    assert.equal(v.mainPrecision, 'fp32');
    const best = v.rows.find((r) => r.cut === 'block2_pool')!;
    assert.equal(best.isplitBest, true);
    assert.equal(best.candidate, true);
    assert.equal(best.accuracy!.n, 2);
    assert.ok(Math.abs(best.accuracy!.max - best.accuracy!.min - 0.004) < 1e-12, 'seeds 0 and 1 differ by 0.004 in the fixture');
    assert.ok(Math.abs(best.deltaFromBase! - (best.accuracy!.mean - 0.72)) < 1e-12);
    assert.equal(best.bytes.raw, 65536);
    assert.equal(best.bytes.fp32, 4096);
    assert.equal(best.status, 'done');
    assert.ok(best.latency.wifi! > 0 && best.latency.lte! > best.latency.wifi!);
    assert.equal(v.validation.length, 1);
    assert.equal(v.validation[0]!.spearman.value, 0.83);
    assert.deepEqual(v.validation[0]!.spearman.ci95, [0.41, 1]);
    const chosen = v.designs.filter((d) => d.chosenBy.length > 0);
    // The fastest feasible design is the remote baseline on wifi (matched to the recommendation by id).
    assert.deepEqual(chosen.map((d) => [d.kind, d.cut, d.precision, d.network, d.chosenBy]), [['remote', 'all-on-server', 'uint8', 'wifi', ['realtime']]]);
    assert.equal(v.latencyPercentile, 'p95', 'the percentile of the first requirements block');
    assert.ok(v.designs.every((d) => d.accuracy !== null));
    assert.equal(m.recommendations[0]!.percentile, 'p95');
    assert.equal(m.recommendations[0]!.chosen!.latency, v.designs.find((d) => d.id === 'remote@wifi')!.e2e.p95);
    assert.deepEqual(m.recommendations[1]!.relax, [{ constraint: 'min-accuracy', relaxTo: 0.72, admitsIfRelaxed: 3 }]);
    assert.equal(v.validation[0]!.isplitRank, 1);
    assert.equal(v.validation[0]!.fit.length, 6);
    assert.ok(v.designs.some((d) => d.pareto === true) && v.designs.some((d) => d.pareto === false));
    assert.equal(m.recommendations.length, 2);
    assert.equal(m.recommendations[1]!.chosen, null);
    assert.ok(m.recommendations[1]!.rejected.every((r) => r.violations.length > 0));
  });

  it('shows pending, failed and unswept cuts as missing — never as zero', function () {
    const cells = sweepFixture({ swept: ['block1_pool', 'block2_pool', 'block3_pool'], pending: [['block2_pool', 0], ['block2_pool', 1]], failed: [['block3_pool', 1]] });
    const v = buildReportModel(cells, { name: 'demo' }).groups[0]!.variants[0]!;
    const row = (cut: string) => v.rows.find((r) => r.cut === cut)!;
    assert.equal(row('block2_pool').status, 'missing');
    assert.equal(row('block2_pool').accuracy, null);
    assert.equal(row('block2_pool').deltaFromBase, null);
    assert.equal(row('block2_pool').bytes.fp32, null);
    assert.equal(row('block2_pool').bytes.raw, 65536, 'the raw size comes from the importance cell');
    assert.equal(row('block3_pool').status, 'partial');
    assert.equal(row('block3_pool').accuracy!.n, 1);
    assert.equal(row('block3_pool').errors.length, 1);
    assert.equal(row('block2_conv2').status, 'not-swept');
    assert.equal(row('block2_conv2').accuracy, null);
    assert.equal(row('block2_conv2').log10Cui !== null, true);

    const doc = buildDocument(buildReportModel(cells, { name: 'demo' }));
    const cutTable = doc.tables.find((t) => t.id.endsWith('-cuts'))!;
    const accCol = cutTable.columns.findIndex((c) => c.label === 'Accuracy');
    const byCut = new Map(cutTable.rows.map((r) => [r[0]!.text, r]));
    assert.equal(byCut.get('block2_pool')![accCol]!.text, 'missing');
    assert.equal(byCut.get('block2_pool')![accCol]!.sort, null);
    assert.equal(byCut.get('block2_conv2')![accCol]!.text, '—');
    for (const r of cutTable.rows) for (const c of r) assert.notEqual(c.text, 'NaN');
  });

  it('a failed retrain makes the cut "failed" with its error', function () {
    const v = buildReportModel(sweepFixture({ failed: [['block4_pool', 0], ['block4_pool', 1]] }), { name: 'd' }).groups[0]!.variants[0]!;
    const r = v.rows.find((x) => x.cut === 'block4_pool')!;
    assert.equal(r.status, 'failed');
    assert.equal(r.accuracy, null);
    assert.match(r.errors[0]!, /out of memory/);
  });

  it('splits groups by class subset and variants by bottleneck setting', function () {
    const a = sweepFixture({ classes: ['a', 'b'] }).map((c) => ({ ...c, coords: { ...c.coords, subset: 'ab' } }));
    const b = sweepFixture({ classes: ['c', 'd'] }).map((c) => ({ ...c, coords: { ...c.coords, subset: 'cd' } }));
    // Two bottleneck ratios in the second subset.
    const extra = b.filter((c) => c.stage === 'evaluate' || c.stage === 'split-retrain').map((c, i) => ({
      ...c, id: `ff${i.toString(16).padStart(62, '0')}`, coords: { ...c.coords, 'bottleneck.ratio': 4 },
    }));
    const bb = b.map((c) => (c.stage === 'evaluate' || c.stage === 'split-retrain' ? { ...c, coords: { ...c.coords, 'bottleneck.ratio': 8 } } : c));
    const m = buildReportModel([...a, ...bb, ...extra], { name: 'x' });
    assert.equal(m.groups.length, 2);
    assert.deepEqual(m.groups.map((g) => g.classes), [['a', 'b'], ['c', 'd']]);
    assert.notEqual(m.groups[0]!.id, m.groups[1]!.id);
    assert.equal(m.groups[0]!.variants.length, 1);
    assert.deepEqual(m.groups[1]!.variants.map((v) => v.label), ['bottleneck.ratio=4', 'bottleneck.ratio=8']);
    assert.ok(m.groups[1]!.variants.every((v) => v.rows.find((r) => r.cut === 'block2_pool')!.accuracy!.n === 2));

    // compare-subsets gathers over the subset axis: it belongs to the pipeline, not to one group.
    const compare: CellRecord = {
      id: 'c'.repeat(64), key: 'd'.repeat(64), pipeline: 'x', instance: 'compare', stage: 'compare-subsets', coords: {}, params: {}, state: 'done', attempts: 1,
      metrics: { subsets: [{ label: 'subset=ab', isplitBest: 'block2_pool', retrainedBest: 'block2_pool', hit: true, spearman: 0.8 },
        { label: 'subset=cd', isplitBest: 'block3_pool', retrainedBest: 'block2_pool', hit: false, spearman: 0.4 }],
        isplitBestCuts: ['block2_pool', 'block3_pool'], retrainedBestCuts: ['block2_pool'], isplitBestMoves: true, retrainedBestMoves: false,
        pairs: [], moveAgreement: 0, hitRate: 0.5 },
    };
    const withCompare = buildReportModel([...a, ...bb, ...extra, compare], { name: 'x' });
    assert.equal(withCompare.groups.length, 2);
    assert.equal(withCompare.subsetComparisons[0]!.subsets.length, 2);
    const doc = buildDocument(withCompare);
    const t = doc.tables.find((x) => x.id === 'class-dependence-1')!;
    assert.deepEqual(t.rows.map((r) => r.map((c) => c.text)), [['subset=ab', 'block2_pool', 'block2_pool', 'yes', '0.800'], ['subset=cd', 'block3_pool', 'block2_pool', 'no', '0.400']]);
  });

  it('an empty or unfinished pipeline is a model that says so', function () {
    const none = buildReportModel([], { name: 'nothing' });
    assert.equal(none.empty, true);
    assert.equal(none.groups.length, 0);
    const pendingOnly = sweepFixture().map((c): CellRecord => ({ id: c.id, key: c.key, pipeline: c.pipeline, instance: c.instance, stage: c.stage, coords: c.coords, params: c.params, state: 'pending', attempts: 0 }));
    const m = buildReportModel(pendingOnly, { name: 'waiting' });
    assert.equal(m.empty, true);
    const doc = buildDocument(m);
    assert.ok(doc.blocks.some((b) => b.kind === 'paragraph' && b.text.startsWith('No finished cells')));
    assert.equal(doc.figures.length, 0);
  });

  it('survives malformed or older metrics without inventing values', function () {
    const cells = sweepFixture();
    for (const c of cells) {
      if (c.stage === 'evaluate' && c.coords.cut === 'block1_pool') c.metrics = { cut: 'block1_pool', accuracy: 'high', payload: null };
      if (c.stage === 'importance') c.metrics = { ...c.metrics, log10Cui: undefined, cui: [0.01, 0, -1, null, 'x', 0.2], perClass: 'none' };
      if (c.stage === 'simulate') c.metrics = { network: 5, designs: [{ cut: 'block2_pool' }, null, 7] };
      if (c.stage === 'validate') c.metrics = { spearman: 'n/a', calibration: { points: [{ cui: 0 }] } };
    }
    const m = buildReportModel(cells, { name: 'old' });
    const v = m.groups[0]!.variants[0]!;
    assert.deepEqual(v.rows.map((r) => r.log10Cui === null ? null : Number(r.log10Cui.toFixed(3))), [-2, null, null, null, null, -0.699]);
    assert.equal(v.rows[0]!.accuracy, null);
    assert.equal(v.rows[0]!.bytes.fp32, null);
    assert.equal(v.validation[0]!.spearman.value, null);
    assert.ok(v.designs.every((d) => d.e2eP50 === null));
    const doc = buildDocument(m);
    assert.ok(doc.tables.length > 0);
  });
});
