import assert from 'node:assert/strict';
import { argMax, candidatesOf, cdeCandidates, log10Curve, referenceCandidates, strictLocalMaxima } from '../../src/science/curves.js';

describe('science: curves', () => {
  it('finds strict local maxima, never at the ends, never on a plateau', () => {
    assert.deepEqual(strictLocalMaxima([5, 1, 3, 2, 2, 4, 4, 1, 9]), [2]);
    assert.deepEqual(strictLocalMaxima([1, 2, 3]), []);
    assert.deepEqual(strictLocalMaxima([-Infinity, 0, -Infinity, 1, 0]), [1, 3]);
  });

  it("finds candidates by the reference code's rule: numpy's diff(sign(diff([v0, ...v]))) < 0", () => {
    // Expected values computed with numpy from the reference code's expression.
    assert.deepEqual(referenceCandidates([5, 1, 3, 2, 2, 4, 4, 1, 9]), [0, 2, 5, 6]);
    assert.deepEqual(referenceCandidates([1, 2, 3]), []);
    assert.deepEqual(referenceCandidates([3, 2, 1]), [0]);
    assert.deepEqual(referenceCandidates([1, 3, 3, 2]), [1, 2]);
    assert.deepEqual(referenceCandidates([-Infinity, 0, -Infinity, 1, 0]), [1, 3]);
    assert.deepEqual(referenceCandidates([-Infinity, -Infinity, 1, 0]), [2]);
    assert.deepEqual(referenceCandidates([2, 2, 1]), [1]);
    assert.deepEqual(candidatesOf([5, 1, 3, 2, 2, 4, 4, 1, 9], 'strict'), [2]);
    assert.deepEqual(candidatesOf([5, 1, 3, 2, 2, 4, 4, 1, 9], 'reference'), [0, 2, 5, 6]);
  });

  it('takes the global maximum as the best point, first on ties', () => {
    assert.equal(argMax([1, 3, 3, 2]), 1);
    assert.equal(argMax([NaN, -1, NaN]), 1);
    assert.equal(argMax([]), -1);
  });

  it('lists the pooling outputs of VGG16 as layer-size candidates', () => {
    // VGG16 at 32×32: elements at each of the 18 cut points.
    const sizes = [[32, 64], [32, 64], [16, 64], [16, 128], [16, 128], [8, 128], [8, 256], [8, 256], [8, 256], [4, 256],
      [4, 512], [4, 512], [4, 512], [2, 512], [2, 512], [2, 512], [2, 512], [1, 512]].map(([s, c]) => s! * s! * c!);
    assert.deepEqual(cdeCandidates(sizes), [2, 5, 9, 13, 17]);
  });

  it('lists the max-pool and each stride-2 stage start of ResNet-50', () => {
    const sizes = [112 * 112 * 64, 56 * 56 * 64, ...Array(3).fill(56 * 56 * 256), ...Array(4).fill(28 * 28 * 512),
      ...Array(6).fill(14 * 14 * 1024), ...Array(3).fill(7 * 7 * 2048)];
    assert.deepEqual(cdeCandidates(sizes), [1, 5, 9, 15]);
  });

  it('maps zero importance to -Infinity', () => {
    assert.deepEqual(log10Curve([100, 0.01, 0]), [2, -2, -Infinity]);
  });
});
