// Typed stage results: the worker checks a stage's metrics against its declared schema before
// result.json is written, and downstream stages read upstream metrics through that schema.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runPlan, type RunEvent } from '../../src/exec/orchestrator.js';
import { checkMetrics, metricsProblems, upstreamMetrics } from '../../src/stages/metrics.js';
import { EvaluateMetrics } from '../../src/stages/evaluate/metrics.js';
import { SimulateMetrics } from '../../src/stages/simulate/metrics.js';
import { loadStage, stageNames } from '../../src/pipeline/registry.js';
import { cell, FIXTURE_STAGES, plan, tempDir } from '../exec/helpers.js';
import { openStore } from '../../src/store/store.js';
import { buildDocument, buildReportModel, contributedTables, loadReports } from '../../src/report/index.js';
import { renderMarkdown } from '../../src/report/markdown.js';

describe('typed stage results', function () {
  this.timeout(120_000);
  let storeDir: string;
  const env = () => ({ SEI_STAGE_PATH: FIXTURE_STAGES });

  before(() => { storeDir = tempDir('sei-metrics-'); });
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it('a cell whose metrics do not match its stage\'s declaration fails, naming the field; nothing enters the store', async () => {
    const good = cell({ instance: 'good', stage: 'scored', params: { score: 0.5, label: 'a' } });
    const bad = cell({ instance: 'bad', stage: 'scored', params: { score: 'high', label: 'b' } });
    const failures: string[] = [];
    const summary = await runPlan(plan('typed', [good, bad]), {
      store: storeDir, jobs: 1, workerEnv: env(), keepGoing: true,
      onEvent: (e: RunEvent) => { if (e.type === 'cell-failed') failures.push(`${e.cell.instance}: ${e.error}`); },
    });
    assert.equal(summary.done, 1);
    assert.equal(failures.length, 1, failures.join('\n'));
    assert.match(failures[0]!, /^bad: the metrics of stage 'scored' do not match its declared schema: \/score: Expected number/);
    const objects = join(storeDir, 'objects');
    const folders = existsSync(objects) ? readdirSync(objects).flatMap((d) => readdirSync(join(objects, d))) : [];
    assert.deepEqual(folders, [good.key]);
  });

  it('a stage that declares a report table reaches the report without any edit in src/report', async () => {
    // The good cell of the test above is in the store; one more with another label.
    await runPlan(plan('typed', [cell({ instance: 'good', stage: 'scored', params: { score: 0.5, label: 'a' } }),
      cell({ instance: 'other', stage: 'scored', params: { score: 0.25, label: 'c' } })]), { store: storeDir, jobs: 1, workerEnv: env() });
    const store = openStore(storeDir, { readonly: true });
    const cells = store.listCells({ pipeline: 'typed' });
    store.close();
    const saved = process.env.SEI_STAGE_PATH;
    process.env.SEI_STAGE_PATH = FIXTURE_STAGES;
    // A result written before the stage declared this shape is left out, and said so.
    const old = { ...cells.find((c) => c.instance === 'good')!, instance: 'older', metrics: { score: 'high', label: 'b' } };
    let reports;
    try {
      reports = await loadReports([...cells, old]);
    } finally {
      if (saved === undefined) delete process.env.SEI_STAGE_PATH; else process.env.SEI_STAGE_PATH = saved;
    }
    const tables = contributedTables([...cells, old], reports);
    assert.equal(tables.length, 1);
    assert.deepEqual(tables[0]!.rows.sort(), [['a', 0.5], ['c', 0.25]]);
    assert.equal(tables[0]!.refused.length, 1);
    assert.match(tables[0]!.refused[0]!, /^older [0-9a-f]{12}: \/score: Expected number$/);
    const md = renderMarkdown(buildDocument(buildReportModel([...cells, old], { name: 'typed' }, reports)), (id) => `${id}.svg`);
    assert.match(md, /## Scores/);
    assert.match(md, /\| Label \| Score \|/);
    assert.match(md, /\| a \| 0\.5 \|/);
    assert.match(md, /left out \(metrics not as stage scored declares\): older/);
  });

  it('an upstream result of another shape is refused by the reader, with the fields that differ', () => {
    const upstream = { cellId: 'c'.repeat(64), stage: 'evaluate', instance: 'evaluate', coords: {}, params: {}, dir: '/nowhere',
      metrics: { cut: 'block1_pool', accuracy: 0.9 } };
    assert.throws(() => upstreamMetrics(upstream, EvaluateMetrics), (e: Error) =>
      /cell cccccccccccc \(evaluate\): metrics of stage 'evaluate' do not match its declared schema: .*\/balancedAccuracy: missing \(expected number\)/.test(e.message));
  });

  it('names the cell with its coordinates, and a field missing from every item of a list once', () => {
    const design = (id: string) => ({ id, kind: 'split', cut: 'c', precision: 'fp32', variant: '', network: 'n', device: 'd', server: 's',
      accuracy: 0.5, payloadBytes: 1, deviceMs: 1, transferMs: { p50: 1, p95: 1, p99: 1, mean: 1 }, serverMs: 1,
      endToEndMs: { p50: 2, p95: 2, p99: 2, mean: 2 }, deviceMemoryBytes: 1, deviceMemoryLimitBytes: 1, simulator: 'analytic' });
    const metrics = { network: 'n', device: 'd', server: 's', networks: ['n'], devices: ['d'], simulator: 'analytic', frameRateHz: 10,
      frames: 5, seed: 0, notes: [], designs: [design('a'), { ...design('b'), simulator: 'carrier-pigeon' }, design('c')] };
    const upstream = { cellId: 'd'.repeat(64), stage: 'simulate', instance: 'sim', coords: { 'dataset.classes': { names: ['disk', 'ring'] } },
      params: {}, dir: '/nowhere', metrics };
    assert.throws(() => upstreamMetrics(upstream, SimulateMetrics), (e: Error) => e.message ===
      'cell dddddddddddd (sim dataset.classes=disk,ring): metrics of stage \'simulate\' do not match its declared schema: ' +
      '/designs/0/frameLossRate: missing (expected number) (and at 2 more /designs/*/frameLossRate); ' +
      '/designs/1/simulator: "carrier-pigeon" is not "analytic" | "ns3" | null');
  });

  it('NaN statistics are checked as JSON writes them (null)', () => {
    checkMetrics('t', EvaluateMetrics.properties.quantizedAccuracy, { fp32: 1, fp16: 1, int8: 1 });
    assert.throws(() => checkMetrics('t', EvaluateMetrics.properties.quantizedAccuracy, { fp32: 1, fp16: 1 }), /\/int8: missing \(expected number\)/);
    assert.deepEqual(metricsProblems(EvaluateMetrics.properties.baseAccuracy, NaN), []);
  });

  it('every built-in stage declares its metrics', async () => {
    const saved = process.env.SEI_STAGE_PATH;
    delete process.env.SEI_STAGE_PATH;
    try {
      const declared: string[] = [];
      for (const name of stageNames()) if ((await loadStage(name)).metrics) declared.push(name);
      assert.deepEqual(declared, stageNames());
    } finally {
      if (saved === undefined) delete process.env.SEI_STAGE_PATH; else process.env.SEI_STAGE_PATH = saved;
    }
  });
});
