// Training steps of the paper networks at any size, exactly as the training loop runs them
// (micro-batches with accumulated gradients, in-place SGD with momentum and weight decay): for
// `sei bench --models … --input …`, for calibrating `sei plan --estimate` on this machine, and for
// the tests of a full-size step. Reports images per second and the wasm heap reached.
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from './models/index.js';
import { networkParts } from './split.js';
import { imageSource } from './train/sources.js';
import { addWeightDecay, batchGradients } from './train/train.js';
import { sgd, type Optimizer } from './train/optimizers.js';
import { wasmHeapBytes, setMemoryContext } from './heap.js';
import type { PreparedSplit } from '../data/prepared-types.js';
import type { Arch } from './spec.js';
import type { Network } from './models/network.js';

export interface StepShape { arch: Arch; input: number; width?: number; classes?: number; batch: number; microBatch: number }

export interface StepMeasure {
  arch: Arch;
  input: number;
  batch: number;
  microBatch: number;
  steps: number;
  /** Training images per second over the measured steps (after one warm-up step). */
  trainImagesPerSecond: number;
  /** The same by process CPU time (less disturbed by other load on a shared machine). */
  trainCpuImagesPerSecond: number;
  /** Inference images per second (forward only, at the micro-batch). */
  inferImagesPerSecond: number;
  /** The wasm heap's size after the steps (it grows to the peak and never shrinks); undefined off wasm. */
  peakHeapBytes?: number;
  loss: number;
}

/** Deterministic pseudo-random uint8 images (a fixed LCG), `count` of them, labels cycling. */
export function syntheticImages(count: number, size: number, classes: number, seed = 1): PreparedSplit {
  const one = size * size * 3;
  return {
    count,
    labels: Int32Array.from({ length: count }, (_, i) => i % classes),
    readImages(indices) {
      const out = new Uint8Array(indices.length * one);
      for (let i = 0; i < indices.length; i++) {
        let s = (seed * 7919 + indices[i]! * 104729) >>> 0;
        for (let j = 0; j < one; j++) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          out[i * one + j] = s >>> 24;
        }
      }
      return out;
    },
  };
}

/** A network and one step function of the training loop's arithmetic. */
export function fullSizeTrainer(shape: StepShape, seed = 0): {
  net: Network; step(images: Int32Array): number; optimizer: Optimizer; data: PreparedSplit; dispose(): void;
} {
  const classes = shape.classes ?? 1000;
  const net = buildNetwork(resolveModelSpec({ arch: shape.arch, inputSize: shape.input, inputChannels: 3, classes, width: shape.width ?? 1 }), seed);
  const data = syntheticImages(Math.max(shape.batch, 1), shape.input, classes, seed + 1);
  const src = imageSource(data, { height: shape.input, width: shape.input, channels: 3 }, net.spec.normalize);
  const parts = networkParts(net);
  const vars = net.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = sgd(0.9);
  return {
    net, optimizer, data,
    step(idx) {
      const labels = Int32Array.from(idx, (i) => data.labels[i]!);
      const r = batchGradients(parts, src, vars, idx, labels, undefined, shape.microBatch, classes);
      addWeightDecay(vars, r.grads, 5e-4);
      optimizer.step(vars, r.grads, 0.01, true);
      return r.loss;
    },
    dispose() { optimizer.dispose(); net.dispose(); },
  };
}

/**
 * Measures `steps` training steps (after one warm-up step unless `warmup` is false: at full size
 * a step takes minutes) and one inference pass at the micro-batch.
 */
export function measureSteps(shape: StepShape, steps = 1, onStep?: (i: number, seconds: number) => void, warmup = true): StepMeasure {
  const restore = setMemoryContext({ model: shape.arch, resolution: `${shape.input}×${shape.input}`, batch: shape.batch, microBatch: shape.microBatch });
  const t = fullSizeTrainer(shape);
  try {
    const idx = Int32Array.from({ length: shape.batch }, (_, i) => i);
    let loss = warmup ? t.step(idx) : NaN;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) {
      const s0 = performance.now();
      loss = t.step(idx);
      onStep?.(i, (performance.now() - s0) / 1000);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const trainCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const src = imageSource(t.data, { height: shape.input, width: shape.input, channels: 3 }, t.net.spec.normalize);
    const x = src.batch(idx.subarray(0, shape.microBatch));
    const i0 = performance.now();
    const out = t.net.model.predict(x) as tf.Tensor;
    out.dataSync();
    const inferSeconds = (performance.now() - i0) / 1000;
    tf.dispose([x, out]);
    return {
      arch: shape.arch, input: shape.input, batch: shape.batch, microBatch: shape.microBatch, steps,
      trainImagesPerSecond: (steps * shape.batch) / trainSeconds,
      trainCpuImagesPerSecond: (steps * shape.batch) / trainCpuSeconds,
      inferImagesPerSecond: shape.microBatch / inferSeconds,
      peakHeapBytes: wasmHeapBytes(), loss,
    };
  } finally {
    t.dispose();
    restore();
  }
}
