import { strict as assert } from 'node:assert';
import { formatCoords } from '../../src/util/coords.js';

describe('formatCoords', () => {
  it('prints scalars as they are', () => {
    assert.equal(formatCoords({ cut: 'block3_pool', seed: 0, 'bottleneck.ratio': 8 }), 'cut=block3_pool seed=0 bottleneck.ratio=8');
  });

  it('prints a class subset as its names, shortened with a count of what was left out', () => {
    const names = Array.from({ length: 200 }, (_, i) => `n0${1000000 + i}`);
    const text = formatCoords({ 'dataset.classes': { names } });
    assert.match(text, /^dataset\.classes=n01000000,n01000001,n01000002,n01000003,…\(\+196\)$/);
    assert.ok(text.length < 80);
    assert.equal(formatCoords({ 'dataset.classes': { names: ['dog', 'cat'] } }), 'dataset.classes=dog,cat');
  });

  it('keeps the kind of other subsets', () => {
    assert.equal(formatCoords({ 'dataset.classes': { random: 5, seed: 1 } }), 'dataset.classes=random:5,seed:1');
    assert.equal(formatCoords({ 'dataset.classes': { wordnetAncestor: 'dog' } }), 'dataset.classes=wordnetAncestor:dog');
  });

  it('cuts a single long value', () => {
    assert.equal(formatCoords({ path: 'x'.repeat(100) }, 10), `path=${'x'.repeat(10)}…`);
  });
});
