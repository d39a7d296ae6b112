import assert from 'node:assert/strict';
import { fromHalfBits, payloadBytes, roundTrip, toHalfBits } from '../../src/stages/evaluate/quantize.js';

describe('stages: evaluate quantisation', () => {
  it('rounds to IEEE half precision like numpy.float16', () => {
    // numpy: float16(1/3) = 0.33325195, float16(65504) = 65504, float16(1e5) = inf,
    // float16(3e-8) = 5.96e-08 (smallest subnormal), float16(1e-8) = 0, float16(2049) = 2048 (tie → even).
    const half = (v: number) => fromHalfBits(toHalfBits(v));
    assert.equal(half(1 / 3), 0.333251953125);
    assert.equal(half(65504), 65504);
    assert.equal(half(1e5), Infinity);
    assert.equal(half(3e-8), 2 ** -24);
    assert.equal(half(1e-8), 0);
    assert.equal(half(2049), 2048);
    assert.equal(half(2051), 2052);
    assert.equal(half(-1.5), -1.5);
    assert.equal(toHalfBits(1), 0x3c00);
  });

  it('quantises INT8 with one scale per image', () => {
    const v = Float32Array.from([0, 1, 2, 254, /* image 2 */ 0, 0, 0, 0]);
    roundTrip(v, 4, 'int8');
    assert.deepEqual(Array.from(v), [0, 2, 2, 254, 0, 0, 0, 0]);
  });

  it('counts payload bytes per precision', () => {
    assert.deepEqual([payloadBytes(100, 'fp32'), payloadBytes(100, 'fp16'), payloadBytes(100, 'int8')], [400, 200, 104]);
  });
});
