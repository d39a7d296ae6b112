// Known answers of the analytic network model, worked out by hand from the link parameters.
import assert from 'node:assert/strict';
import { simulateAnalytic } from '../../src/netsim/analytic.js';
import { normalizeNetwork, type NetworkProfileInput } from '../../src/netsim/profiles.js';
import type { FrameIn } from '../../src/netsim/types.js';

const net = (p: Partial<NetworkProfileInput>) => normalizeNetwork({ bandwidthMbps: 10, delayMs: 1, lossRate: 0, mtu: 1500, transport: 'tcp', ...p }, 'test');
const close = (actual: number | null, expected: number, tol = 1e-6) => {
  assert.ok(actual !== null, 'frame lost');
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
};
const stream = (n: number, bytes: number, periodMs: number, offsetMs = 0): FrameIn[] =>
  Array.from({ length: n }, (_, i) => ({ bytes, readyAtMs: offsetMs + i * periodMs }));
const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.reduce((a, b) => a + b, 0) / v.length;
};

describe('netsim analytic model: known answers', () => {
  it('UDP: 10,000 B at 10 Mbit/s, 1 ms → 9 datagrams of 1,010 B + one of 910 B, 28 B IP/UDP + 2 B PPP each', () => {
    // wire bytes: 9 × 1,040 + 940 = 10,300 → 8.24 ms of serialisation, + 1 ms propagation.
    const r = simulateAnalytic(net({ transport: 'udp' }), [{ bytes: 10_000, readyAtMs: 0 }]);
    close(r.frames[0].latencyMs, 9.24);
    assert.equal(r.handshakeMs, null);
    assert.equal(r.frames[0].packetsLost, 0);
  });

  it('UDP: frames arriving faster than the link drains them queue (FIFO)', () => {
    // The second frame waits for the first one's 8.24 ms on the wire.
    const r = simulateAnalytic(net({ transport: 'udp' }), [{ bytes: 10_000, readyAtMs: 0 }, { bytes: 10_000, readyAtMs: 1 }]);
    close(r.frames[0].latencyMs, 9.24);
    close(r.frames[1].receivedMs, 8.24 * 2 + 1);
    close(r.frames[1].latencyMs, 8.24 * 2 + 1 - 1);
  });

  it('UDP datagrams never exceed the MTU: the chunk is capped at MTU − 28', () => {
    // MTU 576 → 548-byte datagrams: 2,000 B = 3 × 548 + 356 → wire 3 × 578 + 386 = 2,120 B.
    const r = simulateAnalytic(net({ transport: 'udp', mtu: 576, bandwidthMbps: 1, delayMs: 0 }), [{ bytes: 2000, readyAtMs: 0 }]);
    close(r.frames[0].latencyMs, (2120 * 8) / 1000);
  });

  it('TCP, one segment: handshake (SYN + SYN-ACK), the final ACK, then the segment', () => {
    // 1 Mbit/s, 5 ms: SYN and SYN-ACK are 58 B on the wire (0.464 ms each) → connected at
    // 2 × (0.464 + 5) = 10.928 ms; the ACK (54 B, 0.432 ms) goes first; the segment is
    // 1,000 + 52 + 2 = 1,054 B (8.432 ms); + 5 ms → 24.792 ms.
    const r = simulateAnalytic(net({ bandwidthMbps: 1, delayMs: 5 }), [{ bytes: 1000, readyAtMs: 0 }]);
    close(r.handshakeMs, 10.928);
    close(r.frames[0].latencyMs, 24.792);
  });

  it('TCP slow start: 100,000 B at 10 Mbit/s, 10 ms → 122.3888 ms (ns-3 gives the same)', () => {
    // MSS 1,448 → 70 segments (69 full, the last 88 B); a full segment is 1,502 B (1.2016 ms).
    // Connected at 20.0928 ms; data from 20.136 ms (after the 0.0432 ms ACK).
    // Round 1: 10 segments (12.016 ms) < one round trip (1.2016 + 20 + 0.0432 = 21.2448 ms), so
    // round 2 starts at 41.3808 ms; from then on each round outlasts a round trip and the link
    // stays busy: 59 full segments + the 142 B last one (0.1136 ms) → 112.3888 ms, + 10 ms.
    const r = simulateAnalytic(net({ bandwidthMbps: 10, delayMs: 10 }), [{ bytes: 100_000, readyAtMs: 0 }]);
    close(r.frames[0].latencyMs, 122.3888);
  });

  it('TCP: 1,000,000 B at 1 Gbit/s, 100 µs → 8.69216 ms (ns-3 gives the same)', () => {
    // 691 segments; connected at 0.200928 ms, data from 0.20136 ms; round 1 (10 segments,
    // 0.12016 ms) < 0.212448 ms, so round 2 starts at 0.413808 ms and the remaining 680 full
    // segments (12.016 µs each) and the 934 B last one (7.472 µs) follow back to back, + 0.1 ms.
    const r = simulateAnalytic(net({ bandwidthMbps: 1000, delayMs: 0.1 }), [{ bytes: 1_000_000, readyAtMs: 0 }]);
    close(r.frames[0].latencyMs, 8.69216);
  });

  it('TCP: a frame ready after the handshake does not pay for it', () => {
    const n = net({ bandwidthMbps: 1, delayMs: 5 });
    const r = simulateAnalytic(n, [{ bytes: 1000, readyAtMs: 50 }]);
    close(r.frames[0].latencyMs, 8.432 + 5);
  });

  it('TCP: a frame written while the previous one is in flight shares the congestion window', () => {
    // Two 200 kB frames 33 ms apart on 50 Mbit/s / 20 ms: the second one waits for the window
    // (as in ns-3, which gives 192.36 ms and 213.54 ms).
    const r = simulateAnalytic(net({ bandwidthMbps: 50, delayMs: 20 }), [{ bytes: 200_000, readyAtMs: 5 }, { bytes: 200_000, readyAtMs: 38 }]);
    assert.ok(Math.abs(r.frames[0].latencyMs! - 192.36) / 192.36 < 0.01, String(r.frames[0].latencyMs));
    assert.ok(Math.abs(r.frames[1].latencyMs! - 213.54) / 213.54 < 0.01, String(r.frames[1].latencyMs));
  });

  it('equal seeds give equal results, other seeds other losses', () => {
    const n = net({ lossRate: 0.05, bandwidthMbps: 100 });
    const frames = stream(30, 50_000, 20);
    assert.deepEqual(simulateAnalytic(n, frames, { seed: 7 }), simulateAnalytic(n, frames, { seed: 7 }));
    assert.notDeepEqual(simulateAnalytic(n, frames, { seed: 7 }).frames, simulateAnalytic(n, frames, { seed: 8 }).frames);
  });

  it('rejects frames out of order and negative sizes', () => {
    assert.throws(() => simulateAnalytic(net({}), [{ bytes: 1, readyAtMs: 5 }, { bytes: 1, readyAtMs: 1 }]), /order/);
    assert.throws(() => simulateAnalytic(net({}), [{ bytes: -1, readyAtMs: 0 }]), /bytes/);
  });
});

describe('netsim analytic model under loss', () => {
  it('TCP: mean latency grows with the loss rate (0, 1 %, 3 %, 5 %; 5 seeds × 200 frames)', () => {
    const frames = stream(200, 100_000, 33, 5);
    const means = [0, 0.01, 0.03, 0.05].map((lossRate) => mean([1, 2, 3, 4, 5].map((seed) =>
      mean(simulateAnalytic(net({ bandwidthMbps: 1000, delayMs: 0.1, lossRate }), frames, { seed }).frames.map((f) => f.latencyMs)))));
    for (let i = 1; i < means.length; i++) assert.ok(means[i] > means[i - 1], `loss step ${i}: ${means.join(', ')}`);
  });

  it('TCP: every lost packet is retransmitted and no frame is lost', () => {
    const r = simulateAnalytic(net({ bandwidthMbps: 100, delayMs: 1, lossRate: 0.05 }), stream(50, 30_000, 20), { seed: 2 });
    const lost = r.frames.reduce((a, f) => a + f.packetsLost, 0);
    const rtx = r.frames.reduce((a, f) => a + f.retransmissions, 0);
    assert.ok(lost > 0);
    assert.equal(rtx, lost, 'one retransmission per lost transmission');
    assert.ok(r.frames.every((f) => f.receivedMs !== null));
  });

  it('TCP: a lost tail segment costs a retransmission timeout (200 ms)', () => {
    // A single-segment frame has no later segments to trigger duplicate ACKs.
    const n = net({ bandwidthMbps: 1000, delayMs: 0.1, lossRate: 0.3 });
    const r = simulateAnalytic(n, stream(100, 1000, 500, 1), { seed: 1 });
    const slow = r.frames.filter((f) => f.packetsLost > 0);
    assert.ok(slow.length > 10);
    for (const f of slow) assert.ok(f.latencyMs! >= 200, `latency ${f.latencyMs}`);
    // A frame without loss is fast unless it waits behind an earlier, still undelivered one.
    r.frames.forEach((f, i) => {
      const blocked = i > 0 && r.frames[i - 1].receivedMs! > f.sentMs;
      if (f.packetsLost === 0 && !blocked) assert.ok(f.latencyMs! < 1, `frame ${i}: ${f.latencyMs}`);
    });
  });

  it('UDP: the frame loss rate follows 1 − (1 − p)^k and grows with p', () => {
    // 10,000 B = 10 datagrams; at p = 2 % a frame survives with probability 0.98^10 = 0.817.
    const frames = stream(4000, 10_000, 1);
    const rate = (p: number) => simulateAnalytic(net({ transport: 'udp', bandwidthMbps: 1000, lossRate: p }), frames, { seed: 5 }).frames.filter((f) => f.receivedMs === null).length / frames.length;
    const r2 = rate(0.02);
    assert.ok(Math.abs(r2 - (1 - 0.98 ** 10)) < 0.02, `frame loss ${r2}`);
    const rates = [0, 0.01, 0.02, 0.05].map(rate);
    assert.equal(rates[0], 0);
    for (let i = 1; i < rates.length; i++) assert.ok(rates[i] > rates[i - 1], rates.join(', '));
  });
});
