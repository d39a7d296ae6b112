// The run display: plain lines off a terminal, a live block on one, failures always with the log.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ProgressView, summaryText } from '../../src/cli/progress/view.js';
import type { RunEvent } from '../../src/exec/orchestrator.js';
import { writeText } from './helpers.js';

function sink(columns?: number): { stream: NodeJS.WriteStream; text: () => string } {
  const pt = new PassThrough();
  let out = '';
  pt.on('data', (d: Buffer) => { out += d.toString(); });
  const stream = pt as unknown as NodeJS.WriteStream;
  if (columns) Object.assign(stream, { columns, rows: 40, isTTY: true });
  return { stream, text: () => out };
}

const a = writeText('train', 'alpha');
const b = writeText('train', 'beta');
const events: RunEvent[] = [
  { type: 'start', runId: 'r1', pipeline: 'demo', total: 3, cached: 1, toRun: 2, jobs: 2, logDir: '/s/logs/r1' },
  { type: 'cell-start', cell: a, attempt: 1, logPath: '/s/logs/r1/a.log' },
  { type: 'cell-start', cell: b, attempt: 1, logPath: '/s/logs/r1/b.log' },
  { type: 'cell-progress', cell: a, event: { epoch: 1, epochs: 3, loss: 0.9 } },
  { type: 'cell-progress', cell: a, event: { batch: 5, batches: 10 } },
  { type: 'cell-progress', cell: a, event: { epoch: 2, epochs: 3, loss: 0.5 } },
  { type: 'cell-done', cell: a, durationMs: 1200, attempt: 1 },
  { type: 'cell-failed', cell: b, failure: 'crash', error: 'worker process 7 killed by SIGKILL', logPath: '/s/logs/r1/b.log', attempt: 1, willRetry: false },
];

describe('progress view', () => {
  it('prints plain lines when not on a terminal: starts, one line per epoch, done, failures with their log', async () => {
    const out = sink();
    const err = sink();
    const view = new ProgressView({ live: false, out: out.stream, err: err.stream });
    await view.init();
    for (const e of events) view.handle(e);
    const text = out.text();
    assert.match(text, /demo: 3 cells, 1 cached, 2 to run on 2 workers/);
    assert.match(text, /start {2}write-text train \[text=alpha\]/);
    assert.equal(text.match(/epoch \d\/3/g)?.length, 2, 'one line per epoch, none per batch');
    assert.match(text, /epoch 2\/3 · batch 5\/10 · loss 0\.5000/);
    assert.match(text, /done {3}write-text train \[text=alpha\] \w+ in 1\.2s \[2\/3\]/);
    assert.match(err.text(), /FAILED write-text train \[text=beta\] \w+ \(crash, attempt 1\): worker process 7 killed by SIGKILL\n {7}log: \/s\/logs\/r1\/b\.log/);
    view.stop();
  });

  it('draws a live block with the running cells, epoch, loss and an ETA', async () => {
    const out = sink(200);
    const err = sink();
    const view = new ProgressView({ live: true, out: out.stream, err: err.stream, intervalMs: 10_000 });
    await view.init();
    const c = writeText('train', 'gamma');
    for (const e of events.slice(0, 7)) view.handle(e);
    view.handle({ type: 'cell-start', cell: c, attempt: 2, logPath: '/x' });
    view.handle({ type: 'cell-progress', cell: c, event: { phase: 'train', epoch: 4, epochs: 9, loss: 0.25, accuracy: 0.8 } });
    view.render();
    const text = out.text();
    assert.match(text, /demo: 2\/3 done · 1 cached · 2 running · ETA \d/);
    assert.match(text, /▸ write-text train \[text=gamma\] \w+ \(attempt 2\) {2}train · epoch 4\/9 · loss 0\.2500 · acc 0\.800/);
    view.stop();
  });

  it('summarises a run with its failures and how to resume', () => {
    const text = summaryText({
      runId: 'r', pipeline: 'demo', total: 5, cached: 1, done: 2, failed: 1, blocked: 1, interrupted: 0, notStarted: 0, durationMs: 65_000, exitCode: 1,
      failures: [{ cellId: 'abcdef0123456789', instance: 'train', coords: { cut: 'block3_pool' }, error: 'boom\nstack', logPath: '/l.log' }],
    });
    assert.match(text, /demo: 3\/5 cells done \(1 cached, 2 run\), 1 failed, 1 blocked by failures in 1m05s/);
    assert.match(text, /train \[cut=block3_pool\] abcdef012345: boom\n {4}log: \/l\.log/);
    assert.match(text, /run the same command again/);
  });
});
