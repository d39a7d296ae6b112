// The engine benchmark: training and inference throughput of the reference models on the active
// backend, with the protocol of the PyTorch reference script (batch 64, 8 batches, one warm-up
// epoch, median of 3 timed epochs, Adam lr 1e-3, softmax cross-entropy), and the script itself
// run side by side when PyTorch is available.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { $ } from 'zx';
import { buildReferenceModel, REFERENCE_MODELS, type ReferenceModelName } from './reference-models.js';
import { adam } from './train/optimizers.js';

export interface BenchProtocol { batch: number; batches: number; repeats: number }
export const DEFAULT_PROTOCOL: BenchProtocol = { batch: 64, batches: 8, repeats: 3 };

/** Images per second, median over the timed epochs, by wall-clock and by process CPU time. */
export interface Throughput { train_img_s: number; infer_img_s: number; train_cpu_img_s?: number; infer_cpu_img_s?: number }
export interface EngineBenchResult {
  engine: string;
  protocol: BenchProtocol;
  models: Record<string, Throughput>;
}

/** Median of the timed runs, like the reference script (sorted, middle element). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Random inputs and labels for `batches` batches, split into per-batch tensors. */
function makeData(p: BenchProtocol, res: number, classes: number, seed: number) {
  const n = p.batch * p.batches;
  const x = tf.randomNormal([n, res, res, 3], 0, 1, 'float32', seed);
  const y = tf.oneHot(tf.randomUniform([n], 0, classes, 'int32', seed + 1) as tf.Tensor1D, classes).toFloat();
  const xs = tf.split(x, p.batches), ys = tf.split(y, p.batches);
  x.dispose();
  y.dispose();
  return { xs: xs as tf.Tensor4D[], ys: ys as tf.Tensor2D[], dispose: () => tf.dispose([...xs, ...ys]) };
}

/** One training step of the reference protocol with the project's Adam (PyTorch's: bias-corrected, ε = 1e-8). */
export function makeTrainStep(model: tf.LayersModel, lr = 1e-3): (x: tf.Tensor, y: tf.Tensor) => number {
  const opt = adam();
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return (x, y) => {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    opt.step(vars, vars.map((v) => grads[v.name] ?? null), lr);
    tf.dispose(Object.values(grads));
    const v = value.dataSync()[0]!;
    value.dispose();
    return v;
  };
}

/** Images per second of one reference model, training then inference, on the active backend. */
export function measureModel(name: ReferenceModelName, p: BenchProtocol = DEFAULT_PROTOCOL, seed = 0): Throughput {
  const model = buildReferenceModel(name, { seed });
  const data = makeData(p, 32, 10, seed);
  const step = makeTrainStep(model);
  const trainEpoch = () => {
    for (let i = 0; i < p.batches; i++) step(data.xs[i]!, data.ys[i]!);
  };
  const inferEpoch = () => {
    for (let i = 0; i < p.batches; i++) {
      const out = model.predict(data.xs[i]!, { batchSize: p.batch }) as tf.Tensor;
      out.dataSync();
      out.dispose();
    }
  };
  const images = p.batch * p.batches;
  const timeIt = (fn: () => void): [number, number] => {
    fn(); // warm-up
    const wall: number[] = [], cpu: number[] = [];
    for (let r = 0; r < p.repeats; r++) {
      const c = process.cpuUsage();
      const t = performance.now();
      fn();
      wall.push((performance.now() - t) / 1000);
      const d = process.cpuUsage(c);
      cpu.push((d.user + d.system) / 1e6);
    }
    return [round1(images / median(wall)), round1(images / median(cpu))];
  };
  try {
    const [train_img_s, train_cpu_img_s] = timeIt(trainEpoch);
    const [infer_img_s, infer_cpu_img_s] = timeIt(inferEpoch);
    return { train_img_s, infer_img_s, train_cpu_img_s, infer_cpu_img_s };
  } finally {
    data.dispose();
    model.dispose();
  }
}

export function runEngineBench(p: BenchProtocol = DEFAULT_PROTOCOL, models: readonly ReferenceModelName[] = REFERENCE_MODELS,
  onModel?: (name: string, t: Throughput) => void): EngineBenchResult {
  const out: Record<string, Throughput> = {};
  for (const m of models) {
    out[m] = measureModel(m, p);
    onModel?.(m, out[m]!);
  }
  return { engine: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`, protocol: p, models: out };
}

/** Runs `fn` with every kernel of the active backend wrapped to accumulate its process CPU time. */
export function profileKernels(fn: () => void): { kernel: string; ms: number; calls: number }[] {
  const backendName = tf.getBackend();
  const originals = tf.getKernelsForBackend(backendName);
  const totals = new Map<string, { ms: number; calls: number }>();
  let depth = 0;
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backendName);
    const inner = k.kernelFunc;
    tf.registerKernel({
      kernelName: k.kernelName, backendName,
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        if (depth > 0) return inner(args);
        depth++;
        const t = process.cpuUsage();
        try {
          return inner(args);
        } finally {
          const d = process.cpuUsage(t);
          depth--;
          const e = totals.get(k.kernelName) ?? { ms: 0, calls: 0 };
          e.ms += (d.user + d.system) / 1000;
          e.calls++;
          totals.set(k.kernelName, e);
        }
      }) as tf.KernelFunc,
    });
  }
  try {
    fn();
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel({ kernelName: k.kernelName, backendName, kernelFunc: k.kernelFunc });
    }
  }
  return [...totals.entries()].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
}

/** Process CPU milliseconds per kernel over `steps` training steps of a reference model (after a warm-up step). */
export function profileTrainingStep(name: ReferenceModelName, batch = 64, steps = 1): { kernel: string; ms: number; calls: number }[] {
  const model = buildReferenceModel(name);
  const data = makeData({ batch, batches: 1, repeats: 1 }, 32, 10, 0);
  const step = makeTrainStep(model);
  try {
    step(data.xs[0]!, data.ys[0]!);
    return profileKernels(() => { for (let i = 0; i < steps; i++) step(data.xs[0]!, data.ys[0]!); })
      .map((e) => ({ ...e, ms: e.ms / steps, calls: e.calls / steps }));
  } finally {
    data.dispose();
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// The PyTorch reference

export const DEFAULT_PYTHON = '/usr/bin/python3';

/** The copy of the reference script shipped with the sources (src/ml/torch_reference.py). */
export function torchReferenceScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'torch_reference.py'), join(here, '..', '..', '..', 'src', 'ml', 'torch_reference.py')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('the PyTorch reference script src/ml/torch_reference.py is missing from this installation');
}

/** null when `python` can import torch, else the reason it cannot. */
export async function checkTorch(python: string): Promise<string | null> {
  if (!existsSync(python)) return `${python} not found: the PyTorch reference needs Python 3 with torch (Debian: apt-get install python3-torch)`;
  const r = await $({ nothrow: true, quiet: true })`${python} -c ${'import torch'}`;
  if (r.exitCode === 0) return null;
  return /No module named/.test(r.stderr) ? `${python} has no torch module (Debian: apt-get install python3-torch)`
    : `${python} -c 'import torch' failed: ${r.stderr.trim().split('\n').pop() ?? `exit code ${r.exitCode}`}`;
}

export interface TorchResult { engine: string; threads: number; interopThreads: number; models: Record<string, Throughput> }

/** Environment variables that size the thread pools PyTorch's CPU kernels use. */
export const TORCH_POOL_VARIABLES = ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'] as const;

/** Runs the PyTorch reference script; rejects with a readable reason when Python or torch is missing. */
export async function runTorchReference(p: BenchProtocol = DEFAULT_PROTOCOL, opts: { python?: string; threads?: number; script?: string } = {}): Promise<TorchResult> {
  const python = opts.python ?? DEFAULT_PYTHON;
  if (!existsSync(python)) {
    throw new Error(`${python} not found: the PyTorch reference needs Python 3 with torch (Debian: apt-get install python3-torch)`);
  }
  const script = opts.script ?? torchReferenceScript();
  const threads = opts.threads ?? 1;
  const args = ['--threads', String(threads), '--batch', String(p.batch), '--batches', String(p.batches), '--repeats', String(p.repeats)];
  // Thread pools sized in the child's environment, read by OpenMP/MKL/OpenBLAS when torch loads
  // (the script also sets them before its import): a default-sized OpenMP pool spins on every core.
  const pools = Object.fromEntries(TORCH_POOL_VARIABLES.map((v) => [v, String(threads)]));
  const r = await $({ nothrow: true, quiet: true, env: { ...process.env, ...pools } })`${python} ${script} ${args}`;
  if (r.exitCode !== 0) {
    throw new Error(/No module named 'torch'/.test(r.stderr)
      ? `${python} has no torch module (Debian: apt-get install python3-torch)`
      : `${python} ${script} exited with code ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  let result: TorchResult;
  try {
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    const models: Record<string, Throughput> = {};
    for (const m of REFERENCE_MODELS) models[m] = j[m] as Throughput;
    result = { engine: String(j.engine), threads: Number(j.threads), interopThreads: Number(j.interopThreads), models };
  } catch (e) {
    throw new Error(`unreadable output from the PyTorch reference: ${(e as Error).message}`);
  }
  if (result.threads !== threads) throw new Error(`the PyTorch reference ran ${result.threads} threads, not the ${threads} asked for`);
  return result;
}

/** FLOPs per image of the convolution and dense layers (multiply-adds × 2): forward, and a training
 *  step (forward + input gradient for every layer but the first + weight gradient). */
export function modelFlops(name: ReferenceModelName): { forward: number; train: number } {
  const model = buildReferenceModel(name);
  let forward = 0, backward = 0, first = true;
  for (const layer of model.layers) {
    const cfg = layer.getConfig() as { filters?: number; units?: number };
    const w = layer.getWeights()[0];
    if (w === undefined || (cfg.filters === undefined && cfg.units === undefined)) continue;
    const fanIn = w.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const outElems = (layer.outputShape as number[]).slice(1).reduce((a, b) => a * b, 1);
    const f = 2 * outElems * fanIn;
    forward += f;
    backward += first ? f : 2 * f; // the first layer needs no input gradient
    first = false;
  }
  model.dispose();
  return { forward, train: forward + backward };
}

/** Process-CPU GFLOP/s of a 1024×1024 matrix product on the active backend (its GEMM peak). */
export function measureMatMulPeak(size = 512): number {
  const a = tf.randomNormal([size, size]), b = tf.randomNormal([size, size]);
  const run = () => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); };
  run();
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = process.cpuUsage();
    run();
    const d = process.cpuUsage(t);
    best = Math.min(best, (d.user + d.system) / 1e6);
  }
  tf.dispose([a, b]);
  return (2 * size ** 3) / best / 1e9;
}

// ---------------------------------------------------------------------------------------------
// The `sei bench` report

export interface BenchReport {
  backend: { name: string; detail: string };
  protocol: BenchProtocol & { warmup: 1; optimizer: string; loss: string };
  machine: { cores: number; loadBefore: number[]; loadAfter: number[] };
  /** With one round, that round; with several, the median of each figure over the rounds. */
  tfjs: EngineBenchResult;
  gemmPeakGflops: number;
  flops: Record<string, { forward: number; train: number }>;
  torch?: TorchResult;
  torchError?: string;
  /** Each round's tfjs and PyTorch figures (several rounds: tfjs then PyTorch, alternately). */
  rounds: { tfjs: EngineBenchResult; torch?: TorchResult }[];
}

export interface BenchOptions {
  protocol: BenchProtocol;
  models: ReferenceModelName[];
  torch: boolean;
  python?: string;
  /** Rounds of tfjs then PyTorch (default 1): on a machine whose speed drifts, the per-round
   *  ratios and their median say more than one pair of runs minutes apart. */
  rounds?: number;
  log: (m: string) => void;
}

/** Per model, the median over several results of each throughput figure. */
function medianThroughputs(results: { models: Record<string, Throughput> }[]): Record<string, Throughput> {
  const out: Record<string, Throughput> = {};
  for (const m of Object.keys(results[0]?.models ?? {})) {
    const fig = (k: keyof Throughput) => {
      const xs = results.map((r) => r.models[m]?.[k]).filter((x): x is number => x !== undefined);
      return xs.length === results.length ? { [k]: median(xs) } : {};
    };
    out[m] = { train_img_s: median(results.map((r) => r.models[m]!.train_img_s)), infer_img_s: median(results.map((r) => r.models[m]!.infer_img_s)),
      ...fig('train_cpu_img_s'), ...fig('infer_cpu_img_s') };
  }
  return out;
}

export async function runBench(backend: { name: string; detail: string }, o: BenchOptions): Promise<BenchReport> {
  const { loadavg, availableParallelism } = await import('node:os');
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const flops: Record<string, { forward: number; train: number }> = {};
  for (const m of o.models) flops[m] = modelFlops(m);
  const gemmPeakGflops = Math.round(measureMatMulPeak() * 10) / 10;
  const rounds: BenchReport['rounds'] = [];
  let torchError: string | undefined;
  const n = Math.max(1, o.rounds ?? 1);
  for (let r = 0; r < n && torchError === undefined; r++) {
    const prefix = n > 1 ? `round ${r + 1}/${n}: ` : '';
    const tfjs = runEngineBench(o.protocol, o.models, (m, t) => o.log(`${prefix}${m}: train ${t.train_img_s} img/s, infer ${t.infer_img_s} img/s`));
    let torch: TorchResult | undefined;
    if (o.torch) {
      o.log(`${prefix}running the PyTorch reference (single thread)…`);
      try {
        torch = await runTorchReference(o.protocol, { python: o.python });
      } catch (e) {
        torchError = (e as Error).message;
      }
    }
    rounds.push(torch ? { tfjs, torch } : { tfjs });
  }
  const first = rounds[0]!;
  const torchRounds = rounds.map((r) => r.torch).filter((t): t is TorchResult => t !== undefined);
  return {
    backend,
    protocol: { ...o.protocol, warmup: 1, optimizer: 'Adam lr 1e-3', loss: 'softmax cross-entropy' },
    machine: { cores: availableParallelism(), loadBefore, loadAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
    tfjs: rounds.length === 1 ? first.tfjs : { ...first.tfjs, models: medianThroughputs(rounds.map((r) => r.tfjs)) },
    gemmPeakGflops, flops,
    torch: torchRounds.length === 0 ? undefined : torchRounds.length === 1 ? torchRounds[0] : { ...torchRounds[0]!, models: medianThroughputs(torchRounds) },
    torchError, rounds,
  };
}

const pad = (s: string, n: number) => s.padStart(n);
const num = (x: number | undefined, n: number) => pad(x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1), n);
const ratio = (a: number | undefined, b: number | undefined, n: number) => pad(a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`, n);

/** One round's tfjs / PyTorch images/s for a model and phase, by wall clock or CPU time; undefined when either is missing. */
function roundRatio(x: BenchReport['rounds'][number], model: string, phase: 'train' | 'infer', cpu: boolean): number | undefined {
  const key = `${phase}_${cpu ? 'cpu_' : ''}img_s` as const;
  const a = x.tfjs.models[model]?.[key], b = x.torch?.models[model]?.[key];
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

export function formatBench(r: BenchReport): string {
  const lines: string[] = [];
  lines.push(`backend   ${r.backend.name}: ${r.backend.detail}`);
  lines.push(`machine   ${r.machine.cores} cores; load average (1/5/15 min) ${r.machine.loadBefore.join(' ')} before, ${r.machine.loadAfter.join(' ')} after`);
  lines.push(`protocol  batch ${r.protocol.batch}, ${r.protocol.batches} batches, 1 warm-up epoch, median of ${r.protocol.repeats}; ${r.protocol.optimizer}, ${r.protocol.loss}`);
  lines.push(`gemm peak ${r.gemmPeakGflops} GFLOP/s (512² matMul, CPU time) on ${r.backend.name}`);
  if (r.torch) lines.push(`reference ${r.torch.engine}, ${r.torch.threads} thread(s) (${TORCH_POOL_VARIABLES.join(', ')} = ${r.torch.threads} before import; ${r.torch.interopThreads} inter-op), run in this session right after tfjs`);
  if (r.torchError) lines.push(`reference PyTorch not run: ${r.torchError}`);
  const several = r.rounds.length > 1;
  if (several) lines.push(`rounds    ${r.rounds.length}, tfjs then PyTorch in each: figures are medians over the rounds, ratios the median of the rounds' ratios`);
  lines.push('');
  lines.push('images/s: wall-clock (the protocol) and, in brackets, by process CPU time (less disturbed by other load)');
  const head = ['model', 'phase', 'tfjs', '[cpu]'];
  if (r.torch) head.push('torch', '[cpu]', 'ratio', '[cpu]');
  head.push('GFLOP/s', 'ceiling');
  const widths = [12, 6, 8, 8, 8, 8, 7, 7, 8, 8];
  const w = (i: number) => widths[i] ?? 8;
  lines.push(head.map((h, i) => (i < 2 ? h.padEnd(w(i)) : pad(h, i < 4 || !r.torch ? w(i) : w(i)))).join(' '));
  for (const [m, t] of Object.entries(r.tfjs.models)) {
    for (const phase of ['train', 'infer'] as const) {
      const ours = t[`${phase}_img_s`], oursCpu = t[`${phase}_cpu_img_s`];
      const ref = r.torch?.models[m]?.[`${phase}_img_s`], refCpu = r.torch?.models[m]?.[`${phase}_cpu_img_s`];
      const f = r.flops[m]?.[phase === 'train' ? 'train' : 'forward'] ?? 0;
      const row = [m.padEnd(w(0)), phase.padEnd(w(1)), num(ours, w(2)), pad(`[${num(oursCpu, 0)}]`, w(3))];
      if (r.torch) {
        // Several rounds: the median of the per-round ratios (both sides of each measured minutes apart at most).
        const cell = (cpu: boolean, n: number) => several
          ? ratio(median(r.rounds.map((x) => roundRatio(x, m, phase, cpu) ?? Number.NaN)), 1, n)
          : cpu ? ratio(oursCpu, refCpu, n) : ratio(ours, ref, n);
        row.push(num(ref, w(4)), pad(`[${num(refCpu, 0)}]`, w(5)), cell(false, w(6)), pad(`[${cell(true, 0)}]`, w(7)));
      }
      row.push(num(((oursCpu ?? ours) * f) / 1e9, 8), num((r.gemmPeakGflops * 1e9) / f, 8));
      lines.push(row.join(' '));
    }
  }
  lines.push('');
  lines.push('GFLOP/s: direct-convolution and dense FLOPs per image × CPU-time images/s; ceiling: images/s if every such FLOP ran at');
  lines.push('the gemm peak. Winograd convolutions (3×3, stride 1) multiply about 4× less, so both can be exceeded.');
  if (several && r.torch) {
    lines.push('');
    lines.push('ratio by CPU time in each round:');
    for (const m of Object.keys(r.tfjs.models)) {
      for (const phase of ['train', 'infer'] as const) {
        const each = r.rounds.map((x) => {
          const q = roundRatio(x, m, phase, true);
          return q === undefined ? '—' : `${q.toFixed(2)}×`;
        });
        lines.push(`  ${m.padEnd(12)} ${phase.padEnd(6)} ${each.join('  ')}`);
      }
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Full-size paper networks (`sei bench --models vgg16,resnet50 --input 224`)

export const FULL_SIZE_MODELS = ['vgg16', 'resnet50'] as const;
export type FullSizeModel = (typeof FULL_SIZE_MODELS)[number];

export interface FullSizeRow {
  model: FullSizeModel;
  input: number;
  batch: number;
  microBatch: number;
  train_img_s: number;
  train_cpu_img_s: number;
  infer_img_s: number;
  peakHeapBytes?: number;
  /** The cost model's estimate of the step's peak memory, beside the measured heap. */
  modelledBytes: number;
  torch?: Throughput;
}

export interface FullSizeReport {
  backend: { name: string; detail: string };
  machine: { cores: number; loadBefore: number[]; loadAfter: number[] };
  steps: number;
  rows: FullSizeRow[];
  torchEngine?: string;
  torchError?: string;
}

/**
 * Each model trained for `steps` steps at full width and `input`×`input` px, batch `batch` in
 * micro-batches (given, or the largest the wasm heap holds), then timed in inference. One model at
 * a time, in this process: each may take the heap to its peak, which then stays.
 */
export async function runFullSizeBench(backend: { name: string; detail: string }, o: {
  models: FullSizeModel[]; input: number; batch: number; microBatch?: number; steps: number; torch: boolean; python?: string; log: (m: string) => void;
}): Promise<FullSizeReport> {
  const { loadavg, availableParallelism } = await import('node:os');
  const { measureSteps } = await import('./full-size.js');
  const { chooseMicroBatch, networkCost, trainingMemory } = await import('./cost-model.js');
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const rows: FullSizeRow[] = [];
  for (const model of o.models) {
    const shape = { arch: model, height: o.input, width: o.input, inputChannels: 3, classes: 1000, widthMultiplier: 1 };
    const training = { batchSize: o.batch, optimizer: 'sgd' as const, momentum: 0.9 };
    const micro = o.microBatch ?? (backend.name === 'wasm' ? chooseMicroBatch(shape, training) : o.batch);
    o.log(`${model} at ${o.input}×${o.input}: batch ${o.batch} in micro-batches of ${micro}, ${o.steps} timed step(s)…`);
    const m = measureSteps({ arch: model, input: o.input, batch: o.batch, microBatch: micro }, o.steps,
      (i, s) => o.log(`  step ${i + 1}: ${s.toFixed(1)} s`), o.steps > 1);
    const modelled = trainingMemory(networkCost(shape), { optimizer: 'sgd', momentum: 0.9, batch: o.batch, microBatch: micro }).totalBytes;
    rows.push({ model, input: o.input, batch: o.batch, microBatch: micro, train_img_s: m.trainImagesPerSecond, train_cpu_img_s: m.trainCpuImagesPerSecond, infer_img_s: m.inferImagesPerSecond, peakHeapBytes: m.peakHeapBytes, modelledBytes: modelled });
    o.log(`  train ${m.trainImagesPerSecond.toFixed(3)} img/s (${m.trainCpuImagesPerSecond.toFixed(3)} by CPU time), infer ${m.inferImagesPerSecond.toFixed(2)} img/s, heap ${m.peakHeapBytes === undefined ? '—' : `${(m.peakHeapBytes / 2 ** 30).toFixed(2)} GiB`}`);
  }
  let torchEngine: string | undefined, torchError: string | undefined;
  if (o.torch) {
    o.log('running the PyTorch full-size reference (single thread)…');
    const python = o.python ?? DEFAULT_PYTHON;
    const here = dirname(fileURLToPath(import.meta.url));
    const script = [join(here, 'torch_full_size.py'), join(here, '..', '..', '..', 'src', 'ml', 'torch_full_size.py')].find((p) => existsSync(p));
    if (script === undefined) torchError = 'the script src/ml/torch_full_size.py is missing from this installation';
    else {
      const micro = Math.min(...rows.map((r) => r.microBatch));
      const args = ['--models', o.models.join(','), '--input', String(o.input), '--batch', String(o.batch), '--micro', String(micro), '--steps', String(o.steps)];
      const r = await $({ nothrow: true, quiet: true, env: { ...process.env, OMP_NUM_THREADS: '1' } })`${python} ${script} ${args}`;
      if (r.exitCode !== 0) torchError = `${python} ${script} exited with code ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`;
      else {
        const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
        torchEngine = String(j.engine);
        for (const row of rows) row.torch = j[row.model] as Throughput;
      }
    }
  }
  return {
    backend, steps: o.steps, rows, torchEngine, torchError,
    machine: { cores: availableParallelism(), loadBefore, loadAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
  };
}

export function formatFullSizeBench(r: FullSizeReport): string {
  const gib = (b?: number) => (b === undefined ? '—' : `${(b / 2 ** 30).toFixed(2)} GiB`);
  const f = (x?: number) => (x === undefined ? '—' : x >= 10 ? x.toFixed(1) : x.toFixed(3));
  const lines = [`backend   ${r.backend.name}: ${r.backend.detail}`,
    `machine   ${r.machine.cores} cores; load average ${r.machine.loadBefore.join(' ')} before, ${r.machine.loadAfter.join(' ')} after`,
    `protocol  full width, 1000 classes, SGD momentum 0.9 + weight decay 5e-4, ${r.steps} timed training step(s)${r.steps > 1 ? ' after a warm-up one' : ' (no warm-up)'}; inference: one micro-batch`];
  if (r.torchEngine) lines.push(`reference ${r.torchEngine}, 1 thread, same batch and micro-batch`);
  if (r.torchError) lines.push(`reference PyTorch not run: ${r.torchError}`);
  lines.push('');
  const head = ['model', 'input', 'batch', 'micro', 'train img/s', '[cpu]', 'infer img/s', 'peak heap', 'modelled', ...(r.torchEngine ? ['torch train', '[cpu]', 'torch infer'] : [])];
  const rows = r.rows.map((x) => [x.model, `${x.input}`, `${x.batch}`, `${x.microBatch}`, f(x.train_img_s), `[${f(x.train_cpu_img_s)}]`, f(x.infer_img_s), gib(x.peakHeapBytes), gib(x.modelledBytes),
    ...(r.torchEngine ? [f(x.torch?.train_img_s), `[${f(x.torch?.train_cpu_img_s)}]`, f(x.torch?.infer_img_s)] : [])]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [head, ...rows]) lines.push(row.map((v, i) => v.padEnd(w[i]!)).join('  ').trimEnd());
  return lines.join('\n');
}
