// Network and device profiles: the shipped configs load, bad values are refused with the field
// named (usage errors, exit 2), unknown names list the known ones.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUsageError } from '../../src/util/errors.js';
import {
  knownProfiles, loadDevice, loadNetwork, normalizeDevice, normalizeNetwork, tcpMss, udpDatagramPayload,
} from '../../src/netsim/profiles.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const usage = (pattern: RegExp) => (e: Error) => isUsageError(e) && pattern.test(e.message);

describe('netsim profiles', () => {
  it('ships the reference link, its lossy variants, radio presets and device/server profiles, all valid', () => {
    const nets = knownProfiles(root, 'networks');
    for (const n of ['p2p-1g', 'p2p-1g-loss1', 'p2p-1g-loss5', 'wifi', 'lte', '5g', 'ieee802154']) assert.ok(nets.includes(n), n);
    for (const n of nets) assert.equal(loadNetwork(root, n).name, n);
    const ref = loadNetwork(root, 'p2p-1g');
    assert.deepEqual([ref.bandwidthMbps, ref.delayMs, ref.lossRate, ref.transport, ref.chunkBytes, ref.tcp.rtoMs], [1000, 0.1, 0, 'tcp', 1010, 200]);
    assert.equal(loadNetwork(root, 'p2p-1g-loss5').lossRate, 0.05);
    const devs = knownProfiles(root, 'devices');
    for (const d of ['raspberry-pi-4', 'jetson-nano', 'stm32h7', 'server-gpu', 'this-machine']) assert.ok(devs.includes(d), d);
    for (const d of devs) assert.ok(loadDevice(root, d).memoryMB > 0);
  });

  it('derives the TCP MSS and the UDP datagram size from the MTU', () => {
    assert.equal(tcpMss({ mtu: 1500 }), 1448);
    assert.equal(udpDatagramPayload({ mtu: 1500, chunkBytes: 1010 }), 1010);
    assert.equal(udpDatagramPayload({ mtu: 576, chunkBytes: 1010 }), 548);
  });

  it('refuses zero or negative bandwidth and a loss rate outside [0, 1)', () => {
    const base = { bandwidthMbps: 10, delayMs: 1, lossRate: 0, mtu: 1500, transport: 'tcp' as const };
    assert.throws(() => normalizeNetwork({ ...base, bandwidthMbps: 0 }, 'x'), usage(/bandwidthMbps/));
    assert.throws(() => normalizeNetwork({ ...base, bandwidthMbps: -5 }, 'x'), usage(/bandwidthMbps must be a number > 0 \(got -5\)/));
    assert.throws(() => normalizeNetwork({ ...base, lossRate: 1 }, 'x'), usage(/lossRate must be in \[0, 1\)/));
    assert.throws(() => normalizeNetwork({ ...base, lossRate: -0.1 }, 'x'), usage(/lossRate/));
    assert.throws(() => normalizeNetwork({ ...base, transport: 'sctp' as never }, 'x'), usage(/transport/));
    assert.throws(() => normalizeNetwork({ ...base, speed: 3 } as never, 'x'), usage(/speed/));
  });

  it('refuses a device profile without exactly one way to scale compute, or without memory', () => {
    assert.throws(() => normalizeDevice({ memoryMB: 10 }, 'd'), usage(/exactly one of relativeSpeed/));
    assert.throws(() => normalizeDevice({ memoryMB: 10, relativeSpeed: 1, effectiveGflops: 5 }, 'd'), usage(/exactly one/));
    assert.throws(() => normalizeDevice({ memoryMB: 0, relativeSpeed: 1 }, 'd'), usage(/memoryMB/));
    assert.throws(() => normalizeDevice({ memoryMB: 10, effectiveGflops: -1 }, 'd'), usage(/effectiveGflops/));
  });

  it('unknown names list the known ones', () => {
    assert.throws(() => loadNetwork(root, 'carrier-pigeon'), usage(/unknown network "carrier-pigeon" \(known networks: .*p2p-1g.*wifi/));
    assert.throws(() => loadDevice(root, 'toaster'), usage(/unknown device "toaster" \(known devices: .*raspberry-pi-4/));
    assert.throws(() => loadNetwork(root, '../etc/passwd'), usage(/unknown network/));
  });

  it('a bad config file is reported with its file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sei-profiles-'));
    try {
      mkdirSync(join(dir, 'configs', 'networks'), { recursive: true });
      writeFileSync(join(dir, 'configs', 'networks', 'bad.yaml'), 'bandwidthMbps: 10\ndelayMs: 1\nlossRate: 1.5\nmtu: 1500\ntransport: tcp\n');
      assert.throws(() => loadNetwork(dir, 'bad'), usage(/bad\.yaml:3:\d+: lossRate/));
      writeFileSync(join(dir, 'configs', 'networks', 'zero.yaml'), 'bandwidthMbps: 0\ndelayMs: 1\nlossRate: 0\nmtu: 1500\ntransport: tcp\n');
      assert.throws(() => loadNetwork(dir, 'zero'), usage(/zero\.yaml:1:\d+: bandwidthMbps/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
