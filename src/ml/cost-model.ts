// What training a network costs, from the architecture's formulas alone (no TensorFlow.js import:
// the planner uses it to refuse a cell that cannot fit before anything starts, and `sei plan
// --estimate` to print FLOPs, peak memory and time). Per image: FLOPs of the forward pass (the
// accounting.ts convention: 2 per multiply-accumulate, one per bias, ReLU and addition, two per
// batch-norm element) and the activation elements a training step keeps for the backward pass.
// Per step: weights, optimizer state and gradients of the trainable variables, and activations
// at the micro-batch; on wasm against the 4 GiB heap.
import { RESNET50_EXPANSION, RESNET50_LAYOUT, VGG16_STAGES, scaledChannels } from './models/cut-points.js';
import type { Arch, TrainingSpec } from './spec.js';

export interface NetworkShape {
  arch: Arch;
  height: number;
  width: number;
  inputChannels: number;
  classes: number;
  widthMultiplier: number;
}

export interface NetworkCost {
  params: number;
  /** Forward FLOPs per image. */
  forwardFlops: number;
  /** Activation elements a training step keeps per image (layer outputs, pre- and post-activation). */
  activationElements: number;
  /** The largest single layer output per image (elements): transient backward buffers scale with it. */
  largestActivation: number;
  /** Forward FLOPs per image up to and including each cut point (the head's share at that cut). */
  flopsAt: Record<string, number>;
}

/** A training step's FLOPs per image: forward, input gradient and weight gradient (≈ 3× forward). */
export const TRAIN_FLOPS_FACTOR = 3;

export function networkCost(n: NetworkShape): NetworkCost {
  let params = 0, flops = 0, acts = 0, largest = 0;
  const flopsAt: Record<string, number> = {};
  const mark = (cut: string) => { flopsAt[cut] = flops; };
  const keep = (elements: number, copies: number) => {
    acts += elements * copies;
    largest = Math.max(largest, elements);
  };
  /** k×k convolution to `co` channels over an output of oh×ow. */
  const conv = (ci: number, co: number, k: number, oh: number, ow: number, bias: boolean) => {
    params += k * k * ci * co + (bias ? co : 0);
    flops += 2 * k * k * ci * co * oh * ow + (bias ? oh * ow * co : 0);
  };
  const down = (x: number, k: number, p: number) => Math.floor((x + 2 * p - k) / 2) + 1;
  if (n.arch === 'vgg16') {
    let h = n.height, w = n.width, ci = n.inputChannels;
    VGG16_STAGES.forEach(([base, convs], s) => {
      const c = scaledChannels(base, n.widthMultiplier, `block${s + 1}_conv1`, 'vgg16');
      for (let j = 0; j < convs; j++) {
        conv(ci, c, 3, h, w, true);
        flops += h * w * c;        // ReLU
        keep(h * w * c, 2);        // convolution (with bias) and ReLU outputs
        ci = c;
        mark(`block${s + 1}_conv${j + 1}`);
      }
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
      flops += 4 * h * w * c;
      keep(h * w * c, 1);
      mark(`block${s + 1}_pool`);
    });
    const fc = scaledChannels(4096, n.widthMultiplier, 'fc1', 'vgg16');
    let inF = h * w * ci;
    for (const units of [fc, fc, n.classes]) {
      params += inF * units + units;
      flops += 2 * inF * units + 2 * units;
      keep(units, 2);
      inF = units;
    }
  } else {
    let h = down(n.height, 7, 3), w = down(n.width, 7, 3);
    const stem = scaledChannels(64, n.widthMultiplier, 'conv1', 'resnet50');
    keep((n.height + 6) * (n.width + 6) * n.inputChannels, 1);   // padded input
    conv(n.inputChannels, stem, 7, h, w, false);
    const bnRelu = (c: number, oh: number, ow: number, relu = true) => {
      params += 4 * c;   // γ, β and the moving statistics
      flops += 2 * oh * ow * c + (relu ? oh * ow * c : 0);
      keep(oh * ow * c, relu ? 3 : 2);   // convolution, batch-norm and ReLU outputs
    };
    bnRelu(stem, h, w);
    mark('conv1');
    h = down(h, 3, 1);
    w = down(w, 3, 1);
    keep(h * w * stem, 1);
    flops += 9 * h * w * stem;
    mark('maxpool');
    let ci = stem;
    RESNET50_LAYOUT.forEach((l, s) => {
      const planes = scaledChannels(l.planes, n.widthMultiplier, `layer${s + 1}_1_conv1`, 'resnet50');
      const out = planes * RESNET50_EXPANSION;
      for (let j = 0; j < l.blocks; j++) {
        const stride = j === 0 ? l.stride : 1;
        conv(ci, planes, 1, h, w, false);
        bnRelu(planes, h, w);
        keep((h + 2) * (w + 2) * planes, 1);   // padding before the 3×3
        const oh = stride === 2 ? down(h, 3, 1) : h, ow = stride === 2 ? down(w, 3, 1) : w;
        conv(planes, planes, 3, oh, ow, false);
        bnRelu(planes, oh, ow);
        conv(planes, out, 1, oh, ow, false);
        bnRelu(out, oh, ow, false);
        if (stride !== 1 || ci !== out) {
          conv(ci, out, 1, oh, ow, false);
          bnRelu(out, oh, ow, false);
        }
        flops += 2 * oh * ow * out;   // addition and ReLU
        keep(oh * ow * out, 2);
        h = oh; w = ow; ci = out;
        mark(`layer${s + 1}_${j + 1}`);
      }
    });
    flops += h * w * ci;
    params += ci * n.classes + n.classes;
    flops += 2 * ci * n.classes + n.classes;
    keep(n.classes, 2);
  }
  return { params, forwardFlops: flops, activationElements: acts, largestActivation: largest, flopsAt };
}

export const WASM_HEAP_BYTES = 2 ** 32;
/** Share of the wasm heap the planner lets a step use: the allocator fragments, the heap never shrinks. */
export const WASM_HEAP_USABLE = 0.85;

export interface TrainingMemory {
  weightsBytes: number;
  optimizerBytes: number;
  /** One gradient per trainable variable, twice while a later micro-batch adds into the first. */
  gradientBytes: number;
  activationBytes: number;
  /** Kernel workspaces and transient backward buffers. */
  scratchBytes: number;
  totalBytes: number;
}

export interface StepShape {
  optimizer: 'adam' | 'sgd';
  momentum?: number;
  /** Parameters that train (all of them when training the whole network). */
  trainableParams?: number;
  batch: number;
  microBatch: number;
}

/**
 * Calibrated on the wasm backend: the heap a training step reaches beyond weights, state and
 * gradients, per activation element kept (backward buffers, kernel transforms, allocator slack).
 */
const ACTIVATION_OVERHEAD = 2;
/** Fixed: the runtime, the backend's own buffers and the input batch. */
const BASE_BYTES = 64 * 2 ** 20;

export function trainingMemory(cost: NetworkCost, s: StepShape): TrainingMemory {
  const trainable = s.trainableParams ?? cost.params;
  const slots = s.optimizer === 'adam' ? 2 : (s.momentum ?? 0.9) > 0 ? 1 : 0;
  const weightsBytes = 4 * cost.params;
  const optimizerBytes = 4 * slots * trainable;
  const gradientBytes = 4 * trainable * (s.microBatch < s.batch ? 2 : 1);
  const activationBytes = 4 * s.microBatch * cost.activationElements;
  const scratchBytes = BASE_BYTES + 4 * s.microBatch * cost.activationElements * (ACTIVATION_OVERHEAD - 1) + 4 * 3 * s.microBatch * cost.largestActivation;
  return {
    weightsBytes, optimizerBytes, gradientBytes, activationBytes, scratchBytes,
    totalBytes: weightsBytes + optimizerBytes + gradientBytes + activationBytes + scratchBytes,
  };
}

/** The largest micro-batch (≤ batch) whose step fits in `limitBytes`, or 0 when not even one image fits. */
export function largestMicroBatch(cost: NetworkCost, s: Omit<StepShape, 'microBatch'>, limitBytes: number): number {
  let lo = 0, hi = s.batch;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (trainingMemory(cost, { ...s, microBatch: mid }).totalBytes <= limitBytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const GiB = 2 ** 30;
export const gib = (b: number) => `${(b / GiB).toFixed(2)} GiB`;

/** One line: where the bytes go. */
export function describeMemory(m: TrainingMemory): string {
  return `weights ${gib(m.weightsBytes)} + optimizer state ${gib(m.optimizerBytes)} + gradients ${gib(m.gradientBytes)} + ` +
    `activations ${gib(m.activationBytes)} + scratch ${gib(m.scratchBytes)} = ${gib(m.totalBytes)}`;
}

/** The micro-batch a training cell runs with on the wasm heap when training.microBatch is unset. */
export function chooseMicroBatch(shape: NetworkShape, training: Pick<TrainingSpec, 'batchSize' | 'optimizer' | 'momentum'>, trainableParams?: number): number {
  const cost = networkCost(shape);
  const step = { optimizer: training.optimizer, momentum: training.momentum, trainableParams, batch: training.batchSize };
  return Math.max(1, largestMicroBatch(cost, step, WASM_HEAP_BYTES * WASM_HEAP_USABLE));
}

/**
 * The most images an importance pass (forward, then the gradient of one logit with respect to
 * every cut's activations; no weight gradient, no optimizer) takes at once on the wasm heap, at
 * most `batch`; at least 1. The CUI of an image does not depend on the images beside it (the
 * network runs in inference mode), so splitting a batch changes no value.
 */
export function largestScoringBatch(shape: NetworkShape, batch: number): number {
  const step = { optimizer: 'sgd' as const, momentum: 0, trainableParams: 0, batch };
  return Math.max(1, largestMicroBatch(networkCost(shape), step, WASM_HEAP_BYTES * WASM_HEAP_USABLE));
}

/**
 * The training spec a cell runs with: on the wasm backend without training.microBatch, the largest
 * micro-batch that fits the heap (logged when it splits the batch); a set micro-batch is kept.
 */
export function fitTraining(backendName: string, spec: { arch: NetworkShape['arch']; height: number; width: number; inputChannels: number; classes: number; widthMultiplier: number },
  training: TrainingSpec, trainableParams?: number, log?: (m: string) => void): TrainingSpec {
  if (backendName !== 'wasm' || training.microBatch !== undefined) return training;
  const micro = chooseMicroBatch(spec, training, trainableParams);
  if (micro >= training.batchSize) return training;
  log?.(`batch ${training.batchSize} does not fit the wasm heap in one pass: micro-batches of ${micro}, gradients accumulated`);
  return { ...training, microBatch: micro };
}
