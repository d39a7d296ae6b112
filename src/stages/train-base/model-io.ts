// Weights of the networks the stages hand to each other, stored in an artifact folder as
// weights.json (the layout: layer, weight index, shape, offset) and weights.bin (float32, little
// endian). Exact: a reloaded network computes bit-identical outputs.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { UpstreamOutput } from '../types.js';
import type { Network } from '../../ml/models/index.js';
import type { PreparedDataset } from '../../data/prepared-types.js';
import type { ModelSpec } from '../../ml/spec.js';

interface WeightEntry { layer: string; index: number; shape: number[]; offset: number; length: number }
interface WeightLayout { format: 'sei-weights/1'; entries: WeightEntry[] }

export const WEIGHTS_JSON = 'weights.json';
export const WEIGHTS_BIN = 'weights.bin';

/** Saves every weight of `layers` (names must be unique) into `dir`. */
export async function saveLayerWeights(layers: tfTypes.layers.Layer[], dir: string): Promise<{ bytes: number; tensors: number }> {
  const entries: WeightEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const layer of layers) {
    if (seen.has(layer.name)) throw new Error(`saveLayerWeights: two layers named ${layer.name}`);
    seen.add(layer.name);
    layer.getWeights().forEach((w, index) => {
      const values = w.dataSync() as Float32Array;
      if (w.dtype !== 'float32') throw new Error(`saveLayerWeights: ${layer.name}[${index}] is ${w.dtype}, expected float32`);
      entries.push({ layer: layer.name, index, shape: w.shape, offset, length: values.length });
      chunks.push(values);
      offset += values.length;
    });
  }
  const all = new Float32Array(offset);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  await writeFile(join(dir, WEIGHTS_BIN), new Uint8Array(all.buffer, 0, all.byteLength));
  const layout: WeightLayout = { format: 'sei-weights/1', entries };
  await writeFile(join(dir, WEIGHTS_JSON), JSON.stringify(layout));
  return { bytes: all.byteLength, tensors: entries.length };
}

/** Loads weights saved by saveLayerWeights into the same-named layers; every layer with weights must be covered. */
export async function loadLayerWeights(tf: typeof tfTypes, layers: tfTypes.layers.Layer[], dir: string): Promise<void> {
  const layout = JSON.parse(await readFile(join(dir, WEIGHTS_JSON), 'utf8')) as WeightLayout;
  if (layout.format !== 'sei-weights/1') throw new Error(`${join(dir, WEIGHTS_JSON)}: unknown weights format ${String(layout.format)}`);
  const raw = await readFile(join(dir, WEIGHTS_BIN));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const byLayer = new Map<string, WeightEntry[]>();
  for (const e of layout.entries) {
    if (!byLayer.has(e.layer)) byLayer.set(e.layer, []);
    byLayer.get(e.layer)!.push(e);
  }
  for (const layer of layers) {
    const current = layer.getWeights();
    if (current.length === 0) continue;
    const saved = byLayer.get(layer.name);
    if (!saved || saved.length !== current.length) {
      throw new Error(`${dir}: no saved weights for layer ${layer.name} (${current.length} tensors expected)`);
    }
    const tensors = saved.sort((a, b) => a.index - b.index).map((e, i) => {
      if (e.shape.join('x') !== current[i]!.shape.join('x')) {
        throw new Error(`${dir}: layer ${layer.name} weight ${i} saved as [${e.shape}] but the model has [${current[i]!.shape}]`);
      }
      return tf.tensor(all.subarray(e.offset, e.offset + e.length), e.shape, 'float32');
    });
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
}

/** Layers of a network that hold weights, in model order. */
export function networkLayers(net: Network): tfTypes.layers.Layer[] {
  return net.blocks.flatMap((b) => b.layers);
}

export interface LoadedBase { network: Network; dispose(): void }

/** The base network of a train-base cell, rebuilt from its model spec and loaded with its weights. */
export async function loadBase(base: UpstreamOutput, data: PreparedDataset): Promise<LoadedBase> {
  const tf = await import('@tensorflow/tfjs');
  const { buildNetwork, resolveModelSpec } = await import('../../ml/models/index.js');
  const model = (base.params as { model: ModelSpec }).model;
  // The weights come from the folder: building skips the user's pretrained file.
  const spec = resolveModelSpec({ ...model, pretrained: undefined }, shapeOf(data));
  const network = buildNetwork(spec, 0);
  try {
    await loadLayerWeights(tf, networkLayers(network), base.dir);
  } catch (e) {
    network.dispose();
    throw e;
  }
  return { network, dispose: () => network.dispose() };
}

export function shapeOf(data: PreparedDataset): { classes: number; height: number; width: number; channels: number } {
  return { classes: data.classes.length, height: data.height, width: data.width, channels: data.channels };
}
