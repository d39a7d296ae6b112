// `sei export` and `sei bench --export` on a real store: a tiny study run by `sei run`, then its
// designs exported, the files reloaded (ONNX Runtime, TensorFlow.js) and compared with the
// retrained model, and every kind of bad input refused with exit 2 and nothing written.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { fileIOHandler, loadSplit } from '../../src/ml/io.js';
import { splitLogitsFn } from '../../src/ml/accounting.js';
import { openStore } from '../../src/store/store.js';
import type { ExportManifest } from '../../src/export/manifest.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sei = join(root, 'bin', 'sei.js');
const pipeline = join(root, 'test', 'export', 'fixtures', 'tiny-export.yaml');
const SPLIT_DESIGN = 'block3_pool/int8@raspberry-pi-4>wifi>server-gpu';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [sei, ...args], { cwd: root, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ExportManifest;

describe('sei export (command line, real store)', function () {
  this.timeout(10 * 60_000);
  let tmp: string;
  let store: string;
  let previous = '';

  before(async () => {
    previous = tf.getBackend();
    await tf.setBackend('cpu');
    tmp = mkdtempSync(join(tmpdir(), 'sei-export-'));
    store = join(tmp, 'store');
    const r = await run(['run', pipeline, '--store', store, '--no-progress']);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  });
  after(async () => {
    rmSync(tmp, { recursive: true, force: true });
    if (previous) await tf.setBackend(previous);
  });

  it('exports a split design: ONNX head and tail with the int8 payload, TF.js halves, the manifest', async () => {
    const out = join(tmp, 'split');
    const r = await run(['export', pipeline, '--store', store, '--design', SPLIT_DESIGN, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /split at block3_pool/);
    const m = manifestOf(out);
    assert.equal(m.kind, 'split');
    assert.equal(m.design?.id, SPLIT_DESIGN);
    assert.deepEqual(m.input.shape, ['batch', 32, 32, 3]);
    assert.equal(m.input.preprocessing.channelOrder, 'RGB');
    assert.equal(m.output.classes.length, 3);
    assert.equal(m.payload?.precision, 'int8');
    assert.deepEqual(m.payload?.outputs.map((o) => `${o.name}:${o.dtype}`), ['payload:int8', 'scale:float32']);
    assert.equal(m.payload?.bytesPerFrame, m.payload!.elements + 4);
    assert.ok(typeof m.measured.accuracy === 'number' && typeof m.measured.deviceMs === 'number');
    assert.equal(m.measured.simulated?.deviceProfile, 'raspberry-pi-4');
    assert.ok(m.check!.onnxRelativeError! <= 1e-4 && m.check!.tfjsRelativeError! <= 1e-4);
    // Provenance: the retrained cell, whose payload accounting agrees with the manifest.
    const s = openStore(store, { readonly: true });
    const cell = s.getCell(m.provenance.modelCell.id)!;
    const evaluate = s.getCell(m.provenance.evaluateCell!.id)!;
    s.close();
    assert.equal(cell.stage, 'split-retrain');
    assert.equal(cell.key, m.provenance.modelCell.key);
    assert.equal((evaluate.metrics as { payload: { bytes: { bottleneck: { int8: number } } } }).payload.bytes.bottleneck.int8, m.payload!.bytesPerFrame);

    // The written files against the retrained model itself, on real images' worth of input.
    const { split } = await loadSplit(cell.dir!);
    const x = tf.randomUniform([3, 32, 32, 3], -2, 2, 'float32', 5);
    try {
      const input = new ort.Tensor('float32', Float32Array.from(x.dataSync()), x.shape);
      const opts = { intraOpNumThreads: 1 };
      const head = await ort.InferenceSession.create(join(out, m.files.onnxHead!), opts);
      const tail = await ort.InferenceSession.create(join(out, m.files.onnxTail!), opts);
      const sent = await head.run({ input });
      assert.equal(sent.payload!.type, 'int8');
      const logits = (await tail.run(sent)).logits!.data as Float32Array;
      await head.release();
      await tail.release();
      const want = tf.tidy(() => splitLogitsFn(split, 'int8')(x).dataSync() as Float32Array);
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(logits[i]! - want[i]!) <= 1e-4 * scale, `ONNX logit ${i}`);
      // The TF.js halves reload with stock TensorFlow.js and agree with the float split model.
      const tHead = await tf.loadLayersModel(fileIOHandler(join(out, m.files.tfjsHead!)));
      const tTail = await tf.loadLayersModel(fileIOHandler(join(out, m.files.tfjsTail!)));
      const got = tf.tidy(() => (tTail.predict(tHead.predict(x) as tf.Tensor) as tf.Tensor).dataSync() as Float32Array);
      const ref = tf.tidy(() => (split.full.predict(x) as tf.Tensor).dataSync() as Float32Array);
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(got[i]! - ref[i]!) <= 1e-5 * Math.max(1, Math.abs(ref[i]!)), `TF.js logit ${i}`);
      tHead.dispose();
      tTail.dispose();
    } finally {
      x.dispose();
      split.dispose();
      split.network.dispose();
    }

    const bench = await run(['bench', '--export', out, '--json']);
    assert.equal(bench.code, 0, bench.stderr);
    const report = JSON.parse(bench.stdout) as { rows: { side: string; onnxRuntime: { p50: number; runs: number }; simulatedMs: number | null; profile: string }[] };
    assert.deepEqual(report.rows.map((r) => r.side), ['device', 'server']);
    for (const row of report.rows) {
      assert.ok(row.onnxRuntime.p50 > 0 && row.onnxRuntime.runs >= 20);
      assert.equal(typeof row.simulatedMs, 'number');
    }
    assert.deepEqual(report.rows.map((r) => r.profile), ['raspberry-pi-4', 'server-gpu']);
  });

  it('the recommended design runs all on the device: one model, and it says so', async () => {
    const out = join(tmp, 'recommended');
    const r = await run(['export', 'tiny-export', '--store', store, '--out', out, '--format', 'onnx']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /all on the device/);
    assert.match(r.stdout, /one model exported/);
    const m = manifestOf(out);
    assert.equal(m.kind, 'local');
    assert.equal(m.payload, null);
    assert.deepEqual(Object.keys(m.files), ['onnxModel']);
    assert.deepEqual(readdirSync(join(out, 'onnx')), ['model.onnx']);
    assert.ok(!existsSync(join(out, 'tfjs')));
  });

  it('an all-on-server design: one model for the server, the raw image as the payload', async () => {
    const out = join(tmp, 'remote');
    const r = await run(['export', 'tiny-export', '--store', store, '--design', 'remote@raspberry-pi-4>wifi>server-gpu', '--out', out, '--format', 'onnx', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as ExportManifest;
    assert.equal(m.kind, 'remote');
    assert.match(m.summary, /all on the server/);
    assert.deepEqual(m.payload?.outputs.map((o) => o.dtype), ['uint8']);
    assert.equal(m.payload?.bytesPerFrame, 32 * 32 * 3);
    assert.equal(m.provenance.modelCell.stage, 'train-base');
  });

  it('a retrained cell by id, at the precision asked for', async () => {
    const s = openStore(store, { readonly: true });
    const cell = s.listCells({ pipeline: 'tiny-export' }).find((c) => c.stage === 'split-retrain' && c.coords.cut === 'block1_pool')!;
    s.close();
    const out = join(tmp, 'cell');
    const r = await run(['export', 'tiny-export', '--store', store, '--cell', cell.id.slice(0, 10), '--precision', 'fp16', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as ExportManifest;
    assert.equal(m.cut, 'block1_pool');
    assert.equal(m.payload?.outputs[0]!.dtype, 'float16');
    assert.equal(m.provenance.modelCell.id, cell.id);
    assert.equal(m.design, null);
  });

  it('bad input: exit 2, a clear message, nothing written', async () => {
    const out = join(tmp, 'bad');
    const unknownDesign = await run(['export', 'tiny-export', '--store', store, '--design', 'nope', '--out', out]);
    assert.equal(unknownDesign.code, 2);
    assert.match(unknownDesign.stderr, /no design 'nope'/);
    assert.ok(unknownDesign.stderr.includes(SPLIT_DESIGN), 'lists the valid designs');
    const unknownCell = await run(['export', 'tiny-export', '--store', store, '--cell', 'abcdef12', '--out', out]);
    assert.equal(unknownCell.code, 2);
    assert.match(unknownCell.stderr, /cells that can be exported:\n.*split-retrain/s);
    const badFormat = await run(['export', 'tiny-export', '--store', store, '--format', 'onnx,keras', '--out', out]);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /unknown format 'keras'/);
    assert.ok(!existsSync(out), 'nothing written');

    // An existing, non-empty folder is refused and left as it was; --force replaces it whole.
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const refused = await run(['export', 'tiny-export', '--store', store, '--design', SPLIT_DESIGN, '--out', out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /exists and is not empty.*--force/);
    assert.deepEqual(readdirSync(out), ['keep.txt']);
    const forced = await run(['export', 'tiny-export', '--store', store, '--design', SPLIT_DESIGN, '--out', out, '--force', '--format', 'tfjs']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['manifest.json', 'tfjs']);
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.partial-') || f.includes('.old-')), [], 'no temporary folder left');
  });
});
