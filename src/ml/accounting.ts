// What a split costs, read off the model graphs (per image, batch 1):
//  - payload: elements and bytes at the cut, raw and through the bottleneck, in fp32, fp16 and
//    int8 (one fp32 scale per tensor);
//  - FLOPs and parameters of the device side (head + encoder) and the server side (decoder + tail);
//  - peak activation memory of the device side, for a runtime that executes layer by layer and
//    frees each tensor after its last consumer (the input image counts; fp32).
// FLOP convention: 2 per multiply-accumulate in convolutions and dense layers, plus one per output
// element for a bias and one for a ReLU; batch norm 2 per element; max pooling k² per output;
// global average pooling one per input element; addition one per output element.
// Also here: quantise→dequantise of the transmitted tensor, to measure accuracy after transmission.
import * as tf from '@tensorflow/tfjs';
import type { SplitModel } from './split.js';

export type Precision = 'fp32' | 'fp16' | 'int8';
export const PRECISIONS: Precision[] = ['fp32', 'fp16', 'int8'];

export interface LayerCost {
  name: string;
  kind: string;
  outputShape: number[];
  flops: number;
  params: number;
}

export interface ModelCost {
  flops: number;
  params: number;
  peakActivationBytes: number;
  layers: LayerCost[];
}

export interface PayloadBytes {
  fp32: number;
  fp16: number;
  int8: number;
}

export interface SplitAccounting {
  cut: string;
  cutShape: number[];
  codeShape: number[];
  payload: {
    rawElements: number;
    bottleneckElements: number;
    bytes: { raw: PayloadBytes; bottleneck: PayloadBytes };
  };
  device: { flops: number; params: number; peakActivationBytes: number };
  server: { flops: number; params: number; peakActivationBytes: number };
  /** The unsplit network (local or remote computing). */
  network: { flops: number; params: number; peakActivationBytes: number };
}

export function payloadBytes(elements: number): PayloadBytes {
  return { fp32: 4 * elements, fp16: 2 * elements, int8: elements + 4 };
}

const prod = (s: readonly (number | null)[]) => s.reduce<number>((a, b) => a * (b ?? 1), 1);

export interface SymbolicNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}

/** The node of `layer` that belongs to model `m` (a layer shared by several models has one per model). */
export function nodeIn(m: tf.LayersModel, layer: tf.layers.Layer): SymbolicNode {
  const keys = (m as unknown as { containerNodes: Set<string> }).containerNodes;
  const nodes = (layer as unknown as { inboundNodes: SymbolicNode[] }).inboundNodes;
  for (let i = 0; i < nodes.length; i++) if (keys.has(`${layer.name}_ib-${i}`)) return nodes[i];
  throw new Error(`accounting: layer ${layer.name} has no node in model ${m.name}`);
}

function layerFlops(layer: tf.layers.Layer, inShapes: number[][], out: number[]): number {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const outEl = prod(out);
  const act = cfg.activation && cfg.activation !== 'linear' ? outEl : 0;
  const bias = cfg.useBias === false ? 0 : outEl;
  const inp = inShapes[0] ?? [];
  switch (layer.getClassName()) {
    case 'Conv2D': {
      const [kh, kw] = cfg.kernelSize as number[];
      return 2 * outEl * kh * kw * inp[inp.length - 1] + bias + act;
    }
    case 'Conv2DTranspose': {
      const [kh, kw] = cfg.kernelSize as number[];
      return 2 * prod(inp) * kh * kw * out[out.length - 1] + bias + act;
    }
    case 'Dense':
      return 2 * outEl * inp[inp.length - 1] + bias + act;
    case 'BatchNormalization':
      return 2 * outEl;
    case 'Activation':
      return outEl;
    case 'MaxPooling2D': {
      const [ph, pw] = cfg.poolSize as number[];
      return outEl * ph * pw;
    }
    case 'GlobalAveragePooling2D':
      return prod(inp);
    case 'Add':
      return outEl * (inShapes.length - 1);
    // Dropout is the identity at inference, when FLOPs are counted.
    case 'InputLayer': case 'ZeroPadding2D': case 'Cropping2D': case 'Flatten': case 'Dropout':
      return 0;
    default:
      throw new Error(`accounting: no FLOP rule for layer ${layer.name} (${layer.getClassName()})`);
  }
}

/** FLOPs, parameters and peak activation memory of a model, per image. */
export function modelCost(m: tf.LayersModel): ModelCost {
  const shapeOf = (t: tf.SymbolicTensor) => t.shape.slice(1) as number[];
  const steps = m.layers.map((layer) => {
    const node = nodeIn(m, layer);
    return { layer, node };
  });
  // Liveness: each tensor lives from its producing step to its last consuming step (model outputs to the end).
  const lastUse = new Map<number, number>();
  const size = new Map<number, number>();
  steps.forEach(({ node }, i) => {
    for (const t of node.inputTensors) lastUse.set(t.id, i);
    for (const t of node.outputTensors) {
      size.set(t.id, prod(shapeOf(t)) * 4);
      if (!lastUse.has(t.id)) lastUse.set(t.id, i);
    }
  });
  for (const t of m.outputs) lastUse.set(t.id, steps.length);
  let live = new Map<number, number>();
  let peak = 0;
  const layers: LayerCost[] = [];
  steps.forEach(({ layer, node }, i) => {
    for (const t of node.outputTensors) live.set(t.id, size.get(t.id)!);
    let now = 0;
    for (const b of live.values()) now += b;
    peak = Math.max(peak, now);
    live = new Map([...live].filter(([id]) => (lastUse.get(id) ?? -1) > i));
    const out = shapeOf(node.outputTensors[0]);
    layers.push({
      name: layer.name,
      kind: layer.getClassName(),
      outputShape: out,
      flops: layerFlops(layer, node.inputTensors.map(shapeOf), out),
      params: layer.countParams(),
    });
  });
  return {
    flops: layers.reduce((a, l) => a + l.flops, 0),
    params: layers.reduce((a, l) => a + l.params, 0),
    peakActivationBytes: peak,
    layers,
  };
}

/** Payload, compute and memory of a split model (see the header for the conventions). */
export function accountSplit(split: SplitModel): SplitAccounting {
  const device = modelCost(split.device);
  const server = modelCost(split.server);
  const network = modelCost(split.network.model);
  const rawElements = prod(split.cutShape);
  const bottleneckElements = prod(split.codeShape);
  const pick = (c: ModelCost) => ({ flops: c.flops, params: c.params, peakActivationBytes: c.peakActivationBytes });
  return {
    cut: split.cut,
    cutShape: [...split.cutShape],
    codeShape: [...split.codeShape],
    payload: {
      rawElements,
      bottleneckElements,
      bytes: { raw: payloadBytes(rawElements), bottleneck: payloadBytes(bottleneckElements) },
    },
    device: pick(device),
    server: pick(server),
    network: pick(network),
  };
}

// ---- quantise → dequantise ------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a number, round to nearest even (overflow → ±Inf). */
export function toFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

export function fromFloat16Bits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Round every value through float16 and back. */
export function roundFloat16(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = fromFloat16Bits(toFloat16Bits(values[i]));
  return out;
}

/**
 * Symmetric int8 per image: scale = max|x| / 127 (one fp32 per image), q = round(x / scale) in
 * [−127, 127], back to q · scale. An all-zero image stays zero.
 */
export function quantizeInt8(values: Float32Array): { q: Int8Array; scale: number } {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(values[i] / scale)));
  return { q, scale: Math.fround(scale) };
}

export function dequantizeInt8(q: Int8Array, scale: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale;
  return out;
}

/** What the receiver gets after sending `t` (batch-first) at `precision`: each image quantised on its own. */
export function quantizeDequantize(t: tf.Tensor, precision: Precision): tf.Tensor {
  if (precision === 'fp32') return tf.clone(t);
  const data = t.dataSync() as Float32Array;
  const per = t.size / t.shape[0];
  const out = new Float32Array(data.length);
  for (let n = 0; n < t.shape[0]; n++) {
    const img = data.subarray(n * per, (n + 1) * per);
    if (precision === 'fp16') out.set(roundFloat16(img), n * per);
    else {
      const { q, scale } = quantizeInt8(img);
      out.set(dequantizeInt8(q, scale), n * per);
    }
  }
  return tf.tensor(out, t.shape);
}

/**
 * Logits of a split model whose transmitted tensor goes through `precision`: the bottleneck code
 * when `through` is 'bottleneck' (device = head + encoder), the raw cut activation for 'raw'
 * (head → tail, no bottleneck). Inference mode.
 */
export function splitLogitsFn(split: SplitModel, precision: Precision, through: 'bottleneck' | 'raw' = 'bottleneck'): (x: tf.Tensor) => tf.Tensor {
  return (x) => tf.tidy(() => {
    const sent = through === 'bottleneck' ? (split.device.apply(x, { training: false }) as tf.Tensor) : (split.head.apply(x, { training: false }) as tf.Tensor);
    const received = quantizeDequantize(sent, precision);
    return (through === 'bottleneck' ? split.server.apply(received, { training: false }) : split.tail.apply(received, { training: false })) as tf.Tensor;
  });
}
