// Recommendation on a fixed table of simulated designs.
import assert from 'node:assert/strict';
import type { Design } from '../../src/netsim/designs.js';
import { bindingConstraints, normalizeRequirements, paretoFront, recommend, violations } from '../../src/netsim/recommend.js';
import { recommendFromSimulations, parseRequirements } from '../../src/stages/recommend/core.js';
import { formatRecommendation } from '../../src/netsim/format.js';
import { isUsageError } from '../../src/util/errors.js';

const MB = 1024 * 1024;

function design(id: string, network: string, accuracy: number | null, p95: number | null, payloadBytes: number, extra: Partial<Design> = {}): Design {
  const lat = { p50: p95 === null ? null : p95 * 0.8, p95, p99: p95 === null ? null : p95 * 1.2, mean: p95 === null ? null : p95 * 0.85 };
  return {
    id: `${id}@dev>${network}>srv`, kind: 'split', cut: id, precision: 'fp32', variant: '', network, device: 'dev', server: 'srv',
    accuracy, payloadBytes, deviceMs: 5, transferMs: lat, serverMs: 1, endToEndMs: lat, frameLossRate: 0,
    packetsLost: 0, retransmissions: 0, deviceMemoryBytes: 100 * MB, deviceMemoryLimitBytes: 1024 * MB, simulator: 'analytic',
    ...extra,
  };
}

// The table: five designs on a fast link, four on a slow one.
//           accuracy  p95 ms  payload
const table: Design[] = [
  design('block1_pool', 'fast', 0.70, 20, 64_000),
  design('block2_pool', 'fast', 0.85, 25, 16_000),
  design('block3_pool', 'fast', 0.90, 40, 8_000),
  design('block4_pool', 'fast', 0.88, 60, 4_000),                       // dominated by block3_pool
  design('local', 'fast', 0.92, 150, 0, { kind: 'local', deviceMemoryBytes: 900 * MB }),
  design('block1_pool', 'slow', 0.70, 400, 64_000),
  design('block2_pool', 'slow', 0.85, 120, 16_000),
  design('block3_pool', 'slow', 0.90, 80, 8_000),
  design('block4_pool', 'slow', 0.88, 70, 4_000),
];

describe('netsim recommendation', () => {
  it('filters by every constraint and chooses by the objective (latency), with reasons for each rejection', () => {
    const r = recommend(table, { minAccuracy: 0.8, maxLatencyMs: 50 });
    assert.deepEqual(r.feasible.map((d) => d.id), ['block2_pool@dev>fast>srv', 'block3_pool@dev>fast>srv']);
    assert.equal(r.chosen?.id, 'block2_pool@dev>fast>srv');
    assert.equal(r.rejected.length, table.length - 2);
    const why = Object.fromEntries(r.rejected.map((x) => [x.design.id, x.violations]));
    assert.deepEqual(why['block1_pool@dev>fast>srv'], [{ constraint: 'min-accuracy', limit: 0.8, actual: 0.7, by: 0.8 - 0.7 }]);
    assert.deepEqual(why['block4_pool@dev>fast>srv'], [{ constraint: 'max-latency', limit: 50, actual: 60, by: 10 }]);
    assert.deepEqual(why['block1_pool@dev>slow>srv'].map((v) => v.constraint), ['min-accuracy', 'max-latency']);
    assert.equal(why['block1_pool@dev>slow>srv'][1].by, 350);
    assert.equal(r.binding, undefined);
  });

  it('objective accuracy and bytes choose differently; tie-breaks settle equal objectives', () => {
    assert.equal(recommend(table, { minAccuracy: 0.8, maxLatencyMs: 100, objective: 'accuracy' }).chosen?.id, 'block3_pool@dev>fast>srv');
    assert.equal(recommend(table, { maxLatencyMs: 100, objective: 'bytes' }).chosen?.id, 'block4_pool@dev>fast>srv');
    // block3_pool has the same accuracy on both networks: the latency tie-break picks the fast link.
    const r = recommend(table, { minAccuracy: 0.9, maxLatencyMs: 100, objective: 'accuracy', tieBreak: ['latency'] });
    assert.deepEqual(r.feasible.map((d) => d.id), ['block3_pool@dev>fast>srv', 'block3_pool@dev>slow>srv']);
  });

  it('the latency ceiling applies at the chosen percentile', () => {
    // p95 40 ms → p99 48 ms, p50 32 ms.
    const only = [table[2]];
    assert.equal(recommend(only, { maxLatencyMs: 45, latencyPercentile: 'p95' }).feasible.length, 1);
    assert.equal(recommend(only, { maxLatencyMs: 45, latencyPercentile: 'p99' }).feasible.length, 0);
    assert.equal(recommend(only, { maxLatencyMs: 33, latencyPercentile: 'p50' }).feasible.length, 1);
  });

  it('payload, device memory (requirement and profile limit) and frame loss ceilings', () => {
    const lossy = design('lossy', 'fast', 0.95, 10, 1000, { frameLossRate: 0.2 });
    const big = design('big', 'fast', 0.95, 10, 1000, { deviceMemoryBytes: 2048 * MB });
    const v = violations(lossy, normalizeRequirements({ maxFrameLossRate: 0.05 }));
    assert.equal(v[0].constraint, 'max-frame-loss');
    assert.ok(Math.abs(v[0].by! - 0.15) < 1e-12);
    assert.deepEqual(violations(big, normalizeRequirements({})).map((x) => x.constraint), ['device-memory-limit']);
    assert.deepEqual(violations(table[4], normalizeRequirements({ maxDeviceMemoryMB: 512 })), [{ constraint: 'max-device-memory', limit: 512 * MB, actual: 900 * MB, by: 388 * MB }]);
    assert.deepEqual(violations(table[0], normalizeRequirements({ maxPayloadBytes: 10_000 })), [{ constraint: 'max-payload', limit: 10_000, actual: 64_000, by: 54_000 }]);
  });

  it('a design with every frame lost or no known accuracy breaks the constraint with an unknown value', () => {
    const dead = design('dead', 'fast', null, null, 1000);
    assert.deepEqual(violations(dead, normalizeRequirements({ minAccuracy: 0.5, maxLatencyMs: 10 })).map((v) => [v.constraint, v.actual, v.by]),
      [['min-accuracy', null, null], ['max-latency', null, null]]);
  });

  it('Pareto front of accuracy against latency per network', () => {
    const r = recommend(table, {});
    assert.deepEqual(r.pareto.fast.map((d) => d.cut), ['block1_pool', 'block2_pool', 'block3_pool', 'local']);
    assert.deepEqual(r.pareto.slow.map((d) => d.cut), ['block4_pool', 'block3_pool']);
    assert.deepEqual(paretoFront([], 'p95'), []);
  });

  it('nothing feasible: names the binding constraint and the smallest relaxation that admits a design', () => {
    const r = recommend(table, { minAccuracy: 0.89, maxLatencyMs: 30 });
    assert.equal(r.chosen, null);
    assert.equal(r.feasible.length, 0);
    // Alone, the latency ceiling blocks block3_pool (fast, 40 ms), block3_pool (slow, 80 ms) and
    // local (150 ms): three designs; the accuracy floor alone blocks block1/2_pool on the fast link.
    assert.equal(r.binding, 'max-latency');
    const lat = r.bindingDetail!.find((b) => b.constraint === 'max-latency')!;
    assert.equal(lat.admitsIfRelaxed, 3);
    assert.equal(lat.relaxTo, 40);
    assert.equal(lat.relaxBy, 10);
    const acc = r.bindingDetail!.find((b) => b.constraint === 'min-accuracy')!;
    assert.equal(acc.admitsIfRelaxed, 2);
    assert.equal(acc.relaxTo, 0.85);
    assert.match(r.summary, /binding constraint: max-latency/);
    assert.match(formatRecommendation(r), /binding constraints/);
  });

  it('ties on how many designs a relaxation admits go to the smaller relative relaxation', () => {
    const a = design('a', 'n', 0.79, 10, 100); // accuracy short by 0.01 (1.25 %)
    const b = design('b', 'n', 0.95, 60, 100); // latency over by 10 ms (20 %)
    const detail = bindingConstraints(recommend([a, b], { minAccuracy: 0.8, maxLatencyMs: 50 }).rejected);
    assert.deepEqual(detail.map((d) => d.constraint), ['min-accuracy', 'max-latency']);
  });

  it('when no single relaxation helps, the binding constraint is still named', () => {
    const r = recommend([design('x', 'n', 0.5, 500, 100)], { minAccuracy: 0.9, maxLatencyMs: 10 });
    assert.ok(r.binding);
    assert.ok(r.bindingDetail!.every((b) => b.admitsIfRelaxed === 0 && b.relaxTo === null));
    assert.match(r.summary, /no single relaxation/);
  });

  it('restricts to the requested networks, and refuses a network that was not simulated', () => {
    const sims = [{ designs: table }];
    const r = recommendFromSimulations(sims, { minAccuracy: 0.8 }, { networks: ['slow'] });
    assert.ok(r.feasible.every((d) => d.network === 'slow'));
    assert.deepEqual(Object.keys(r.pareto), ['slow']);
    assert.throws(() => recommendFromSimulations(sims, {}, { networks: ['lte'] }), (e: Error) => isUsageError(e) && /simulated networks: fast, slow/.test(e.message));
  });

  it('rejects bad requirements with the field and a usage error', () => {
    for (const bad of [{ minAccuracy: 1.5 }, { maxLatencyMs: -1 }, { objective: 'speed' }, { latencyPercentile: 'p90' }, { maxLatency: 10 }]) {
      assert.throws(() => parseRequirements(bad), (e: Error) => isUsageError(e) && /requirements/.test(e.message), JSON.stringify(bad));
    }
    assert.deepEqual(parseRequirements({ minAccuracy: 0.5 }), { minAccuracy: 0.5 });
  });
});
