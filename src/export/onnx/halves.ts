// The two deployable halves of a split model as ONNX graphs:
//   head (device): input → network up to the cut → bottleneck encoder → the payload, quantised
//                  as the evaluate stage models the transmission (accounting.ts);
//   tail (server): the payload → dequantised → bottleneck decoder → rest of the network → logits.
// The input and the payload are channels-last (N×H×W×C), as the project's models take and emit
// them; inside each graph the convolutions run channels-first.
import type * as tf from '@tensorflow/tfjs';
import type { Precision } from '../../ml/accounting.js';
import { appendModel } from './convert.js';
import { DataType, OnnxGraph, type ElemType } from './graph.js';
import type { Value } from './layers.js';

export const OPSET = 13;
export const INPUT_NAME = 'input';
export const PAYLOAD_NAME = 'payload';
export const SCALE_NAME = 'scale';
export const LOGITS_NAME = 'logits';
const BATCH = 'batch';

export interface GraphMeta {
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

const toNchw = (g: OnnxGraph, x: string, name: string) => g.node('Transpose', [x], { perm: { ints: [0, 3, 1, 2] } }, name);
const toNhwc = (g: OnnxGraph, x: string, name: string) => g.node('Transpose', [x], { perm: { ints: [0, 2, 3, 1] } }, name);

/** Binds a channels-last graph input of shape `shape` (no batch) as a value in the graph's layout. */
function bindInput(g: OnnxGraph, name: string, shape: number[]): Value {
  g.input(name, DataType.FLOAT, [BATCH, ...shape]);
  return { name: shape.length === 3 ? toNchw(g, name, `${name}_nchw`) : name, shape };
}

/** A value in the graph's layout back to channels-last. */
function channelsLast(g: OnnxGraph, v: Value, name: string): string {
  return v.shape.length === 3 ? toNhwc(g, v.name, name) : v.name;
}

function encode(g: OnnxGraph, name: string, meta: GraphMeta): Uint8Array {
  return g.encode({ opset: OPSET, producerName: 'split-et-impera', producerVersion: meta.producerVersion, docString: meta.docString, metadata: meta.metadata });
}

/** Payload element type and the graph outputs of a precision. */
export function payloadElemType(p: Precision): ElemType {
  return p === 'fp32' ? DataType.FLOAT : p === 'fp16' ? DataType.FLOAT16 : DataType.INT8;
}

/**
 * Quantises the channels-last float payload `x` for transmission and declares the head's outputs:
 * fp16 — a float16 cast (round to nearest even); int8 — symmetric per frame, scale = max|x| / 127
 * (1 for an all-zero frame), q = floor(x / scale + 0.5) clipped to ±127 (the evaluate stage rounds
 * half up, as Math.round does), sent with one float32 scale per frame.
 */
function quantiseOutputs(g: OnnxGraph, x: string, codeShape: number[], precision: Precision): void {
  const dims = [BATCH, ...codeShape];
  if (precision === 'fp32') { g.output(x, PAYLOAD_NAME, DataType.FLOAT, dims); return; }
  if (precision === 'fp16') { g.output(g.node('Cast', [x], { to: { int: DataType.FLOAT16 } }, 'payload_fp16'), PAYLOAD_NAME, DataType.FLOAT16, dims); return; }
  const axes = codeShape.map((_, i) => i + 1);
  const max = g.node('ReduceMax', [g.node('Abs', [x], {}, 'payload_abs')], { axes: { ints: axes }, keepdims: { int: 1 } }, 'payload_absmax');
  const scale = g.node('Where', [
    g.node('Greater', [max, g.scalar('zero', 0)], {}, 'payload_nonzero'),
    g.node('Div', [max, g.scalar('int8_max', 127)], {}, 'payload_scale_raw'),
    g.scalar('one', 1),
  ], {}, 'payload_scale');
  const rounded = g.node('Floor', [g.node('Add', [g.node('Div', [x, scale], {}, 'payload_scaled'), g.scalar('half', 0.5)], {}, 'payload_shifted')], {}, 'payload_rounded');
  const clipped = g.node('Clip', [rounded, g.scalar('q_min', -127), g.scalar('q_max', 127)], {}, 'payload_clipped');
  g.output(g.node('Cast', [clipped], { to: { int: DataType.INT8 } }, 'payload_int8'), PAYLOAD_NAME, DataType.INT8, dims);
  g.output(g.node('Reshape', [scale, g.int64s('scale_shape', [-1])], {}, 'payload_scale_flat'), SCALE_NAME, DataType.FLOAT, [BATCH]);
}

/** The dequantised channels-last float payload from the tail's inputs. */
function dequantiseInputs(g: OnnxGraph, codeShape: number[], precision: Precision): string {
  const dims = [BATCH, ...codeShape];
  g.input(PAYLOAD_NAME, payloadElemType(precision), dims);
  if (precision === 'fp32') return PAYLOAD_NAME;
  const asFloat = g.node('Cast', [PAYLOAD_NAME], { to: { int: DataType.FLOAT } }, 'payload_float');
  if (precision === 'fp16') return asFloat;
  g.input(SCALE_NAME, DataType.FLOAT, [BATCH]);
  const scale = g.node('Reshape', [SCALE_NAME, g.int64s('scale_shape', [-1, ...codeShape.map(() => 1)])], {}, 'scale_per_frame');
  return g.node('Mul', [asFloat, scale], {}, 'payload_dequantised');
}

/** The device half: input (N×H×W×C float, normalised) → payload (and scale for int8). */
export function headOnnx(device: tf.LayersModel, precision: Precision, meta: GraphMeta): Uint8Array {
  const g = new OnnxGraph('head');
  const inShape = device.inputs[0]!.shape.slice(1) as number[];
  const code = appendModel(g, device, bindInput(g, INPUT_NAME, inShape));
  quantiseOutputs(g, channelsLast(g, code, 'payload_nhwc'), code.shape, precision);
  return encode(g, 'head', meta);
}

/** The server half: payload (and scale for int8) → logits (N×classes). */
export function tailOnnx(server: tf.LayersModel, precision: Precision, meta: GraphMeta): Uint8Array {
  const g = new OnnxGraph('tail');
  const codeShape = server.inputs[0]!.shape.slice(1) as number[];
  const x = dequantiseInputs(g, codeShape, precision);
  const input: Value = { name: codeShape.length === 3 ? toNchw(g, x, 'payload_nchw') : x, shape: codeShape };
  const logits = appendModel(g, server, input);
  g.output(channelsLast(g, logits, 'logits_out'), LOGITS_NAME, DataType.FLOAT, [BATCH, ...logits.shape]);
  return encode(g, 'tail', meta);
}

/** A whole network in one graph: input → logits (for all-on-device and all-on-server designs). */
export function wholeOnnx(model: tf.LayersModel, meta: GraphMeta): Uint8Array {
  const g = new OnnxGraph('model');
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const logits = appendModel(g, model, bindInput(g, INPUT_NAME, inShape));
  g.output(channelsLast(g, logits, 'logits_out'), LOGITS_NAME, DataType.FLOAT, [BATCH, ...logits.shape]);
  return encode(g, 'model', meta);
}
