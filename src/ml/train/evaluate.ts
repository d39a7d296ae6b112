// Classification metrics over a split: accuracy, balanced accuracy, per-class accuracy, confusion
// matrix and mean cross-entropy, from any logits function (a network, a split model, a split model
// with a quantised code).
import * as tf from '@tensorflow/tfjs';
import type { PreparedSplit } from '../../data/prepared-types.js';
import type { ImageGeometry } from '../feed.js';
import type { Network } from '../models/network.js';
import type { Normalize } from '../spec.js';
import { imageSource, type BatchSource } from './sources.js';

export interface EvalResult {
  count: number;
  loss: number;
  accuracy: number;
  /** Mean of per-class recall over the classes present in the split. */
  balancedAccuracy: number;
  /** Recall per class (NaN for a class with no image in the split). */
  perClassAccuracy: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

export type LogitsFn = (x: tf.Tensor) => tf.Tensor;

export interface EvalOptions {
  /** Indices into the split (default: all images). */
  indices?: Int32Array;
  batchSize?: number;
  classes: number;
  signal?: AbortSignal;
  onBatch?(done: number, total: number): void;
}

export function allIndices(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Metrics from true labels and predictions. */
export function classificationMetrics(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: number, lossSum = NaN): EvalResult {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    confusion[labels[i]][predicted[i]]++;
    if (labels[i] === predicted[i]) correct++;
  }
  const perClassAccuracy = confusion.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n === 0 ? NaN : row[c] / n;
  });
  const present = perClassAccuracy.filter((v) => !Number.isNaN(v));
  const n = labels.length;
  return {
    count: n,
    loss: n ? lossSum / n : NaN,
    accuracy: n ? correct / n : NaN,
    balancedAccuracy: present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN,
    perClassAccuracy,
    confusion,
  };
}

/** Evaluate `logits` on a split, reading batches from `source` (inference mode is the caller's). */
export async function evaluateSource(source: BatchSource, split: PreparedSplit, logits: LogitsFn, opts: EvalOptions): Promise<EvalResult> {
  const idx = opts.indices ?? allIndices(split.count);
  const bs = opts.batchSize ?? 64;
  const labels = new Int32Array(idx.length);
  const preds = new Int32Array(idx.length);
  let lossSum = 0;
  for (let s = 0; s < idx.length; s += bs) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const chunk = idx.subarray(s, Math.min(s + bs, idx.length));
    for (let i = 0; i < chunk.length; i++) labels[s + i] = split.labels[chunk[i]];
    const [p, l] = tf.tidy(() => {
      const y = logits(source.batch(chunk));
      const oneHot = tf.oneHot(tf.tensor1d(labels.subarray(s, s + chunk.length), 'int32'), opts.classes);
      const loss = tf.sum(tf.losses.softmaxCrossEntropy(oneHot, y, undefined, 0, tf.Reduction.NONE));
      return [tf.argMax(y, 1), loss];
    });
    preds.set(p.dataSync() as Int32Array, s);
    lossSum += l.dataSync()[0];
    tf.dispose([p, l]);
    opts.onBatch?.(Math.min(s + bs, idx.length), idx.length);
    await new Promise((r) => setImmediate(r));
  }
  return classificationMetrics(labels, preds, opts.classes, lossSum);
}

/**
 * Evaluate a logits function on a prepared split's images (normalised as the model expects).
 * E.g. evaluateImages(ds.splits.test, geometry, net.spec.normalize, (x) => net.model.predict(x) as tf.Tensor, { classes }).
 */
export async function evaluateImages(
  split: PreparedSplit, geometry: ImageGeometry, normalize: Normalize, logits: LogitsFn, opts: EvalOptions,
): Promise<EvalResult> {
  return evaluateSource(imageSource(split, geometry, normalize), split, logits, opts);
}

/** Logits of a whole network in inference mode. */
export function networkLogitsFn(net: Network): LogitsFn {
  return (x) => net.model.apply(x, { training: false }) as tf.Tensor;
}
