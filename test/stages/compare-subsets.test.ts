import assert from 'node:assert/strict';
import { compareSubsets, subsetLabels } from '../../src/stages/compare-subsets/compute.js';

describe('stages: compare-subsets (computation)', () => {
  it('reports how the predicted and the retrained best cut move between subsets', () => {
    const cuts = ['a', 'b', 'c'];
    const r = compareSubsets([
      { label: 's1', cuts, cui: [1, 3, 2], accuracy: [0.5, 0.9, 0.7], isplitBest: 'b', retrainedBest: 'b', spearman: 1 },
      { label: 's2', cuts, cui: [1, 2, 3], accuracy: [0.5, 0.7, 0.9], isplitBest: 'c', retrainedBest: 'c', spearman: 1 },
      { label: 's3', cuts, cui: [1, 2, 3], accuracy: [0.5, 0.9, 0.7], isplitBest: 'c', retrainedBest: 'b', spearman: 0.5 },
    ]);
    assert.deepEqual(r.isplitBestCuts, ['b', 'c']);
    assert.deepEqual(r.retrainedBestCuts, ['b', 'c']);
    assert.equal(r.isplitBestMoves, true);
    assert.deepEqual(r.pairs.map((p) => [p.a, p.b, p.isplitMoved, p.retrainedMoved, p.agree]),
      [['s1', 's2', true, true, true], ['s1', 's3', true, false, false], ['s2', 's3', false, true, false]]);
    assert.ok(Math.abs(r.moveAgreement! - 1 / 3) < 1e-12);
    assert.ok(Math.abs(r.hitRate - 2 / 3) < 1e-12);
    assert.ok(Math.abs(r.pairs[0]!.cuiCurveSpearman! - 0.5) < 1e-12);
    assert.throws(() => compareSubsets([r as never]), /at least 2 subsets/);
  });

  it('labels subsets by the coordinates that differ', () => {
    assert.deepEqual(subsetLabels([
      { seed: 0, 'dataset.classes': { names: ['cat', 'dog'] } },
      { seed: 0, 'dataset.classes': { random: 3, seed: 1 } },
    ]), ['dataset.classes=cat+dog', 'dataset.classes={"random":3,"seed":1}']);
  });
});
