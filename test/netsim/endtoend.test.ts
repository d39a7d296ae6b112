// End-to-end latency of a frame stream (device → network → server, each a FIFO) and the
// candidate designs built from evaluate results, with hand-computed answers.
import assert from 'node:assert/strict';
import { designSpecs, scaledMs, simulateDesign } from '../../src/netsim/designs.js';
import { endToEnd, percentiles } from '../../src/netsim/endtoend.js';
import { normalizeDevice, normalizeNetwork } from '../../src/netsim/profiles.js';

const udp = normalizeNetwork({ bandwidthMbps: 10, delayMs: 1, lossRate: 0, mtu: 1500, transport: 'udp' }, 'udp10');
const sim = { simulator: 'analytic' as const, seed: 1 };

describe('netsim end-to-end latency', () => {
  it('percentiles interpolate linearly and are null without values', () => {
    assert.deepEqual(percentiles([]), { p50: null, p95: null, p99: null, mean: null });
    const p = percentiles([4, 1, 3, 2]);
    assert.equal(p.p50, 2.5);
    assert.equal(p.mean, 2.5);
    assert.ok(Math.abs(p.p95! - 3.85) < 1e-12);
  });

  it('device + transfer + server when every stage keeps up', async () => {
    // 10,000 B over UDP at 10 Mbit/s, 1 ms: 9.24 ms (see the analytic tests); device 5 ms, server 2 ms.
    const r = await endToEnd(udp, { deviceMs: 5, serverMs: 2, payloadBytes: 10_000 }, { frameRateHz: 10, frames: 5 }, sim);
    for (const k of ['p50', 'p95', 'p99', 'mean'] as const) {
      assert.ok(Math.abs(r.endToEndMs[k]! - (5 + 9.24 + 2)) < 1e-9, `${k} ${r.endToEndMs[k]}`);
      assert.ok(Math.abs(r.transferMs[k]! - 9.24) < 1e-9);
    }
    assert.equal(r.frameLossRate, 0);
    assert.equal(r.simulator, 'analytic');
  });

  it('a device slower than the frame rate builds a queue: latency grows frame after frame', async () => {
    // 150 ms per frame at 10 frames/s: frame i leaves the device at 150 (i + 1) ms, captured at 100 i.
    const r = await endToEnd(udp, { deviceMs: 150, serverMs: 0, payloadBytes: 1000 }, { frameRateHz: 10, frames: 4 }, sim);
    const transfer = ((1000 + 30) * 8) / 10_000 + 1;
    const expected = [0, 1, 2, 3].map((i) => 150 * (i + 1) - 100 * i + transfer);
    assert.ok(Math.abs(r.endToEndMs.mean! - expected.reduce((a, b) => a + b, 0) / 4) < 1e-9);
    assert.ok(Math.abs(r.endToEndMs.p99! - (expected[2] + 0.97 * (expected[3] - expected[2]))) < 1e-9);
  });

  it('a link slower than the frame rate queues frames on the link', async () => {
    // 100,000 B at 10 Mbit/s takes 82.4 ms on the wire (99 datagrams of 1,010 B + one of 10 B);
    // at 20 frames/s (50 ms apart) each frame waits longer than the one before.
    const r = await endToEnd(udp, { deviceMs: 0, serverMs: 0, payloadBytes: 100_000 }, { frameRateHz: 20, frames: 10 }, sim);
    assert.ok(r.transferMs.p99! > r.transferMs.p50! + 100);
  });

  it('nothing sent: local computing has no transfer and no simulator', async () => {
    const r = await endToEnd(udp, { deviceMs: 30, serverMs: 0, payloadBytes: 0 }, { frameRateHz: 10, frames: 3 }, sim);
    assert.equal(r.endToEndMs.mean, 30);
    assert.equal(r.transferMs.mean, 0);
    assert.equal(r.simulator, null);
  });

  it('UDP loss: lost frames count in the frame loss rate, not in the latency', async () => {
    const lossy = normalizeNetwork({ bandwidthMbps: 100, delayMs: 1, lossRate: 0.05, mtu: 1500, transport: 'udp' }, 'lossy');
    const r = await endToEnd(lossy, { deviceMs: 1, serverMs: 1, payloadBytes: 20_000 }, { frameRateHz: 100, frames: 500 }, sim);
    assert.ok(Math.abs(r.frameLossRate - (1 - 0.95 ** 20)) < 0.07, String(r.frameLossRate));
    assert.ok(r.packetsLost > 0);
  });

  it('rejects a non-positive frame rate or frame count', async () => {
    await assert.rejects(endToEnd(udp, { deviceMs: 0, serverMs: 0, payloadBytes: 1 }, { frameRateHz: 0, frames: 1 }, sim), /frame rate/);
    await assert.rejects(endToEnd(udp, { deviceMs: 0, serverMs: 0, payloadBytes: 1 }, { frameRateHz: 1, frames: 0 }, sim), /frames/);
  });
});

describe('netsim designs from evaluate results', () => {
  const metrics = (cut: string, accuracy: number, elements: number) => ({
    cut, accuracy, baseAccuracy: 0.9,
    payload: { rawElements: elements * 4, bottleneckElements: elements, bytes: { raw: { fp32: elements * 16, fp16: elements * 8, int8: elements * 4 + 4 }, bottleneck: { fp32: elements * 4, fp16: elements * 2, int8: elements + 4 } } },
    quantizedAccuracy: { fp32: accuracy, fp16: accuracy - 0.001, int8: accuracy - 0.01 },
    device: { flops: 2e9, params: 1000, peakActivationBytes: 4096, timeMs: { p50: 10, min: 9, max: 12 } },
    server: { flops: 8e9, params: 5000, timeMs: { p50: 40, min: 38, max: 45 } },
  });
  const cells = [
    { cellId: 'a'.repeat(64), coords: { cut: 'c1', 'bottleneck.ratio': 8, 'dataset.classes': 'all' }, metrics: metrics('c1', 0.8, 1000) },
    { cellId: 'b'.repeat(64), coords: { cut: 'c2', 'bottleneck.ratio': 4, 'dataset.classes': 'all' }, metrics: metrics('c2', 0.85, 250) },
  ];

  it('one split design per cell × precision, then local and remote computing', () => {
    const { specs, notes } = designSpecs(cells, { precisions: ['fp32', 'int8'], inputBytes: 3072 });
    assert.deepEqual(specs.map((s) => `${s.kind}:${s.cut}:${s.precision}`), ['split:c1:fp32', 'split:c1:int8', 'split:c2:fp32', 'split:c2:int8', 'local:all-on-device:none', 'remote:all-on-server:uint8']);
    const c2int8 = specs[3];
    assert.equal(c2int8.payloadBytes, 254);
    assert.equal(c2int8.accuracy, 0.84);
    // Only the coordinates that tell the cells apart label a design; the shared subset does not.
    assert.equal(c2int8.variant, 'ratio=4');
    assert.equal(specs[0].variant, 'ratio=8');
    assert.equal(c2int8.deviceMemoryBytes, 1000 * 4 + 4096);
    const local = specs[4];
    assert.deepEqual(local.device, { measuredMs: 50, flops: 10e9 });
    assert.equal(local.accuracy, 0.9);
    assert.equal(local.payloadBytes, 0);
    assert.equal(specs[5].payloadBytes, 3072);
    assert.deepEqual(notes, []);
    const without = designSpecs(cells, { precisions: ['fp32'] });
    assert.ok(without.notes.some((n) => /remote computing baseline skipped/.test(n)));
  });

  it('names the missing field of a malformed evaluate result', () => {
    assert.throws(() => designSpecs([{ cellId: 'c'.repeat(64), coords: {}, metrics: { cut: 'x' } }], { precisions: ['fp32'] }), /metrics\.device\.timeMs\.p50/);
  });

  it('device and server time: measured time ÷ relative speed, or FLOPs ÷ effective GFLOP/s, plus overhead', async () => {
    const pi = normalizeDevice({ effectiveGflops: 10, memoryMB: 1024, overheadMs: 1 }, 'pi');
    const fast = normalizeDevice({ relativeSpeed: 4, memoryMB: 4096 }, 'fast');
    assert.equal(scaledMs({ measuredMs: 10, flops: 2e9 }, pi), 201);
    assert.equal(scaledMs({ measuredMs: 40, flops: 8e9 }, fast), 10);
    assert.equal(scaledMs(null, pi), 0);
    const { specs } = designSpecs(cells, { precisions: ['fp32'] });
    const d = await simulateDesign(specs[0], udp, pi, fast, { frameRateHz: 1, frames: 3 }, sim);
    assert.equal(d.id, 'c1[ratio=8]/fp32@pi>udp10>fast');
    assert.equal(d.deviceMs, 201);
    assert.equal(d.serverMs, 10);
    assert.equal(d.deviceMemoryLimitBytes, 1024 * 1024 * 1024);
    assert.ok(Math.abs(d.endToEndMs.p50! - (201 + d.transferMs.p50! + 10)) < 1e-9);
  });
});
