// simulate → recommend through the real orchestrator and store (evaluate results come from a fixed
// fixture table), then `sei recommend` reading the finished cells back; and the stages' bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import simulateStage from '../../src/stages/simulate/index.js';
import type { StageContext, UpstreamOutput } from '../../src/stages/types.js';
import type { Design, DesignSummary } from '../../src/netsim/designs.js';
import type { Recommendation } from '../../src/netsim/recommend.js';
import { openStore } from '../../src/store/store.js';
import { ns3Status } from '../../src/netsim/ns3.js';
import { FIXED_EVALUATE } from './fixtures/stages/fixed-evaluate/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const SEI = join(root, 'bin', 'sei.js');
const PIPELINE = join(root, 'test', 'netsim', 'fixtures', 'split.yaml');
const env = { ...process.env, SEI_STAGE_PATH: join(here, 'fixtures', 'stages') };

function sei(...args: string[]) {
  const r = spawnSync(process.execPath, [SEI, ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('netsim stages through the orchestrator and `sei recommend`', function () {
  this.timeout(60_000);
  const store = mkdtempSync(join(tmpdir(), 'sei-netsim-store-'));
  after(() => rmSync(store, { recursive: true, force: true }));

  before(() => {
    const r = sei('run', PIPELINE, '--store', store, '--no-progress');
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  it('recommends from the store: feasible designs, the chosen one, Pareto fronts, rejections with reasons', () => {
    const r = sei('recommend', PIPELINE, '--store', store, '--json');
    assert.equal(r.code, 0, r.stderr);
    const rec = JSON.parse(r.stdout) as Recommendation;
    // 3 cuts × 2 precisions + local + remote, on 3 networks.
    assert.equal(rec.feasible.length + rec.rejected.length, 8 * 3);
    assert.deepEqual(Object.keys(rec.pareto).sort(), ['lte', 'p2p-1g', 'wifi-lossy']);
    assert.equal(rec.requirements.minAccuracy, 0.85);
    assert.ok(rec.chosen);
    for (const d of rec.feasible) {
      assert.ok(d.accuracy! >= 0.85 && d.endToEndMs.p95! <= 400, d.id);
    }
    for (const x of rec.rejected) assert.ok(x.violations.length > 0 && x.violations.every((v) => v.constraint && v.limit !== undefined));
    // Low accuracy block1_pool is rejected for accuracy, with the shortfall.
    const b1 = rec.rejected.find((x) => x.design.id.startsWith('block1_pool/fp32') && x.design.network === 'p2p-1g')!;
    assert.equal(b1.violations[0].constraint, 'min-accuracy');
    assert.ok(Math.abs(b1.violations[0].by! - (0.85 - FIXED_EVALUATE.block1_pool[0])) < 1e-9);
  });

  it('the simulate cell carries the designs with the contract fields, the profiles and the simulator', () => {
    const r = sei('recommend', PIPELINE, '--store', store, '--json', '--network', 'lte', '--min-accuracy', '0');
    const rec = JSON.parse(r.stdout) as Recommendation;
    const all: DesignSummary[] = [...rec.feasible, ...rec.rejected.map((x) => x.design)];
    assert.ok(all.every((d) => d.network === 'lte'));
    const split = all.find((d) => d.kind === 'split' && d.cut === 'block3_pool' && d.precision === 'fp32')!;
    for (const k of ['cut', 'precision', 'payloadBytes', 'deviceMs', 'transferMs', 'serverMs', 'endToEndMs', 'frameLossRate', 'simulator'] as const) assert.ok(k in split, k);
    assert.equal(split.payloadBytes, 2048 * 4);
    // raspberry-pi-4: 12 GFLOP/s effective → 1.9 GFLOP takes 158.3 ms; server-gpu: 13.6 GFLOP at 2,000 GFLOP/s + 0.5 ms.
    assert.ok(Math.abs(split.deviceMs - 1.9e9 / 12e9 * 1000) < 1e-6);
    assert.ok(Math.abs(split.serverMs - (13.6e9 / 2000e9 * 1000 + 0.5)) < 1e-6);
    assert.equal(split.simulator, 'analytic');
    // End-to-end ≥ device + transfer + server for every frame, so for the percentiles too.
    assert.ok(split.endToEndMs.p50! >= split.deviceMs + split.serverMs);
    const local = all.find((d) => d.kind === 'local')!;
    assert.equal(local.payloadBytes, 0);
    assert.equal(local.simulator, null);
    const remote = all.find((d) => d.kind === 'remote')!;
    assert.equal(remote.payloadBytes, 150528);
    assert.equal(remote.deviceMs, 0);
  });

  it('prints a readable report, and names the binding constraint when nothing is feasible', () => {
    const ok = sei('recommend', PIPELINE, '--store', store);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /chosen: \S+/);
    assert.match(ok.stdout, /Pareto front on lte/);
    assert.match(ok.stdout, /rejected designs/);
    const none = sei('recommend', 'netsim-e2e', '--store', store, '--min-accuracy', '0.95');
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /chosen: none/);
    assert.match(none.stdout, /binding constraint: min-accuracy/);
  });

  it('the recommend stage stored the same recommendation', () => {
    const list = sei('status', 'netsim-e2e', '--store', store, '--json');
    assert.equal(list.code, 0, list.stderr);
    const r = sei('recommend', PIPELINE, '--store', store, '--json');
    const viaCli = JSON.parse(r.stdout) as Recommendation;
    const s = openStore(store, { readonly: true });
    try {
      const cell = s.listCells({ pipeline: 'netsim-e2e' }).find((c) => c.stage === 'recommend')!;
      assert.equal(cell.state, 'done');
      assert.equal((cell.metrics as unknown as Recommendation).chosen?.id, viaCli.chosen?.id);
      assert.match(readFileSync(join(cell.dir!, 'recommendation.txt'), 'utf8'), /chosen: /);
    } finally {
      s.close();
    }
  });

  it('a simulate result stored by an older simulate that lacks a field: recommend names the cell, the field and what was expected', () => {
    // A copy of the finished store whose simulate rows lack frameLossRate in every design, as a
    // result recorded before that field existed would.
    const old = mkdtempSync(join(tmpdir(), 'sei-netsim-old-'));
    try {
      cpSync(store, old, { recursive: true });
      const db = new Database(join(old, 'store.sqlite'));
      try {
        const rows = db.prepare(`SELECT key, metrics FROM cells WHERE stage = 'simulate' AND state = 'done'`).all() as { key: string; metrics: string }[];
        assert.equal(rows.length, 1);
        for (const r of rows) {
          const m = JSON.parse(r.metrics) as { designs: Record<string, unknown>[] };
          for (const d of m.designs) delete d.frameLossRate;
          db.prepare('UPDATE cells SET metrics = ? WHERE key = ?').run(JSON.stringify(m), r.key);
        }
      } finally {
        db.close();
      }
      const expected = /cell [0-9a-f]{12} \(simulate\): metrics of stage 'simulate' do not match its declared schema: \/designs\/0\/frameLossRate: missing \(expected number\) \(and at 23 more \/designs\/\*\/frameLossRate\)/;
      const cli = sei('recommend', PIPELINE, '--store', old);
      assert.equal(cli.code, 2, cli.stderr);
      assert.match(cli.stderr, expected);
      assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace');
      // The recommend stage reads the same row (cached simulate) and fails its cell with the same words.
      const run = sei('run', PIPELINE, '--store', old, '--no-progress', '--set', 'requirements.minAccuracy=0.5');
      assert.equal(run.code, 1, run.stderr + run.stdout);
      assert.match(run.stdout + run.stderr, expected);
      const s = openStore(old, { readonly: true });
      try {
        const failed = s.listCells({ pipeline: 'netsim-e2e' }).filter((c) => c.state === 'failed');
        assert.deepEqual(failed.map((c) => c.stage), ['recommend']);
        assert.match(failed[0]!.error ?? '', expected);
      } finally {
        s.close();
      }
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });

  it('bad input exits 2 with a clear message', () => {
    const unknownNet = sei('recommend', PIPELINE, '--store', store, '--network', 'carrier-pigeon');
    assert.equal(unknownNet.code, 2, unknownNet.stderr);
    assert.match(unknownNet.stderr, /network "carrier-pigeon" was not simulated \(simulated networks: lte, p2p-1g, wifi-lossy\)/);
    const badNumber = sei('recommend', PIPELINE, '--store', store, '--max-latency-ms', 'fast');
    assert.equal(badNumber.code, 2, badNumber.stderr);
    assert.match(badNumber.stderr, /--max-latency-ms expects a number/);
    const badAcc = sei('recommend', PIPELINE, '--store', store, '--min-accuracy', '2');
    assert.equal(badAcc.code, 2, badAcc.stderr);
    assert.match(badAcc.stderr, /minAccuracy/);
    const noStore = sei('recommend', PIPELINE, '--store', join(store, 'nowhere'));
    assert.equal(noStore.code, 2, noStore.stderr);
    const plan = sei('plan', PIPELINE, '--store', store, '--set', 'stages.simulate.params.networks=[p2p-1g, carrier-pigeon]', '--set', 'stages.simulate.params.server=toaster');
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stderr, /unknown network "carrier-pigeon" \(known networks: .*p2p-1g/);
    assert.match(plan.stderr, /unknown device "toaster" \(known devices: .*server-gpu/);
    const zero = sei('plan', PIPELINE, '--store', store, '--set', 'stages.simulate.params.networks=[{bandwidthMbps: 0, delayMs: 1, lossRate: 1, mtu: 1500, transport: tcp}]');
    assert.equal(zero.code, 2, zero.stderr);
    assert.match(zero.stderr, /bandwidthMbps/);
    assert.match(zero.stderr, /lossRate/);
  });
});


describe('netsim simulate stage with ns-3 through the orchestrator', function () {
  this.timeout(120_000);
  const store = mkdtempSync(join(tmpdir(), 'sei-netsim-ns3-store-'));
  after(() => rmSync(store, { recursive: true, force: true }));

  it('compiles the scenario into <store>/cache/ns3/ and agrees with the analytic run within 5 % on a lossless link', function () {
    if (!ns3Status().available) this.skip();
    const only = ['--set', 'stages.simulate.params.networks=[p2p-1g, { use: networks/lte, name: lte-lossless, lossRate: 0 }]'];
    const a = sei('run', PIPELINE, '--store', store, '--no-progress', ...only);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    const n = sei('run', PIPELINE, '--store', store, '--no-progress', ...only, '--set', 'stages.simulate.params.simulator=ns3');
    assert.equal(n.code, 0, n.stderr + n.stdout);
    assert.ok(readdirSync(join(store, 'cache', 'ns3')).some((d) => /^[0-9a-f]{16}$/.test(d)));
    const s = openStore(store, { readonly: true });
    try {
      const sims = s.listCells({}).filter((c) => c.stage === 'simulate' && c.state === 'done');
      const byName = (sim: string) => sims.find((c) => (c.metrics as { simulator: string }).simulator === sim)!.metrics!.designs as Design[];
      const analytic = byName('analytic');
      const ns3 = byName('ns3');
      assert.equal(ns3.length, analytic.length);
      for (const d of ns3) {
        const twin = analytic.find((x) => x.id === d.id)!;
        if (d.payloadBytes === 0) continue;
        assert.equal(d.simulator, 'ns3');
        const rel = Math.abs(d.endToEndMs.mean! - twin.endToEndMs.mean!) / d.endToEndMs.mean!;
        assert.ok(rel <= 0.05, `${d.id}: ns-3 ${d.endToEndMs.mean} ms, analytic ${twin.endToEndMs.mean} ms`);
      }
    } finally {
      s.close();
    }
  });
});

function fakeEvaluations(): UpstreamOutput[] {
  return Object.keys(FIXED_EVALUATE).map((cut, i) => ({
    cellId: `${i}`.repeat(64), stage: 'fixed-evaluate', instance: 'evaluate', coords: { cut }, params: { cut }, dir: tmpdir(),
    metrics: {} as Record<string, unknown>,
  }));
}

describe('netsim simulate stage, run directly', () => {
  it('an explicit ns3 request without ns-3 fails the cell instead of simulating analytically', async () => {
    const saved = process.env.SEI_NS3_DISABLE;
    process.env.SEI_NS3_DISABLE = '1';
    const logs: string[] = [];
    const ctx: StageContext<never> = {
      params: { networks: ['p2p-1g'], devices: ['this-machine'], server: 'server-gpu', precisions: ['fp32'], frameRateHz: 10, frames: 5, simulator: 'ns3', seed: 1, baselines: false } as never,
      inputs: { evaluations: fakeEvaluations() }, outDir: tmpdir(), cacheDir: tmpdir(), log: (m) => logs.push(m), progress: () => {},
      setProvenance: () => {}, signal: new AbortController().signal, settings: {},
    };
    // Real evaluate-shaped metrics from the fixture stage.
    const fixture = (await import('./fixtures/stages/fixed-evaluate/index.js')).default;
    for (const e of ctx.inputs.evaluations as UpstreamOutput[]) {
      e.metrics = (await fixture.run({ ...ctx, params: { cut: e.coords.cut } } as never)).metrics;
    }
    try {
      await assert.rejects(simulateStage.run(ctx), /ns3 was requested but ns-3 is not available/);
    } finally {
      if (saved === undefined) delete process.env.SEI_NS3_DISABLE; else process.env.SEI_NS3_DISABLE = saved;
    }
  });
});
