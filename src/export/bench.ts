// `sei bench --export DIR`: the per-frame time of the exported halves on ONNX Runtime on this
// machine (batch 1, one thread, seeded input, warm-up runs first, median of the timed runs),
// beside the times the study used: the evaluate stage's measurement on its TensorFlow.js backend
// and the device and server profiles the simulation scaled it to.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError } from '../util/errors.js';
import { summarise, type Timing } from '../ml/profile.js';
import { Rng } from '../util/random.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, type ExportManifest, type TensorSpec } from './manifest.js';
import { loadOrt, ortSession, type OrtTensor } from './ort.js';

export interface ExportBenchRow {
  side: 'device' | 'server';
  file: string;
  onnxRuntime: Timing;
  /** What the evaluate stage measured (its backend), and what the simulation used on the profile. */
  studyMs: number | null;
  simulatedMs: number | null;
  profile: string | null;
}

export interface ExportBenchReport {
  dir: string;
  summary: string;
  backend: string | null;
  rows: ExportBenchRow[];
}

export function readManifest(dir: string): ExportManifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new UsageError(`${dir}: no ${MANIFEST_FILE} (not a folder written by sei export)`);
  const m = JSON.parse(readFileSync(path, 'utf8')) as ExportManifest;
  if (m.format !== MANIFEST_FORMAT) throw new UsageError(`${path}: format '${String(m.format)}', expected ${MANIFEST_FORMAT}`);
  if (!m.files.onnxHead && !m.files.onnxModel) throw new UsageError(`${dir}: no ONNX model in the export (export with --format onnx)`);
  return m;
}

/** A seeded N(0, 1) float32 input of the manifest's shape at batch 1. */
async function randomInput(spec: TensorSpec, rng: Rng): Promise<OrtTensor> {
  const ort = await loadOrt();
  const dims = spec.shape.map((d) => (d === 'batch' ? 1 : d));
  const n = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', Float32Array.from({ length: n }, () => rng.normal()), dims);
}

async function timeSession(file: string, feeds: Record<string, OrtTensor>, warmup: number, runs: number): Promise<{ timing: Timing; outputs: Record<string, OrtTensor> }> {
  const session = await ortSession(file);
  try {
    let outputs: Record<string, OrtTensor> = {};
    for (let i = 0; i < warmup; i++) outputs = await session.run(feeds);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      outputs = await session.run(feeds);
      ms.push(performance.now() - t0);
    }
    return { timing: summarise(ms), outputs };
  } finally {
    await session.release();
  }
}

export async function benchExport(dir: string, opts: { warmup?: number; runs?: number } = {}): Promise<ExportBenchReport> {
  const m = readManifest(dir);
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? 20;
  const rng = new Rng(11);
  const input = await randomInput(m.input, rng);
  const sim = m.measured.simulated;
  const rows: ExportBenchRow[] = [];
  if (m.files.onnxModel) {
    const side = m.kind === 'remote' ? 'server' : 'device';
    const { timing } = await timeSession(join(dir, m.files.onnxModel), { [m.input.name]: input }, warmup, runs);
    rows.push({
      side, file: m.files.onnxModel, onnxRuntime: timing,
      studyMs: side === 'device' ? m.measured.deviceMs : m.measured.serverMs,
      simulatedMs: sim ? (side === 'device' ? sim.deviceMs : sim.serverMs) : null,
      profile: sim ? (side === 'device' ? sim.deviceProfile : sim.serverProfile) : null,
    });
  } else {
    // The tail is timed on what the head really sends (a payload of the right dtype and range).
    const head = await timeSession(join(dir, m.files.onnxHead!), { [m.input.name]: input }, warmup, runs);
    const tail = await timeSession(join(dir, m.files.onnxTail!), head.outputs, warmup, runs);
    rows.push({ side: 'device', file: m.files.onnxHead!, onnxRuntime: head.timing, studyMs: m.measured.deviceMs, simulatedMs: sim?.deviceMs ?? null, profile: sim?.deviceProfile ?? null });
    rows.push({ side: 'server', file: m.files.onnxTail!, onnxRuntime: tail.timing, studyMs: m.measured.serverMs, simulatedMs: sim?.serverMs ?? null, profile: sim?.serverProfile ?? null });
  }
  return { dir, summary: m.summary, backend: m.measured.backend, rows };
}

export function formatExportBench(r: ExportBenchReport): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)} ms`);
  const L = [
    `${r.dir}: ${r.summary}`,
    `per frame, batch 1; ONNX Runtime on this machine (1 thread, median of ${r.rows[0]?.onnxRuntime.runs ?? 0} runs) beside the study's own times`,
    '',
    `${'side'.padEnd(7)} ${'model'.padEnd(24)} ${'ONNX Runtime'.padStart(14)} ${'(min–max)'.padStart(20)} ${`study (${r.backend ?? '?'})`.padStart(20)} ${'simulated profile'.padStart(30)}`,
  ];
  for (const row of r.rows) {
    const t = row.onnxRuntime;
    L.push(`${row.side.padEnd(7)} ${row.file.padEnd(24)} ${ms(t.p50).padStart(14)} ${`(${t.min.toFixed(2)}–${t.max.toFixed(2)})`.padStart(20)} ${ms(row.studyMs).padStart(20)} ${(row.profile ? `${ms(row.simulatedMs)} on ${row.profile}` : 'n/a').padStart(30)}`);
  }
  return L.join('\n');
}
