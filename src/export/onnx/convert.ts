// Appends a TensorFlow.js layers model (functional, one input, one output) to an ONNX graph,
// layer by layer in the model's topological order, each through its class's converter
// (layers.ts). Works on any model built from the supported classes, so a change to the network
// or bottleneck layout needs at most one new converter; a class without one is an error naming
// the layer.
import type * as tf from '@tensorflow/tfjs';
import { nodeIn } from '../../ml/accounting.js';
import type { OnnxGraph } from './graph.js';
import { LAYER_CONVERTERS, UnsupportedLayerError, type Value } from './layers.js';

/** The classes the exporter handles. */
export function supportedLayerClasses(): string[] {
  return Object.keys(LAYER_CONVERTERS).sort();
}

/** The first layer of `m` the exporter cannot handle, or undefined (checked before anything is written). */
export function unsupportedLayers(m: tf.LayersModel): { layer: string; className: string }[] {
  return m.layers
    .filter((l) => l.getClassName() !== 'InputLayer' && !(l.getClassName() in LAYER_CONVERTERS))
    .map((l) => ({ layer: l.name, className: l.getClassName() }));
}

/**
 * Appends `m` to `g`, its input bound to `input` (a value already in the graph, rank-4 values in
 * N×C×H×W); returns the model's output value (same layout convention).
 */
export function appendModel(g: OnnxGraph, m: tf.LayersModel, input: Value): Value {
  if (m.inputs.length !== 1 || m.outputs.length !== 1) throw new Error(`ONNX export: model ${m.name} must have one input and one output`);
  const expected = m.inputs[0]!.shape.slice(1).join('×');
  if (expected !== input.shape.join('×')) throw new Error(`ONNX export: model ${m.name} takes ${expected}, given ${input.shape.join('×')}`);
  const values = new Map<number, Value>([[m.inputs[0]!.id, input]]);
  for (const layer of m.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    const convert = LAYER_CONVERTERS[className];
    if (!convert) {
      throw new UnsupportedLayerError(layer.name, className, `no converter for this layer class; supported: ${supportedLayerClasses().join(', ')}`);
    }
    const node = nodeIn(m, layer);
    const inputs = node.inputTensors.map((t) => {
      const v = values.get(t.id);
      if (!v) throw new Error(`ONNX export: layer ${layer.name} reads a tensor no earlier layer produced`);
      return v;
    });
    if (node.outputTensors.length !== 1) throw new UnsupportedLayerError(layer.name, className, 'more than one output');
    const out = node.outputTensors[0]!;
    const weights = new Map(layer.weights.map((w, i) => [w.originalName.split('/').pop()!.replace(/_\d+$/, ''), i]));
    const values0 = layer.getWeights();
    const converted = convert({
      g,
      layer,
      cfg: layer.getConfig() as Record<string, unknown>,
      inputs,
      outShape: out.shape.slice(1) as number[],
      weight: (w) => { const i = weights.get(w); return i === undefined ? undefined : values0[i]; },
    });
    const value = typeof converted === 'string' ? { name: converted } : converted;
    values.set(out.id, { ...value, shape: out.shape.slice(1) as number[] });
  }
  const result = values.get(m.outputs[0]!.id);
  if (!result) throw new Error(`ONNX export: model ${m.name}'s output was not produced`);
  return result;
}
