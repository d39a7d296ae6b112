// The engine benchmark: training and inference throughput of the reference models on the active
// backend, with the protocol of the PyTorch reference script (batch 64, 8 batches, one warm-up
// epoch, median of 3 timed epochs, Adam lr 1e-3, softmax cross-entropy), and the script itself
// run side by side when PyTorch is available.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { buildReferenceModel, REFERENCE_MODELS, type ReferenceModelName } from './reference-models.js';

export interface BenchProtocol { batch: number; batches: number; repeats: number }
export const DEFAULT_PROTOCOL: BenchProtocol = { batch: 64, batches: 8, repeats: 3 };

export interface Throughput { train_img_s: number; infer_img_s: number }
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

export function makeTrainStep(model: tf.LayersModel, lr = 1e-3): (x: tf.Tensor, y: tf.Tensor) => number {
  const opt = tf.train.adam(lr);
  return (x, y) => {
    const cost = opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    )!;
    const v = cost.dataSync()[0]!;
    cost.dispose();
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
  const timeIt = (fn: () => void) => {
    fn(); // warm-up
    const times: number[] = [];
    for (let r = 0; r < p.repeats; r++) {
      const t = performance.now();
      fn();
      times.push((performance.now() - t) / 1000);
    }
    return round1(images / median(times));
  };
  try {
    const train_img_s = timeIt(trainEpoch);
    const infer_img_s = timeIt(inferEpoch);
    return { train_img_s, infer_img_s };
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

export interface TorchResult { engine: string; threads: number; models: Record<string, Throughput> }

/** Runs the PyTorch reference script; rejects with a readable reason when Python or torch is missing. */
export function runTorchReference(p: BenchProtocol = DEFAULT_PROTOCOL, opts: { python?: string; threads?: number; script?: string } = {}): Promise<TorchResult> {
  const python = opts.python ?? DEFAULT_PYTHON;
  if (!existsSync(python)) {
    return Promise.reject(new Error(`${python} not found: the PyTorch reference needs Python 3 with torch (Debian: apt-get install python3-torch)`));
  }
  const script = opts.script ?? torchReferenceScript();
  const args = [script, '--threads', String(opts.threads ?? 1), '--batch', String(p.batch), '--batches', String(p.batches), '--repeats', String(p.repeats)];
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e) => reject(new Error(`could not run ${python}: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        const why = /No module named 'torch'/.test(err)
          ? `${python} has no torch module (Debian: apt-get install python3-torch)`
          : `${python} ${script} exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`;
        reject(new Error(why));
        return;
      }
      try {
        const j = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
        const models: Record<string, Throughput> = {};
        for (const m of REFERENCE_MODELS) models[m] = j[m] as Throughput;
        resolve({ engine: String(j.engine), threads: Number(j.threads), models });
      } catch (e) {
        reject(new Error(`unreadable output from the PyTorch reference: ${(e as Error).message}`));
      }
    });
  });
}

/** Training FLOPs per image of each convolution/dense layer, for the FLOP-bound ceiling. */
export function modelFlops(name: ReferenceModelName): { forward: number; train: number } {
  const model = buildReferenceModel(name);
  let forward = 0, backward = 0, first = true;
  for (const layer of model.layers) {
    const cfg = layer.getConfig() as { kernelSize?: number[]; filters?: number; units?: number };
    const outShape = layer.outputShape as number[];
    const inShape = (layer.inputSpec?.[0]?.shape ?? (layer as unknown as { batchInputShape?: number[] }).batchInputShape) as number[] | undefined;
    const w = layer.getWeights()[0];
    if (w === undefined || (cfg.filters === undefined && cfg.units === undefined)) continue;
    const weightSize = w.shape.slice(0, -1).reduce((a, b) => a * b, 1); // fan-in
    const outElems = outShape.slice(1).reduce((a, b) => a * b, 1);
    const f = 2 * outElems * weightSize;
    forward += f;
    backward += first ? f : 2 * f; // the first layer needs no input gradient
    first = false;
    void inShape;
  }
  model.dispose();
  return { forward, train: forward + backward };
}
