// The ns-3 scenario against the analytic model: compiled once per test run into a temporary
// cache, then agreement within 5 % on lossless links, loss raising latency, and the failure modes
// (no ns-3, a scenario that does not compile) that must never turn into an analytic result.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateAnalytic } from '../../src/netsim/analytic.js';
import { Ns3Error, ensureScenario, ns3Status, scenarioSourcePath, simulateNs3 } from '../../src/netsim/ns3.js';
import { normalizeNetwork, type NetworkProfileInput } from '../../src/netsim/profiles.js';
import { simulate } from '../../src/netsim/simulate.js';
import type { FrameIn, SimulationResult } from '../../src/netsim/types.js';

const net = (p: Partial<NetworkProfileInput>) => normalizeNetwork({ bandwidthMbps: 1000, delayMs: 0.1, lossRate: 0, mtu: 1500, transport: 'tcp', ...p }, 'test');
const stream = (n: number, bytes: number, periodMs: number, offsetMs = 5): FrameIn[] =>
  Array.from({ length: n }, (_, i) => ({ bytes, readyAtMs: offsetMs + i * periodMs }));
const mean = (r: SimulationResult) => {
  const v = r.frames.map((f) => f.latencyMs).filter((x): x is number => x !== null);
  return v.reduce((a, b) => a + b, 0) / v.length;
};

describe('netsim ns-3 scenario', function () {
  const cache = mkdtempSync(join(tmpdir(), 'sei-ns3-test-'));
  const logs: string[] = [];
  before(async function () {
    if (!ns3Status().available) {
      // CI installs libns3-dev (.ci/run); a machine without it skips with the reason.
      console.log(`      (skipped: ${ns3Status().reason})`);
      this.skip();
    }
    this.timeout(180_000);
    await ensureScenario(cache, (m) => logs.push(m));
  });
  after(() => rmSync(cache, { recursive: true, force: true }));

  it('compiles once into <cache>/ns3/<hash>/ and reuses the build', async () => {
    assert.ok(logs.some((l) => l.includes('compiled in')), logs.join('\n'));
    const binary = await ensureScenario(cache);
    assert.match(binary, /ns3[\\/][0-9a-f]{16}[\\/]scenario$/);
    const mtime = statSync(binary).mtimeMs;
    const again = await ensureScenario(cache, (m) => logs.push(`again: ${m}`));
    assert.equal(again, binary);
    assert.equal(statSync(binary).mtimeMs, mtime);
    assert.ok(!logs.some((l) => l.startsWith('again: ')), 'no second compile');
  });

  const lossless: [string, Partial<NetworkProfileInput>, FrameIn[]][] = [
    ['TCP 1 Gbit/s 100 µs, 1 kB frames', {}, stream(20, 1_000, 10)],
    ['TCP 1 Gbit/s 100 µs, 100 kB frames', {}, stream(20, 100_000, 10)],
    ['TCP 1 Gbit/s 100 µs, one 1 MB frame', {}, [{ bytes: 1_000_000, readyAtMs: 0 }]],
    ['TCP 10 Mbit/s 10 ms, one 100 kB frame', { bandwidthMbps: 10, delayMs: 10 }, [{ bytes: 100_000, readyAtMs: 0 }]],
    ['TCP 50 Mbit/s 20 ms, 200 kB frames queueing', { bandwidthMbps: 50, delayMs: 20 }, stream(10, 200_000, 33)],
    ['TCP 40 Mbit/s 2 ms (Wi-Fi preset), 25 kB frames', { bandwidthMbps: 40, delayMs: 2 }, stream(20, 25_000, 100)],
    ['UDP 1 Gbit/s 100 µs, 50 kB frames', { transport: 'udp' }, stream(20, 50_000, 10)],
    ['UDP 0.25 Mbit/s, MTU 1280, 3 kB frames', { transport: 'udp', bandwidthMbps: 0.25, delayMs: 5, mtu: 1280 }, stream(5, 3_000, 50)],
  ];
  for (const [name, profile, frames] of lossless) {
    it(`agrees with the analytic model within 5 % on a lossless link: ${name}`, async () => {
      const n = net(profile);
      const a = simulateAnalytic(n, frames);
      const b = await simulateNs3(n, frames, { cacheDir: cache });
      assert.equal(b.simulator, 'ns3');
      assert.equal(b.frames.length, frames.length);
      b.frames.forEach((f, i) => {
        assert.ok(f.latencyMs !== null && a.frames[i].latencyMs !== null);
        const rel = Math.abs(f.latencyMs! - a.frames[i].latencyMs!) / f.latencyMs!;
        assert.ok(rel <= 0.05, `frame ${i}: ns-3 ${f.latencyMs} ms, analytic ${a.frames[i].latencyMs} ms`);
        assert.equal(f.packetsLost, 0);
      });
    });
  }

  it('loss raises the mean latency monotonically (TCP, 0 → 1 % → 5 %), in ns-3 and in the analytic model', async () => {
    const frames = stream(40, 100_000, 33);
    const ns3: number[] = [];
    const analytic: number[] = [];
    for (const lossRate of [0, 0.01, 0.05]) {
      const n = net({ lossRate });
      ns3.push(mean(await simulateNs3(n, frames, { cacheDir: cache, seed: 1 })));
      analytic.push(mean(simulateAnalytic(n, frames, { seed: 1 })));
    }
    for (let i = 1; i < 3; i++) {
      assert.ok(ns3[i] > ns3[i - 1], `ns-3: ${ns3.join(', ')}`);
      assert.ok(analytic[i] > analytic[i - 1], `analytic: ${analytic.join(', ')}`);
    }
  });

  it('UDP: lost packets lose frames, more with more loss, and are counted per frame', async () => {
    const frames = stream(200, 20_000, 2);
    const rates: number[] = [];
    for (const lossRate of [0, 0.01, 0.05]) {
      const r = await simulateNs3(net({ transport: 'udp', lossRate }), frames, { cacheDir: cache, seed: 2 });
      const lostFrames = r.frames.filter((f) => f.receivedMs === null);
      assert.ok(lostFrames.every((f) => f.packetsLost > 0 && f.latencyMs === null));
      assert.ok(r.frames.every((f) => f.retransmissions === 0));
      rates.push(lostFrames.length / frames.length);
    }
    assert.equal(rates[0], 0);
    assert.ok(rates[1] > 0 && rates[2] > rates[1], rates.join(', '));
    // 20 datagrams per frame: expected frame loss 1 − 0.95^20 = 0.64 at 5 %.
    assert.ok(Math.abs(rates[2] - (1 - 0.95 ** 20)) < 0.1, String(rates[2]));
  });

  it('TCP under loss: retransmissions repair every lost packet', async () => {
    const r = await simulateNs3(net({ lossRate: 0.02 }), stream(20, 50_000, 20), { cacheDir: cache, seed: 3 });
    assert.ok(r.frames.every((f) => f.receivedMs !== null));
    const lost = r.frames.reduce((a, f) => a + f.packetsLost, 0);
    const rtx = r.frames.reduce((a, f) => a + f.retransmissions, 0);
    assert.ok(lost > 0 && rtx >= lost, `lost ${lost}, retransmitted ${rtx}`);
  });

  it('a scenario that does not compile fails with the compiler output, never with an analytic result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sei-ns3-broken-'));
    const broken = join(dir, 'scenario.cc');
    writeFileSync(broken, `${readFileSync(scenarioSourcePath(), 'utf8')}\nthis is not C++;\n`);
    const saved = process.env.SEI_NS3_SCENARIO;
    process.env.SEI_NS3_SCENARIO = broken;
    const log: string[] = [];
    try {
      await assert.rejects(
        simulate(net({}), stream(2, 1000, 10), { simulator: 'ns3', cacheDir: join(dir, 'cache'), log: (m) => log.push(m) }),
        (e: Error) => e instanceof Ns3Error && /failed to compile/.test(e.message) && /error/.test(e.message),
      );
      assert.ok(log.some((l) => l.includes('compiler output') && l.includes('this is not C++')), log.join('\n'));
      assert.ok(!existsSync(join(dir, 'cache', 'ns3')) || !statSync(join(dir, 'cache', 'ns3')).isFile());
    } finally {
      if (saved === undefined) delete process.env.SEI_NS3_SCENARIO; else process.env.SEI_NS3_SCENARIO = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('netsim simulator choice without ns-3', () => {
  let saved: string | undefined;
  beforeEach(() => { saved = process.env.SEI_NS3_DISABLE; process.env.SEI_NS3_DISABLE = '1'; });
  afterEach(() => { if (saved === undefined) delete process.env.SEI_NS3_DISABLE; else process.env.SEI_NS3_DISABLE = saved; });

  it('auto says ns-3 is missing and uses the analytic model', async () => {
    const log: string[] = [];
    const r = await simulate(net({}), stream(3, 1000, 10), { simulator: 'auto', log: (m) => log.push(m) });
    assert.equal(r.simulator, 'analytic');
    assert.ok(log.some((l) => /ns-3 is not available/.test(l) && /analytic/.test(l)), log.join('\n'));
  });

  it('an explicit ns3 request fails instead of substituting the analytic model', async () => {
    await assert.rejects(simulate(net({}), stream(3, 1000, 10), { simulator: 'ns3', cacheDir: tmpdir() }), (e: Error) => e instanceof Ns3Error && /requested/.test(e.message));
  });
});
