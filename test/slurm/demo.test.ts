// The demo pipeline through the real Slurm test cluster gives the local executor's results, bit
// for bit — even though one training job is requeued mid-training (as preemption does) and
// resumes from its per-epoch checkpoint. Skipped, with the reason printed, when not root or
// Slurm is absent.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJobRecord, readStarts } from '../../src/exec/slurm/records.js';
import { openStore } from '../../src/store/store.js';
import { tempDir } from '../exec/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '..', '..', '..');
const SEI = join(ROOT, 'bin', 'sei.js');
const DEMO = join(ROOT, 'pipelines', 'demo.yaml');

/** Wall-clock measurements: they differ between any two runs, local or not. */
const TIMING = /seconds|Seconds|Ms$|^ms$|timing|Timing|perSecond|imagesPerSec|durationMs/;
function withoutTiming(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTiming);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING.test(k)).map(([k, x]) => [k, withoutTiming(x)]));
  return v;
}

describe('the demo through Slurm', function () {
  this.timeout(1_500_000);
  before(function () {
    const reason = process.getuid?.() !== 0 ? 'not root' : !existsSync('/usr/sbin/slurmctld') || !existsSync('/usr/bin/sbatch') ? 'slurm-wlm not installed' : undefined;
    if (reason) {
      process.stdout.write(`      (Slurm demo test skipped: ${reason})\n`);
      this.skip();
    }
    execFileSync(join(ROOT, 'test', 'slurm', 'start-cluster.sh'), { encoding: 'utf8' });
  });

  it('same metrics and weights as the local executor, with a training job requeued mid-run', async () => {
    const dir = tempDir('sei-demo-slurm-');
    const local = spawnSync(process.execPath, [SEI, 'run', DEMO, '--store', join(dir, 'local'), '--executor', 'local', '--jobs', '2', '--no-progress'], { encoding: 'utf8' });
    assert.equal(local.status, 0, local.stdout + local.stderr);

    const store = join(dir, 'slurm');
    const child = spawn(process.execPath, [SEI, 'run', DEMO, '--store', store, '--executor', 'local-cluster', '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const ended = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Preempt a training job once it has checkpointed an epoch: requeue it, as Slurm's preemption does.
    const cells = join(store, 'slurm', 'cells');
    let requeued: string | undefined;
    for (let i = 0; i < 3000 && !requeued; i++) {
      await new Promise((r) => setTimeout(r, 200));
      if (!existsSync(cells)) continue;
      for (const key of readdirSync(cells)) {
        const rec = readJobRecord(store, key);
        if (rec?.stage === 'train-base' && !rec.final && existsSync(join(cells, key, 'checkpoint', 'state.json'))) {
          execFileSync('scontrol', ['requeue', rec.jobId]);
          // Slurm holds a requeued job back (BeginTime); release it at once. The update is refused
          // while the job is still being torn down: try again for a few seconds.
          for (let k = 0; k < 20; k++) {
            if (spawnSync('scontrol', ['update', `JobId=${rec.jobId}`, 'StartTime=now']).status === 0) break;
            await new Promise((r) => setTimeout(r, 500));
          }
          requeued = key;
          break;
        }
      }
    }
    assert.ok(requeued, 'a train-base job checkpointed an epoch');
    assert.equal(await ended, 0, out);
    const starts = readStarts(store, requeued);
    assert.equal(starts.length, 2, 'the requeued job ran twice');
    assert.equal(starts[0]!.jobId, starts[1]!.jobId);

    const a = openStore(join(dir, 'local'), { readonly: true });
    const b = openStore(store, { readonly: true });
    try {
      const la = a.listCells({ pipeline: 'demo' });
      const lb = new Map(b.listCells({ pipeline: 'demo' }).map((c) => [c.key, c]));
      assert.ok(la.length > 50);
      for (const x of la) {
        const y = lb.get(x.key);
        assert.ok(y && y.state === 'done' && x.state === 'done', `${x.instance} ${x.key.slice(0, 12)} done in both`);
        assert.deepEqual(withoutTiming(y.metrics), withoutTiming(x.metrics), `${x.instance} ${JSON.stringify(x.coords)}`);
        if (x.stage === 'train-base' || x.stage === 'split-retrain') {
          // Every weight file byte for byte (history.json and result.json hold timings).
          const weights = (st: typeof a, key: string) => (st.getCell(key)?.manifest ?? []).filter((m) => !/history\.json|result\.json/.test(m.path));
          const wa = weights(a, x.key);
          assert.ok(wa.length > 0);
          assert.deepEqual(weights(b, x.key).map((m) => [m.path, m.sha256]), wa.map((m) => [m.path, m.sha256]), `${x.instance}: weight files`);
          for (const m of wa) assert.ok(readFileSync(join(x.dir!, m.path)).equals(readFileSync(join(y.dir!, m.path))), `${x.instance}: ${m.path}`);
        }
      }
      const log = readFileSync(b.getCell(requeued)!.logPath!, 'utf8');
      assert.match(log, /resumed from the checkpoint after epoch \d+/);
    } finally {
      a.close();
      b.close();
    }
  });
});
