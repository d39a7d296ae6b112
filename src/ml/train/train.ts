// The training loop: seeded and deterministic (seeded shuffling, flips and hold-out; no
// Math.random), batches streamed from the prepared dataset, Adam or SGD with momentum, a
// learning-rate schedule, L2 weight decay, early stopping on validation with the best weights
// restored, progress events, and — when a leading part is frozen and nothing is augmented — that
// part's output computed once per image and reused every epoch.
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../util/errors.js';
import type { PreparedSplit } from '../../data/prepared-types.js';
import type { ProgressEvent } from '../../util/progress.js';
import type { ImageGeometry } from '../feed.js';
import type { TrainPart } from '../split.js';
import { withTrainingDefaults, type Normalize, type TrainingSpec } from '../spec.js';
import { allIndices, evaluateSource, type EvalResult } from './evaluate.js';
import { adam, sgd, type Optimizer } from './optimizers.js';
import { Rng, deriveSeed } from '../../util/random.js';
import { learningRateAt } from './schedule.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { setMemoryContext, type MemoryContext } from '../heap.js';
import { axpyInPlace } from './in-place.js';
import { setDropoutStep } from '../models/dropout.js';
import { buildActivationCache, cacheBytes, defaultCacheCeiling, imageSource, prefixSource, runParts, type BatchSource, type CacheOptions } from './sources.js';

export interface TrainData {
  train: PreparedSplit;
  /** The dataset's validation split; without one, `training.valFraction` holds out part of train. */
  val?: PreparedSplit;
  geometry: ImageGeometry;
  classes: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  learningRate: number;
  seconds: number;
}

export interface TrainOptions {
  /** What to run, in order, and what trains (networkParts / splitParts in src/ml/split.ts). */
  parts: TrainPart[];
  data: TrainData;
  normalize: Normalize;
  training: TrainingSpec;
  onProgress?(event: ProgressEvent): void;
  onEpochEnd?(record: EpochRecord): void;
  log?(message: string): void;
  signal?: AbortSignal;
  /** Frozen-prefix activation cache: on by default when applicable; `false` turns it off. */
  cache?: false | CacheOptions;
  /** Save the training state here after every epoch, and resume from it when it holds one. */
  checkpointDir?: string;
  /** What is trained (model, resolution), named by an out-of-memory error. */
  memoryContext?: MemoryContext;
}

export interface TrainResult {
  history: EpochRecord[];
  epochsRun: number;
  /** Epoch whose weights were kept (the best on validation under early stopping, else the last). */
  bestEpoch: number;
  stoppedEarly: boolean;
  valAccuracy?: number;
  trainCount: number;
  valCount: number;
  /** Parts whose outputs were computed once and reused (empty when not cached). */
  cachedParts: string[];
  cache: 'none' | 'memory' | 'file';
}

/** Train and validation index sets: the val split when there is one, else a seeded hold-out. */
export function splitIndices(data: TrainData, t: TrainingSpec): { train: Int32Array; val?: Int32Array; valSplit?: PreparedSplit } {
  if (data.val && data.val.count > 0) return { train: allIndices(data.train.count), val: allIndices(data.val.count), valSplit: data.val };
  if (!t.valFraction) return { train: allIndices(data.train.count) };
  const order = new Rng(deriveSeed(t.seed, 'holdout')).shuffle(allIndices(data.train.count));
  const nVal = Math.max(1, Math.round(order.length * t.valFraction));
  if (nVal >= order.length) throw new UsageError(`training.valFraction ${t.valFraction} leaves no training image out of ${order.length}`);
  const val = order.slice(0, nVal).sort();
  const train = order.slice(nVal).sort();
  return { train, val, valSplit: data.train };
}

function trainableVariables(parts: TrainPart[]): tf.Variable[] {
  const seen = new Set<tf.Variable>();
  for (const p of parts) for (const l of p.trainableLayers) for (const w of l.trainableWeights) seen.add(w.read() as tf.Variable);
  return [...seen];
}

/** Layers whose weights training can change: the trainable ones and those updated in training mode (BN statistics). */
function mutableLayers(parts: TrainPart[]): tf.layers.Layer[] {
  const s = new Set<tf.layers.Layer>();
  for (const p of parts) {
    p.trainableLayers.forEach((l) => s.add(l));
    if (p.trainingMode) p.blocks.forEach((b) => b.layers.forEach((l) => s.add(l)));
  }
  return [...s].filter((l) => l.weights.length > 0);
}

/** The weights' values, held in JavaScript memory: on wasm a full-size network's copy would take
 *  another 0.5 GiB of the 4 GiB heap, and a clone sharing the variables' storage would force a
 *  copy at the next in-place update anyway. */
type Snapshot = { values: Float32Array | Int32Array | Uint8Array; shape: number[] }[][];
function snapshot(layers: tf.layers.Layer[]): Snapshot {
  return layers.map((l) => l.weights.map((w) => {
    const t = w.read();
    return { values: (t.dataSync() as Float32Array).slice(), shape: t.shape };
  }));
}

function restore(layers: tf.layers.Layer[], s: Snapshot): void {
  layers.forEach((l, i) => {
    const ts = s[i]!.map((w, j) => tf.tensor(w.values, w.shape, l.weights[j]!.dtype));
    l.setWeights(ts);
    tf.dispose(ts);
  });
}

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const { parts, data } = opts;
  const t = withTrainingDefaults(opts.training);
  if (t.earlyStopping && !data.val && !t.valFraction) {
    throw new UsageError('training.earlyStopping needs validation images: the dataset has no val split; set training.valFraction');
  }
  const sets = splitIndices(data, t);
  if (sets.train.length === 0) throw new UsageError('training: the dataset has no training images');
  const classes = data.classes;
  const vars = trainableVariables(parts);
  if (vars.length === 0) throw new Error('trainModel: nothing to train (no trainable layer in any part)');

  // A leading run of frozen parts (inference mode, no trainable layer) runs outside the gradient tape;
  // its output is computed once and cached when inputs are not augmented.
  let k = 0;
  while (k < parts.length - 1 && !parts[k].trainingMode && parts[k].trainableLayers.length === 0) k++;
  const useCache = k > 0 && !t.augment.flip && opts.cache !== false;
  const images = imageSource(data.train, data.geometry, opts.normalize);
  const valImages = sets.valSplit ? imageSource(sets.valSplit, data.geometry, opts.normalize) : undefined;
  let trainSrc: BatchSource = images;
  let valSrc: BatchSource | undefined = valImages;
  let run: TrainPart[];
  let cacheKind: TrainResult['cache'] = 'none';
  const toDispose: BatchSource[] = [];
  const optimizer: Optimizer = t.optimizer === 'adam' ? adam() : sgd(t.momentum);
  let best: Snapshot | undefined;
  const mutable = mutableLayers(parts);

  const restoreContext = setMemoryContext({ ...opts.memoryContext, batch: t.batchSize, microBatch: Math.min(t.microBatch ?? t.batchSize, t.batchSize) });
  try {
    const cacheOpts: CacheOptions = opts.cache === false ? {} : (opts.cache ?? {});
    let caching = useCache;
    if (caching) {
      // Size check first: a cut early in a wide network on a large dataset can need more than memory or disk holds.
      const one = tf.tidy(() => runParts(parts.slice(0, k), images.batch(sets.train.subarray(0, 1)), true));
      const elements = one.size;
      one.dispose();
      const need = cacheBytes(elements, sets.train.length + (sets.val?.length ?? 0), cacheOpts.precision);
      const ceiling = cacheOpts.maxBytes ?? defaultCacheCeiling(cacheOpts.dir);
      if (need > ceiling) {
        caching = false;
        opts.log?.(`frozen-prefix cache not used: it would take ${(need / 2 ** 30).toFixed(2)} GiB (ceiling ${(ceiling / 2 ** 30).toFixed(2)} GiB); the head runs every batch`);
      }
    }
    if (caching) {
      const prefix = parts.slice(0, k);
      opts.onProgress?.({ phase: 'cache', message: `computing ${prefix.map((p) => p.name).join('+')} activations once` });
      const tc = await buildActivationCache(images, prefix, sets.train, { batchSize: t.batchSize, ...cacheOpts }, opts.signal);
      toDispose.push(tc);
      trainSrc = tc;
      cacheKind = tc.kind;
      if (valImages && sets.val) {
        const vc = await buildActivationCache(valImages, prefix, sets.val, { batchSize: t.batchSize, ...cacheOpts }, opts.signal);
        toDispose.push(vc);
        valSrc = vc;
        if (vc.kind === 'file') cacheKind = 'file';
      }
      opts.log?.(`frozen ${prefix.map((p) => p.name).join('+')} computed once (${cacheKind}, ${(tc.bytes / 2 ** 20).toFixed(1)} MiB for train)`);
    }

    if (k > 0 && !caching) {
      trainSrc = prefixSource(images, parts.slice(0, k));
      valSrc = valImages && prefixSource(valImages, parts.slice(0, k));
    }
    run = parts.slice(k);

    const history: EpochRecord[] = [];
    const es = t.earlyStopping;
    const better = (a: number, b: number) => (es?.metric === 'valLoss' ? a < b : a > b);
    let bestValue: number | undefined;
    let bestEpoch = 0;
    let sinceBest = 0;
    let stoppedEarly = false;
    const n = sets.train.length;
    const micro = Math.min(t.microBatch ?? t.batchSize, t.batchSize);
    if (micro < t.batchSize) opts.log?.(`batches of ${t.batchSize} in micro-batches of ${micro} (gradients accumulated)`);
    const batchesFull = Math.ceil(n / t.batchSize);
    const batches = Math.min(batchesFull, t.maxBatchesPerEpoch ?? Infinity);

    let firstEpoch = 1;
    const layerWeights = (): Float32Array[][] => mutable.map((l) => l.weights.map((w) => Float32Array.from(w.read().dataSync() as Float32Array)));
    if (opts.checkpointDir) {
      const saved = loadCheckpoint<EpochRecord>(opts.checkpointDir, mutable.map((l) => l.weights.map((w) => w.read().size)));
      if (saved) {
        // Resume: the weights, optimizer and early-stopping state as they were after that epoch.
        // As an early-stopping restore does: outside a tidy, each new tensor disposed once set.
        restore(mutable, saved.weights.map((ws, i) => ws.map((a, j) => ({ values: a, shape: mutable[i]!.weights[j]!.read().shape }))));
        optimizer.importState(vars, saved.optimizer);
        if (saved.best) best = saved.best.map((ws, i) => ws.map((a, j) => ({ values: a, shape: mutable[i]!.weights[j]!.read().shape })));
        history.push(...saved.history);
        bestValue = saved.bestValue;
        bestEpoch = saved.bestEpoch;
        sinceBest = saved.sinceBest;
        stoppedEarly = saved.stoppedEarly;
        firstEpoch = saved.stoppedEarly ? t.epochs + 1 : saved.epoch + 1;
        opts.log?.(`resumed from the checkpoint after epoch ${saved.epoch}/${t.epochs}`);
      }
    }
    const checkpoint = (epoch: number): void => {
      if (!opts.checkpointDir) return;
      saveCheckpoint(opts.checkpointDir, {
        epoch, weights: layerWeights(), ...(best ? { best: best.map((ws) => ws.map((w) => Float32Array.from(w.values))) } : {}),
        optimizer: optimizer.exportState(vars), history, ...(bestValue !== undefined ? { bestValue } : {}), bestEpoch, sinceBest, stoppedEarly,
      });
    };

    for (let epoch = firstEpoch; epoch <= t.epochs; epoch++) {
      const started = Date.now();
      const lr = learningRateAt(epoch, t.epochs, t.learningRate, t.schedule);
      const order = new Rng(deriveSeed(t.seed, `shuffle:${epoch}`)).shuffle(sets.train.slice());
      const flipRng = new Rng(deriveSeed(t.seed, `flip:${epoch}`));
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        abortIfNeeded(opts.signal);
        const idx = order.subarray(b * t.batchSize, Math.min((b + 1) * t.batchSize, n));
        const flip = t.augment.flip ? Array.from(idx, () => flipRng.next() < 0.5) : undefined;
        const labels = new Int32Array(idx.length);
        for (let i = 0; i < idx.length; i++) labels[i] = data.train.labels[idx[i]];
        const { loss: lossValue, correct: right, grads } = batchGradients(run, trainSrc, vars, idx, labels, flip, micro, classes, (epoch - 1) * batches + b);
        correct += right;
        addWeightDecay(vars, grads, t.weightDecay);
        // Each gradient is freed as soon as its variable is updated.
        optimizer.step(vars, grads, lr, true);
        if (!Number.isFinite(lossValue)) throw new Error(`training diverged: loss ${lossValue} at epoch ${epoch}, batch ${b + 1} (lower training.learningRate)`);
        lossSum += lossValue * idx.length;
        seen += idx.length;
        opts.onProgress?.({ phase: 'train', epoch, epochs: t.epochs, batch: b + 1, batches, loss: lossSum / seen, accuracy: correct / seen });
        await new Promise((r) => setImmediate(r));
      }
      const record: EpochRecord = { epoch, loss: lossSum / seen, accuracy: correct / seen, learningRate: lr, seconds: 0 };
      if (valSrc && sets.valSplit && sets.val) {
        const ev: EvalResult = await evaluateSource(valSrc, sets.valSplit, (x) => runParts(run, x, true), {
          indices: sets.val, batchSize: Math.max(t.batchSize, 64), classes, signal: opts.signal,
        });
        record.valLoss = ev.loss;
        record.valAccuracy = ev.accuracy;
        opts.onProgress?.({ phase: 'validate', epoch, epochs: t.epochs, loss: ev.loss, accuracy: ev.accuracy });
      }
      record.seconds = (Date.now() - started) / 1000;
      history.push(record);
      opts.log?.(`epoch ${epoch}/${t.epochs}: loss ${record.loss.toFixed(4)} acc ${record.accuracy.toFixed(4)}` +
        (record.valAccuracy !== undefined ? ` val_loss ${record.valLoss!.toFixed(4)} val_acc ${record.valAccuracy.toFixed(4)}` : '') +
        ` lr ${lr.toExponential(2)} (${record.seconds.toFixed(1)} s)`);
      if (es) {
        const v = es.metric === 'valLoss' ? record.valLoss! : record.valAccuracy!;
        if (bestValue === undefined || better(v, bestValue)) {
          bestValue = v;
          bestEpoch = epoch;
          sinceBest = 0;
          best = snapshot(mutable);
        } else if (++sinceBest >= es.patience) {
          stoppedEarly = true;
          checkpoint(epoch);
          opts.onEpochEnd?.(record);
          break;
        }
      } else {
        bestEpoch = epoch;
      }
      checkpoint(epoch);
      opts.onEpochEnd?.(record);
    }
    if (best && bestEpoch !== history.length) restore(mutable, best);
    const kept = history[bestEpoch - 1];
    return {
      history,
      epochsRun: history.length,
      bestEpoch,
      stoppedEarly,
      valAccuracy: kept?.valAccuracy,
      trainCount: n,
      valCount: sets.val?.length ?? 0,
      cachedParts: cacheKind !== 'none' ? parts.slice(0, k).map((p) => p.name) : [],
      cache: cacheKind,
    };
  } finally {
    restoreContext();
    optimizer.dispose();
    toDispose.forEach((s) => s.dispose());
  }
}

/**
 * The loss, the number right and the gradient of every variable for one batch, computed over
 * micro-batches of at most `micro` images. Each micro-batch's loss is weighted by its share of the
 * batch, so the summed gradients are the batch's (up to float rounding); batch norm, though,
 * normalises each micro-batch by its own statistics. The first micro-batch's gradients become the
 * accumulators and later ones are added in place and freed at once.
 */
export function batchGradients(run: TrainPart[], src: BatchSource, vars: tf.Variable[], idx: Int32Array, labels: Int32Array,
  flip: boolean[] | undefined, micro: number, classes: number, step?: number): { loss: number; correct: number; grads: (tf.Tensor | null)[] } {
  let acc: (tf.Tensor | null)[] | undefined;
  let loss = 0, correct = 0;
  try {
    for (let off = 0; off < idx.length; off += micro) {
      const end = Math.min(off + micro, idx.length);
      const share = (end - off) / idx.length;
      const sub = labels.subarray(off, end);
      let preds: tf.Tensor | undefined;
      const x = src.batch(idx.subarray(off, end), flip?.slice(off, end));
      let value: tf.Scalar, grads: tf.NamedTensorMap;
      try {
        // Dropout draws this micro-batch's rows of the step's mask (see models/dropout.ts).
        if (step !== undefined) setDropoutStep({ step, batchRows: idx.length, rowOffset: off });
        ({ value, grads } = tf.variableGrads(() => {
          const logits = runParts(run, x);
          preds = tf.keep(tf.argMax(logits, 1));
          const oneHot = tf.oneHot(tf.tensor1d(sub, 'int32'), classes);
          const l = tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
          return share === 1 ? l : tf.mul(l, share);
        }, vars));
      } finally {
        setDropoutStep(undefined);
        x.dispose();
      }
      loss += value.dataSync()[0]!;
      const p = preds!.dataSync();
      for (let i = 0; i < sub.length; i++) if (p[i] === sub[i]) correct++;
      tf.dispose([value, preds!]);
      const list = vars.map((v) => grads[v.name] ?? null);
      if (acc === undefined) {
        acc = list;
        continue;
      }
      list.forEach((g, i) => {
        if (g === null) return;
        const a = acc![i];
        if (a === null || a === undefined) { acc![i] = g; return; }
        if (!axpyInPlace(a, g, 1)) {
          acc![i] = tf.add(a, g);
          a.dispose();
        }
        g.dispose();
      });
    }
  } catch (e) {
    if (acc) tf.dispose(acc.filter((g): g is tf.Tensor => g !== null));
    throw e;
  }
  return { loss, correct, grads: acc ?? vars.map(() => null) };
}

/** L2 weight decay, g ← g + wd·w, in place where the backend allows. */
export function addWeightDecay(vars: tf.Variable[], grads: (tf.Tensor | null)[], wd: number): void {
  if (wd <= 0) return;
  grads.forEach((g, i) => {
    if (g === null || axpyInPlace(g, vars[i]!, wd)) return;
    grads[i] = tf.tidy(() => tf.add(g, tf.mul(vars[i]!, wd)));
    g.dispose();
  });
}
