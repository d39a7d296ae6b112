// `sei report` end to end on a real store (SQLite file written through the store's own API),
// run as a child process like a user would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.js';
import type { CellRecord } from '../../src/store/types.js';
import type { PlannedCell } from '../../src/pipeline/types.js';
import { canonicalJson } from '../../src/util/hash.js';
import { chromiumAvailable } from '../../src/report/index.js';
import { HOSTILE, sweepFixture } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const SEI = resolve(here, '..', '..', '..', 'bin', 'sei.js');

/** Record the fixture cells in a store as one run would have: planned, then done or failed. */
function seedStore(dir: string, cells: CellRecord[], cached: number): void {
  const store = openStore(dir);
  try {
    const planned: PlannedCell[] = cells.map((c) => ({
      id: c.id, key: c.key, instance: c.instance, stage: c.stage, params: c.params, coords: c.coords,
      slot: `${c.instance}${canonicalJson(c.coords)}`, inputs: {},
      keyParts: { paramsHash: c.id, params: c.params, codeHash: 'c', codeHashes: {}, externalHashes: {}, upstreamKeys: {} },
    }));
    const pipeline = cells[0]!.pipeline;
    const runId = `run-${pipeline}`;
    store.beginRun({ id: runId, pipeline, file: `pipelines/${pipeline}.yaml`, planHash: 'h', pid: process.pid, host: hostname(), jobs: 1, total: cells.length,
      startedAt: '2026-01-01T00:00:00.000Z' }, planned);
    for (const c of cells) {
      if (c.state === 'pending') continue;
      store.markRunning(c.key, { runId, attempt: 1, logRel: `logs/${runId}/${c.id}.log`, startedAt: '2026-01-01T00:00:00.000Z' });
      if (c.state === 'done') {
        store.markDone(c.key, { runId, dirRel: `objects/${c.key.slice(0, 2)}/${c.key}`, manifest: [], metrics: c.metrics!, provenance: c.provenance!,
          startedAt: c.startedAt!, endedAt: c.endedAt!, durationMs: c.durationMs! });
      } else {
        store.markFailed(c.key, { runId, failure: 'error', error: c.error ?? 'failed', endedAt: '2026-01-01T00:00:02.000Z', final: true });
      }
    }
    store.finishRun(runId, 'failed', cached);
  } finally {
    store.close();
  }
}

function sei(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SEI, ...args], { cwd, encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sei report (command line, real store)', function () {
  this.timeout(90_000);
  let tmp: string;
  let storeDir: string;
  before(function () {
    tmp = mkdtempSync(join(tmpdir(), 'sei-report-cli-'));
    storeDir = join(tmp, 'artifacts');
    seedStore(storeDir, sweepFixture({ pipeline: 'demo', classes: ['cat', HOSTILE.script], failed: [['block4_pool', 0]], pending: [['block3_conv3', 1]] }), 7);
    seedStore(storeDir, sweepFixture({ pipeline: 'idle' }).map((c) => ({ ...c, state: 'pending' as const })), 0);
  });
  after(() => { if (!process.env.SEI_KEEP_TEST_OUTPUT) rmSync(tmp, { recursive: true, force: true }); });

  it('writes the report of a pipeline by name into reports/<name> by default', function () {
    const r = sei(['report', 'demo', '--store', storeDir, '--format', 'md,html,csv'], tmp);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /report of 'demo' written to .*reports\/demo/);
    const out = join(tmp, 'reports', 'demo');
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /Cut points/);
    assert.match(md, /\*failed \(1 of 2\)\*|\*partial \(1 of 2\)\*/);
    assert.match(md, /cache hits \(latest run\) \| 7/);
    assert.match(md, /run-demo/);
    assert.ok(existsSync(join(out, 'report.html')));
    assert.ok(existsSync(join(out, 'csv', 'cuts.csv')));
    assert.ok(!existsSync(join(out, 'latex')), 'only the formats asked for');
    const prov = readFileSync(join(out, 'csv', 'provenance.csv'), 'utf8');
    assert.match(prov, /^cache_hits,7$/m);
    assert.match(prov, /^commit,abc1234$/m);
  });

  it('takes the pipeline file too; a file that no longer loads is reported by its name, with a note', function () {
    const file = join(tmp, 'demo.yaml');
    writeFileSync(file, 'name: demo\nstages:\n  gone:\n    stage: a-stage-that-was-removed\n');
    const r = sei(['report', file, '--store', storeDir, '--out', join(tmp, 'by-file'), '--format', 'md'], tmp);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /note: .*demo\.yaml did not load fully .*reporting pipeline 'demo' from its name field/);
    assert.match(readFileSync(join(tmp, 'by-file', 'report.md'), 'utf8'), new RegExp(`pipeline file \\| ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    writeFileSync(join(tmp, 'nameless.yaml'), 'stages: {}\n');
    const bad = sei(['report', join(tmp, 'nameless.yaml'), '--store', storeDir, '--out', join(tmp, 'nameless')], tmp);
    assert.equal(bad.status, 2, bad.stderr);
    assert.ok(!existsSync(join(tmp, 'nameless')));
  });

  it('reports a pipeline with nothing finished without failing', function () {
    const r = sei(['report', 'idle', '--store', storeDir, '--out', join(tmp, 'idle-report'), '--format', 'md'], tmp);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no finished cells yet/);
    assert.match(readFileSync(join(tmp, 'idle-report', 'report.md'), 'utf8'), /No finished cells/);
  });

  it('bad input: exit 2 with a clear message and nothing written', function () {
    const unknown = sei(['report', 'nope', '--store', storeDir, '--out', join(tmp, 'x1')], tmp);
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /pipeline 'nope' has never run on the store .*known: demo, idle/);
    const fmt = sei(['report', 'demo', '--store', storeDir, '--format', 'md,docx', '--out', join(tmp, 'x2')], tmp);
    assert.equal(fmt.status, 2, fmt.stderr);
    assert.match(fmt.stderr, /unknown format 'docx'.*md, html, csv, tex, pdf/);
    const nostore = sei(['report', 'demo', '--store', join(tmp, 'missing-store'), '--out', join(tmp, 'x3')], tmp);
    assert.equal(nostore.status, 2, nostore.stderr);
    assert.match(nostore.stderr, /no store at/);
    const nofile = sei(['report', 'pipelines/none.yaml', '--store', storeDir, '--out', join(tmp, 'x4')], tmp);
    assert.equal(nofile.status, 2, nofile.stderr);
    assert.match(nofile.stderr, /no pipeline file pipelines\/none\.yaml/);
    const r = spawnSync(process.execPath, [SEI, 'report', 'demo', '--store', storeDir, '--out', join(tmp, 'x5'), '--format', 'html,pdf'],
      { cwd: tmp, encoding: 'utf8', env: { ...process.env, SEI_CHROMIUM: join(tmp, 'no-chromium') } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /PDF output needs Chromium at .*no-chromium .*apt-get install chromium.*md, html, csv, tex/);
    for (const d of ['x1', 'x2', 'x3', 'x4', 'x5']) assert.ok(!existsSync(join(tmp, d)));
  });

  it('prints the HTML report to PDF through headless Chromium', function () {
    if (!chromiumAvailable()) {
      console.log('      skipped: no Chromium at /usr/bin/chromium');
      this.skip();
    }
    const out = join(tmp, 'pdf');
    const r = sei(['report', 'demo', '--store', storeDir, '--out', out, '--format', 'pdf'], tmp);
    assert.equal(r.status, 0, r.stderr);
    const pdf = readFileSync(join(out, 'report.pdf'));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(!existsSync(join(out, '.print.html')));
    const text = spawnSync('pdftotext', [join(out, 'report.pdf'), '-'], { encoding: 'utf8' });
    if (text.status === 0) {
      assert.match(text.stdout, /Cut points/);
      assert.ok(text.stdout.includes(HOSTILE.script), 'the hostile class name is printed as text');
    }
  });
});
