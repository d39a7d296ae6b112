// ONNX for each tfjs-layers class, one small function each. Values of rank 4 (N×H×W×C in
// TensorFlow.js) live in the ONNX graph as N×C×H×W, the layout ONNX's convolution and pooling
// operators take; the converter transposes at the graph's edges and before Flatten, so the
// flattened order is TensorFlow.js' (H, W, C). Padding is always explicit: TensorFlow's 'same'
// puts the odd pixel at the end, which ONNX's auto_pad would not reproduce for every operator.
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../util/errors.js';
import type { Attr, OnnxGraph } from './graph.js';
import { paddedBorderOf } from '../../ml/models/max-pool.js';

/** A value of the graph: its ONNX name and its TensorFlow.js shape without the batch dimension. */
export interface Value {
  name: string;
  shape: number[];
  /** Set when the value is a zero padding of another (see the max pooling converter). */
  zeroPadOf?: { source: Value; pads: [number, number, number, number] };
}

export interface LayerContext {
  g: OnnxGraph;
  layer: tf.layers.Layer;
  cfg: Record<string, unknown>;
  inputs: Value[];
  /** The layer's output shape (TensorFlow.js convention, no batch). */
  outShape: number[];
  /** A weight of the layer by its short name (kernel, bias, gamma, …), or undefined. */
  weight(name: string): tf.Tensor | undefined;
}

/** Returns the ONNX name of the layer's output (or the value, to attach more than its name). */
export type LayerConverter = (c: LayerContext) => string | Omit<Value, 'shape'>;

export class UnsupportedLayerError extends UsageError {
  constructor(readonly layerName: string, readonly className: string, detail?: string) {
    super(`layer ${layerName} (${className}) cannot be exported to ONNX${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedLayerError';
  }
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

function checkChannelsLast(c: LayerContext): void {
  const f = c.cfg.dataFormat ?? c.cfg.data_format;
  if (f !== undefined && f !== 'channelsLast') throw unsupported(c, `data format ${String(f)} (only channelsLast)`);
}

function unsupported(c: LayerContext, detail: string): UnsupportedLayerError {
  return new UnsupportedLayerError(c.layer.name, c.layer.getClassName(), detail);
}

function rank4(c: LayerContext, v: Value = c.inputs[0]!): void {
  if (v.shape.length !== 3) throw unsupported(c, `input of shape [${v.shape.join(', ')}] (expected H×W×C)`);
}

/** Begin and end padding of TensorFlow's 'same' along one axis (the odd pixel goes to the end). */
export function samePads(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** ONNX `pads` ([h_begin, w_begin, h_end, w_end]) for a window of `kernel` on an H×W input. */
function windowPads(c: LayerContext, padding: unknown, kernel: [number, number], strides: [number, number], dilation: [number, number] = [1, 1]): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw unsupported(c, `padding '${String(padding)}'`);
  const [H, W] = c.inputs[0]!.shape;
  const [t, b] = samePads(H!, kernel[0], strides[0], dilation[0]);
  const [l, r] = samePads(W!, kernel[1], strides[1], dilation[1]);
  return [t, l, b, r];
}

/** A weight as an ONNX initializer, its axes permuted first. */
function weightInit(c: LayerContext, name: string, perm?: number[]): string {
  const w = c.weight(name);
  if (!w) throw unsupported(c, `no ${name} weight`);
  const t = perm ? tf.transpose(w, perm) : w;
  try {
    return c.g.floats(`${c.layer.name}/${name}`, t.dataSync() as Float32Array, t.shape);
  } finally {
    if (t !== w) t.dispose();
  }
}

/** The activation function named in a layer's config, applied to `x`. */
export function applyActivation(c: LayerContext, x: string, activation: unknown, rank: number): string {
  const name = activation === undefined || activation === null ? 'linear' : String(activation);
  const out = c.layer.name;
  switch (name) {
    case 'linear': return x;
    case 'relu': return c.g.node('Relu', [x], {}, out);
    case 'relu6': return c.g.node('Clip', [x, c.g.scalar(`${out}/min`, 0), c.g.scalar(`${out}/max`, 6)], {}, out);
    case 'sigmoid': return c.g.node('Sigmoid', [x], {}, out);
    case 'tanh': return c.g.node('Tanh', [x], {}, out);
    case 'elu': return c.g.node('Elu', [x], { alpha: { float: 1 } }, out);
    case 'selu': return c.g.node('Selu', [x], {}, out);
    case 'softplus': return c.g.node('Softplus', [x], {}, out);
    case 'softsign': return c.g.node('Softsign', [x], {}, out);
    // TensorFlow.js' softmax runs over the last axis: the channels, axis 1 of an N×C×H×W value.
    case 'softmax': return c.g.node('Softmax', [x], { axis: { int: rank === 4 ? 1 : -1 } }, out);
    default: throw unsupported(c, `activation '${name}'`);
  }
}

/** The ONNX axis of a TensorFlow.js axis (batch included, negative from the end) of a rank-`rank` value. */
export function onnxAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (rank !== 4) return a;
  return [0, 2, 3, 1][a]!;
}

const conv2d: LayerConverter = (c) => {
  checkChannelsLast(c);
  rank4(c);
  const kernel = pair(c.cfg.kernelSize);
  const strides = pair(c.cfg.strides ?? 1);
  const dilations = pair(c.cfg.dilationRate ?? 1);
  const pads = windowPads(c, c.cfg.padding, kernel, strides, dilations);
  // tfjs kernel [kh, kw, in, out] → ONNX [out, in, kh, kw].
  const inputs = [c.inputs[0]!.name, weightInit(c, 'kernel', [3, 2, 0, 1])];
  if (c.cfg.useBias !== false) inputs.push(weightInit(c, 'bias'));
  const y = c.g.node('Conv', inputs, {
    kernel_shape: { ints: kernel }, strides: { ints: strides }, dilations: { ints: dilations }, pads: { ints: pads }, group: { int: 1 },
  }, `${c.layer.name}${c.cfg.activation && c.cfg.activation !== 'linear' ? '_pre' : ''}`);
  return applyActivation(c, y, c.cfg.activation, 4);
};

const conv2dTranspose: LayerConverter = (c) => {
  checkChannelsLast(c);
  rank4(c);
  const kernel = pair(c.cfg.kernelSize);
  const strides = pair(c.cfg.strides ?? 1);
  const dil = pair(c.cfg.dilationRate ?? 1);
  if (dil[0] !== 1 || dil[1] !== 1) throw unsupported(c, 'dilated transposed convolution');
  const [H, W] = c.inputs[0]!.shape as [number, number];
  const [outH, outW] = c.outShape as [number, number];
  // The transpose of a convolution with these pads: ONNX size (in−1)·s + k − pads + output_padding.
  const pads = windowPads({ ...c, inputs: [{ name: '', shape: [outH, outW] }] }, c.cfg.padding, kernel, strides);
  const outputPadding = [
    outH - ((H - 1) * strides[0] + kernel[0] - pads[0]! - pads[2]!),
    outW - ((W - 1) * strides[1] + kernel[1] - pads[1]! - pads[3]!),
  ];
  if (outputPadding.some((p) => p < 0 || p >= Math.max(strides[0], strides[1]))) {
    throw unsupported(c, `output ${outH}×${outW} from ${H}×${W} has no ONNX ConvTranspose equivalent`);
  }
  // tfjs kernel [kh, kw, out, in] → ONNX [in, out, kh, kw].
  const inputs = [c.inputs[0]!.name, weightInit(c, 'kernel', [3, 2, 0, 1])];
  if (c.cfg.useBias !== false) inputs.push(weightInit(c, 'bias'));
  const y = c.g.node('ConvTranspose', inputs, {
    kernel_shape: { ints: kernel }, strides: { ints: strides }, pads: { ints: pads }, output_padding: { ints: outputPadding },
  }, `${c.layer.name}${c.cfg.activation && c.cfg.activation !== 'linear' ? '_pre' : ''}`);
  return applyActivation(c, y, c.cfg.activation, 4);
};

const dense: LayerConverter = (c) => {
  if (c.inputs[0]!.shape.length !== 1) throw unsupported(c, `input of shape [${c.inputs[0]!.shape.join(', ')}] (Dense on a flat vector only)`);
  const x = c.inputs[0]!.name;
  const w = weightInit(c, 'kernel'); // [in, out]: Gemm's B without transposition
  const pre = `${c.layer.name}${c.cfg.activation && c.cfg.activation !== 'linear' ? '_pre' : ''}`;
  const y = c.cfg.useBias !== false ? c.g.node('Gemm', [x, w, weightInit(c, 'bias')], {}, pre) : c.g.node('MatMul', [x, w], {}, pre);
  return applyActivation(c, y, c.cfg.activation, 2);
};

const batchNorm: LayerConverter = (c) => {
  const rank = c.inputs[0]!.shape.length + 1;
  const axis = Number(Array.isArray(c.cfg.axis) ? (c.cfg.axis as number[])[0] : c.cfg.axis ?? -1);
  if (onnxAxis(axis, rank) !== 1) throw unsupported(c, `normalisation over axis ${axis} (only the channel axis)`);
  const C = c.inputs[0]!.shape[c.inputs[0]!.shape.length - 1]!;
  const orConst = (name: string, fill: number) =>
    c.weight(name) ? weightInit(c, name) : c.g.floats(`${c.layer.name}/${name}`, new Float32Array(C).fill(fill), [C]);
  return c.g.node('BatchNormalization', [
    c.inputs[0]!.name, orConst('gamma', 1), orConst('beta', 0), weightInit(c, 'moving_mean'), weightInit(c, 'moving_variance'),
  ], { epsilon: { float: Number(c.cfg.epsilon ?? 1e-3) } }, c.layer.name);
};

const activation: LayerConverter = (c) => {
  const y = applyActivation(c, c.inputs[0]!.name, c.cfg.activation, c.inputs[0]!.shape.length + 1);
  return y === c.inputs[0]!.name ? c.g.node('Identity', [y], {}, c.layer.name) : y;
};

const relu: LayerConverter = (c) => {
  const x = c.inputs[0]!.name;
  const max = c.cfg.maxValue;
  if (max === null || max === undefined) return c.g.node('Relu', [x], {}, c.layer.name);
  return c.g.node('Clip', [x, c.g.scalar(`${c.layer.name}/min`, 0), c.g.scalar(`${c.layer.name}/max`, Number(max))], {}, c.layer.name);
};

const leakyRelu: LayerConverter = (c) =>
  c.g.node('LeakyRelu', [c.inputs[0]!.name], { alpha: { float: Number(c.cfg.alpha ?? 0.3) } }, c.layer.name);

function pooling(op: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (c) => {
    checkChannelsLast(c);
    rank4(c);
    const kernel = pair(c.cfg.poolSize ?? 2);
    const strides = pair(c.cfg.strides ?? c.cfg.poolSize ?? 2);
    const pads = windowPads(c, c.cfg.padding, kernel, strides);
    // MaxPool never selects padding; AveragePool divides by the pixels inside the input, as
    // TensorFlow does for 'same' (count_include_pad = 0).
    const attrs: Record<string, Attr> = { kernel_shape: { ints: kernel }, strides: { ints: strides }, pads: { ints: pads } };
    if (op === 'AveragePool') attrs.count_include_pad = { int: 0 };
    const padded = c.inputs[0]!.zeroPadOf;
    // A pool that never selects its input's zero border (the ResNet stem's, PyTorch semantics) is
    // ONNX's MaxPool of the unpadded value with that border as `pads`.
    const border = op === 'MaxPool' ? paddedBorderOf(c.layer) : 0;
    if (border > 0) {
      if (!padded || padded.pads.some((p) => p !== border) || !canFoldPads(padded.pads, pads, kernel)) {
        throw unsupported(c, `a max pool that ignores a padded border of ${border} without a zero padding of that border just before it`);
      }
      return c.g.node('MaxPool', [padded.source.name], { ...attrs, pads: { ints: pads.map((p, i) => p + padded.pads[i]!) } }, c.layer.name);
    }
    // (ONNX Runtime accepts pads smaller than the window only: wider zero borders stay a Pad.)
    if (op === 'MaxPool' && padded && canFoldPads(padded.pads, pads, kernel)) return maxPoolOfZeroPadded(c, padded, kernel, strides, pads, attrs);
    return c.g.node(op, [c.inputs[0]!.name], attrs, c.layer.name);
  };
}

function canFoldPads(zero: number[], own: number[], kernel: [number, number]): boolean {
  return [0, 1, 2, 3].every((i) => zero[i]! + own[i]! < kernel[i % 2]!);
}

/**
 * Max pooling of a zero-padded value, written as a max pooling of the unpadded value (whose
 * padding is never selected) raised to 0 in the windows that overlap the zero border. The plain
 * Pad → MaxPool pair is exact ONNX too, but ONNX Runtime's graph optimiser folds a zero Pad into
 * the pool's `pads`, which changes the result wherever a window's values are all negative.
 */
function maxPoolOfZeroPadded(
  c: LayerContext, padded: NonNullable<Value['zeroPadOf']>, kernel: [number, number], strides: [number, number],
  ownPads: number[], attrs: Record<string, Attr>,
): string {
  const [t, l, b, r] = padded.pads;
  const [H, W] = padded.source.shape as [number, number];
  const [outH, outW] = c.outShape as [number, number];
  const pads = [ownPads[0]! + t, ownPads[1]! + l, ownPads[2]! + b, ownPads[3]! + r];
  // Per axis, in the coordinates of the input padded by both: the zero-padded span and the data.
  const touches = (i: number, k: number, s: number, own: number, begin: number, size: number, end: number) => {
    const lo = Math.max(i * s, own);
    const hi = Math.min(i * s + k, own + begin + size + end);
    return { any: hi > lo, outside: lo < own + begin || hi > own + begin + size };
  };
  const mask = new Float32Array(outH * outW);
  for (let i = 0; i < outH; i++) {
    const row = touches(i, kernel[0], strides[0], ownPads[0]!, t, H, b);
    for (let j = 0; j < outW; j++) {
      const col = touches(j, kernel[1], strides[1], ownPads[1]!, l, W, r);
      mask[i * outW + j] = row.any && col.any && (row.outside || col.outside) ? 0 : -Infinity;
    }
  }
  const pooled = c.g.node('MaxPool', [padded.source.name], { ...attrs, pads: { ints: pads } }, `${c.layer.name}_unpadded`);
  return c.g.node('Max', [pooled, c.g.floats(`${c.layer.name}/border`, mask, [1, 1, outH, outW])], {}, c.layer.name);
}

function globalPooling(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
  return (c) => {
    checkChannelsLast(c);
    rank4(c);
    const pooled = c.g.node(op, [c.inputs[0]!.name], {}, `${c.layer.name}${c.cfg.keepDims ? '' : '_4d'}`);
    // N×C×1×1 → N×C, as TensorFlow.js returns it (unless keepDims).
    return c.cfg.keepDims ? pooled : c.g.node('Flatten', [pooled], { axis: { int: 1 } }, c.layer.name);
  };
}

const zeroPadding: LayerConverter = (c) => {
  checkChannelsLast(c);
  rank4(c);
  const p = c.cfg.padding as unknown;
  const [[t, b], [l, r]] = Array.isArray(p) && Array.isArray(p[0]) ? (p as [[number, number], [number, number]])
    : [pair(Array.isArray(p) ? p[0] : p), pair(Array.isArray(p) ? p[1] : p)].map((x) => [x[0], x[0]]) as [[number, number], [number, number]];
  const pads = c.g.int64s(`${c.layer.name}/pads`, [0, 0, t, l, 0, 0, b, r]);
  const name = c.g.node('Pad', [c.inputs[0]!.name, pads], { mode: { string: 'constant' } }, c.layer.name);
  return { name, zeroPadOf: { source: c.inputs[0]!, pads: [t, l, b, r] } };
};

const cropping: LayerConverter = (c) => {
  checkChannelsLast(c);
  rank4(c);
  const p = c.cfg.cropping as unknown;
  const [[t, b], [l, r]] = Array.isArray(p) && Array.isArray(p[0]) ? (p as [[number, number], [number, number]])
    : [pair(Array.isArray(p) ? p[0] : p), pair(Array.isArray(p) ? p[1] : p)].map((x) => [x[0], x[0]]) as [[number, number], [number, number]];
  const [H, W] = c.inputs[0]!.shape as [number, number];
  const n = c.layer.name;
  return c.g.node('Slice', [
    c.inputs[0]!.name, c.g.int64s(`${n}/starts`, [t, l]), c.g.int64s(`${n}/ends`, [H - b, W - r]), c.g.int64s(`${n}/axes`, [2, 3]),
  ], {}, n);
};

const flatten: LayerConverter = (c) => {
  const x = c.inputs[0]!;
  // TensorFlow.js flattens H, W, C in that order: back to channels-last first.
  const src = x.shape.length === 3 ? c.g.node('Transpose', [x.name], { perm: { ints: [0, 2, 3, 1] } }, `${c.layer.name}_nhwc`) : x.name;
  return c.g.node('Flatten', [src], { axis: { int: 1 } }, c.layer.name);
};

const identity: LayerConverter = (c) => c.g.node('Identity', [c.inputs[0]!.name], {}, c.layer.name);

function merge(op: 'Sum' | 'Mul' | 'Max' | 'Min'): LayerConverter {
  return (c) => {
    const shapes = c.inputs.map((v) => v.shape.join('×'));
    if (new Set(shapes).size !== 1) throw unsupported(c, `inputs of different shapes (${shapes.join(', ')}): broadcasting merges are not exported`);
    if (op === 'Mul') return c.inputs.slice(1).reduce((acc, v, i) => c.g.node('Mul', [acc, v.name], {}, i === c.inputs.length - 2 ? c.layer.name : `${c.layer.name}_${i}`), c.inputs[0]!.name);
    return c.g.node(op, c.inputs.map((v) => v.name), {}, c.layer.name);
  };
}

const concatenate: LayerConverter = (c) => {
  const rank = c.inputs[0]!.shape.length + 1;
  return c.g.node('Concat', c.inputs.map((v) => v.name), { axis: { int: onnxAxis(Number(c.cfg.axis ?? -1), rank) } }, c.layer.name);
};

/**
 * Converters by tfjs-layers class name. The project's own layer classes (the fused-training
 * BatchNormalization, the input Conv2D) keep the stock class names, config and weights, so they
 * convert as the stock layers. Dropout and noise layers are the identity at inference.
 */
export const LAYER_CONVERTERS: Record<string, LayerConverter> = {
  Conv2D: conv2d,
  Conv2DTranspose: conv2dTranspose,
  Dense: dense,
  BatchNormalization: batchNorm,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalPooling('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPooling('GlobalMaxPool'),
  ZeroPadding2D: zeroPadding,
  Cropping2D: cropping,
  Flatten: flatten,
  Add: merge('Sum'),
  Multiply: merge('Mul'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Concatenate: concatenate,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};
