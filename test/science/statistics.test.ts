// Reference values from scipy.stats (spearmanr, kendalltau = τ-b) and scipy.optimize.isotonic_regression.
import assert from 'node:assert/strict';
import { averageRanks, bootstrapRankCorrelations, kendallTauB, percentile, spearman } from '../../src/science/statistics.js';
import { calibrate, fitIsotonic, predictIsotonic } from '../../src/science/calibration.js';
import { regretAtEqualPayload } from '../../src/science/choice.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('science: statistics', () => {
  it('ranks ties by their average rank', () => {
    assert.deepEqual(averageRanks([10, 30, 20, 30]), [1, 3.5, 2, 3.5]);
  });

  it('matches scipy for Spearman ρ and Kendall τ-b, with ties', () => {
    close(spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 6]), 0.8696565534786727);
    close(kendallTauB([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 6]), 0.6900655593423543);
    close(spearman([1, 1, 2, 3, 3, 4], [3, 1, 2, 2, 5, 4]), 0.5821543981758688);
    close(kendallTauB([1, 1, 2, 3, 3, 4], [3, 1, 2, 2, 5, 4]), 0.44474958999666075);
    assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
    assert.throws(() => spearman([1], [1]), /at least two/);
  });

  it('interpolates percentiles like numpy', () => {
    close(percentile([1, 2, 3, 4], 0.5), 2.5);
    close(percentile([1, 2, 3, 4, 5], 0.025), 1.1);
  });

  it('bootstraps seeded, paired intervals that contain the point estimate', () => {
    // Four cuts whose accuracy rises with the predictor; two seeds; 200 test images.
    const images = 200;
    const make = (p: number, phase: number) => Uint8Array.from({ length: images }, (_, i) => (((i * 37 + phase) % 100) < p * 100 ? 1 : 0));
    const correct = [0.5, 0.6, 0.7, 0.8].map((p) => [make(p, 0), make(p, 13)]);
    const predictor = [1, 2, 3, 4];
    const a = bootstrapRankCorrelations(predictor, correct, { iterations: 300, seed: 7 });
    const b = bootstrapRankCorrelations(predictor, correct, { iterations: 300, seed: 7 });
    assert.deepEqual(a, b, 'same seed, same intervals');
    close(a.spearman.value, 1);
    close(a.kendall.value, 1);
    assert.ok(a.spearman.ci95[0] <= a.spearman.value && a.spearman.value <= a.spearman.ci95[1]);
    assert.ok(a.spearman.ci95[0] > 0, `a clear trend keeps its lower bound above zero: ${a.spearman.ci95}`);
    const c = bootstrapRankCorrelations(predictor, correct, { iterations: 300, seed: 8 });
    assert.notDeepEqual(a.kendall.ci95, [NaN, NaN]);
    assert.equal(c.spearman.value, a.spearman.value);
    assert.throws(() => bootstrapRankCorrelations([1, 2], [[make(0.5, 0)], [make(0.5, 0).subarray(1)]], { iterations: 1, seed: 0 }), /same test images/);
  });
});

describe('science: calibration', () => {
  it('fits a non-decreasing function by pooling adjacent violators (scipy reference)', () => {
    const fit = fitIsotonic([1, 2, 3, 4, 5, 6], [3, 1, 2, 5, 4, 6]);
    assert.deepEqual(fit.y, [2, 2, 2, 4.5, 4.5, 6]);
    assert.deepEqual(fit.x, [1, 2, 3, 4, 5, 6]);
    // Unsorted input and tied x values.
    const tied = fitIsotonic([2, 1, 2], [1, 4, 3]);
    assert.deepEqual(tied, { x: [1, 2], y: [8 / 3, 8 / 3] });
  });

  it('predicts by interpolation, flat beyond the ends', () => {
    const fit = { x: [0, 1, 3], y: [0.2, 0.4, 0.8] };
    close(predictIsotonic(fit, -5), 0.2);
    close(predictIsotonic(fit, 2), 0.6);
    close(predictIsotonic(fit, 9), 0.8);
  });

  it('judges the fit leave-one-cut-out', () => {
    // CUI 10^0..10^3, accuracy rising linearly with log10 CUI: interior points are predicted exactly.
    const result = calibrate([1, 10, 100, 1000], [0.5, 0.6, 0.7, 0.8]);
    close(result.points[1]!.predicted, 0.6);
    close(result.points[2]!.predicted, 0.7);
    close(result.points[0]!.predicted, 0.6); // flat below the lowest remaining point
    close(result.points[3]!.predicted, 0.7);
    close(result.looMae, 0.05);
  });
});

describe('science: choice and regret', () => {
  const cuts = [
    { cut: 'a', cui: 1, accuracy: 0.9, payloadBytes: 1000, cdeCandidate: false, layerBytes: 8000 },
    { cut: 'b', cui: 5, accuracy: 0.8, payloadBytes: 400, cdeCandidate: false, layerBytes: 6000 },
    { cut: 'c', cui: 2, accuracy: 0.85, payloadBytes: 300, cdeCandidate: true, layerBytes: 4000 },
    { cut: 'd', cui: 3, accuracy: 0.6, payloadBytes: 100, cdeCandidate: true, layerBytes: 1000 },
  ];
  it('gives both heuristics the payload of I-SPLIT\'s choice as budget', () => {
    const r = regretAtEqualPayload(cuts);
    assert.equal(r.isplitChoice, 'b');
    assert.equal(r.payloadBudgetBytes, 400);
    assert.equal(r.oracleCut, 'c');
    assert.equal(r.cdeChoice, 'c');
    assert.equal(r.cdeWithinBudget, true);
    close(r.isplit, 0.05);
    close(r.cde!, 0);
  });
  it('breaks payload ties by the CDE curve (the smaller tensor at the cut)', () => {
    const r = regretAtEqualPayload([...cuts.slice(0, 2), { ...cuts[2]!, payloadBytes: 400 }, { ...cuts[3]!, payloadBytes: 400 }]);
    assert.equal(r.cdeChoice, 'd');
    close(r.cde!, r.oracleAccuracy - 0.6);
  });
  it('a given budget: I-SPLIT takes the highest CUI within it, CDE the candidate spending most of it', () => {
    const r = regretAtEqualPayload(cuts, 350);
    assert.equal(r.payloadBudgetBytes, 350);
    assert.equal(r.isplitChoice, 'd'); // b (CUI 5) sends 400 B
    assert.equal(r.cdeChoice, 'c');
    assert.equal(r.oracleCut, 'c');
    close(r.isplit, 0.25);
    close(r.cde!, 0);
    assert.throws(() => regretAtEqualPayload(cuts, 50), /payload budget 50 B: no retrained cut sends that little \(the smallest sends 100 B\)/);
  });
  it('falls back to the cheapest CDE candidate when none fits', () => {
    const r = regretAtEqualPayload([{ ...cuts[0]!, cui: 10, payloadBytes: 50 }, ...cuts.slice(1)]);
    assert.equal(r.cdeWithinBudget, false);
    assert.equal(r.cdeChoice, 'd');
    close(r.cde!, 0.3);
  });
});
