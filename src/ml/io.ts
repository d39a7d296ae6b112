// Weights as files, without tfjs-node: a tf.io.IOHandler on node:fs that writes and reads the
// standard tfjs layers format (model.json + weights.bin; the weights file first, model.json last,
// each atomically, so a folder with a model.json is always complete). Our own saves carry the
// model spec (and cut + bottleneck for a split model) in userDefinedMetadata and are rebuilt from
// it; a user's pretrained tfjs / Keras-converted layers model is mapped onto an architecture by
// layer name (Keras VGG16 names are ours), by the Keras ResNet50 naming, or else by layer order,
// with a clear error naming the layer when shapes differ. PyTorch state_dicts and .safetensors
// files with torchvision's names are read by ./checkpoints.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { buildNetwork } from './models/index.js';
import { initWeights, type Network } from './models/network.js';
import { splitModel, type SplitModel } from './split.js';
import { isTorchCheckpointPath } from './checkpoints/read.js';
import { loadTorchCheckpoint } from './checkpoints/load.js';
import type { BottleneckSpec, ResolvedModelSpec } from './spec.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

/** What our saves record in userDefinedMetadata.sei. */
export interface SavedMeta {
  kind: 'network' | 'split';
  spec: ResolvedModelSpec;
  cut?: string;
  bottleneck?: BottleneckSpec;
  /** Anything the caller added (e.g. training summary). */
  extra?: Record<string, unknown>;
}

function flatten(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/** An IOHandler reading/writing `modelJsonPath` and its weights file(s) beside it. */
export function fileIOHandler(modelJsonPath: string): tf.io.IOHandler {
  const dir = dirname(modelJsonPath);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = artifacts.weightData ? new Uint8Array(flatten(artifacts.weightData)) : new Uint8Array(0);
      writeFileAtomic(join(dir, WEIGHTS_FILE), weights);
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      writeFileAtomic(modelJsonPath, JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = readModelJson(modelJsonPath);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = join(dir, p);
          if (!existsSync(file)) throw new UsageError(`${modelJsonPath}: weights file ${p} listed in weightsManifest is missing`);
          buffers.push(readFileSync(file));
        }
      }
      const total = buffers.reduce((a, b) => a + b.length, 0);
      const all = new Uint8Array(total);
      let off = 0;
      for (const b of buffers) { all.set(b, off); off += b.length; }
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        weightSpecs: specs,
        weightData: all.buffer,
        userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts["userDefinedMetadata"],
      };
    },
  };
}

function readModelJson(path: string): ModelJson {
  if (!existsSync(path)) throw new UsageError(`model file not found: ${path}`);
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new UsageError(`${path}: not a tfjs model.json (no weightsManifest)`);
  }
  return json;
}

/** Named weight tensors of a model.json (+ weights). Caller disposes. */
export async function readWeights(modelJsonPath: string): Promise<{ json: ModelJson; weights: tf.NamedTensorMap; order: string[] }> {
  const json = readModelJson(modelJsonPath);
  const art = await fileIOHandler(modelJsonPath).load!();
  const expected = (art.weightSpecs ?? []).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * bytesPer(s), 0);
  const got = flatten(art.weightData!).byteLength;
  if (got < expected) throw new UsageError(`${modelJsonPath}: weights files hold ${got} bytes, the manifest needs ${expected}`);
  const weights = tf.io.decodeWeights(art.weightData!, art.weightSpecs!);
  return { json, weights, order: art.weightSpecs!.map((s) => s.name) };
}

function bytesPer(s: tf.io.WeightsManifestEntry): number {
  if (s.quantization) return s.quantization.dtype === 'float16' || s.quantization.dtype === 'uint16' ? 2 : 1;
  return s.dtype === 'float32' || s.dtype === 'int32' ? 4 : 1;
}

async function saveModel(dir: string, model: tf.LayersModel, meta: SavedMeta): Promise<void> {
  // Through JSON: tfjs accepts only plain JSON objects (no undefined members).
  model.setUserDefinedMetadata(JSON.parse(JSON.stringify({ sei: meta })) as {});
  await model.save(fileIOHandler(join(dir, MODEL_FILE)));
}

/** Save a network (weights + topology + spec) as dir/model.json + dir/weights.bin. */
export async function saveNetwork(dir: string, net: Network, extra?: Record<string, unknown>): Promise<void> {
  await saveModel(dir, net.model, { kind: 'network', spec: net.spec, extra });
}

/** Save a split model: the whole pipeline (head, bottleneck, tail) with its cut and bottleneck. */
export async function saveSplit(dir: string, split: SplitModel, extra?: Record<string, unknown>): Promise<void> {
  await saveModel(dir, split.full, { kind: 'split', spec: split.network.spec, cut: split.cut, bottleneck: split.bottleneck, extra });
}

export function readSavedMeta(dir: string): SavedMeta {
  const path = join(dir, MODEL_FILE);
  const meta = readModelJson(path).userDefinedMetadata?.sei as SavedMeta | undefined;
  if (!meta || !meta.spec || (meta.kind !== 'network' && meta.kind !== 'split')) {
    throw new UsageError(`${path}: not a model saved by this project (no userDefinedMetadata.sei); use model.pretrained to load a foreign model`);
  }
  return meta;
}

/** Load a saved network (a saved split model yields its underlying network with the trained weights). */
export async function loadNetwork(dir: string): Promise<{ network: Network; meta: SavedMeta }> {
  const meta = readSavedMeta(dir);
  const network = buildNetwork(meta.spec, 0);
  await assignByName(network.model.layers, join(dir, MODEL_FILE));
  return { network, meta };
}

/** Load a saved split model. */
export async function loadSplit(dir: string): Promise<{ split: SplitModel; meta: SavedMeta }> {
  const meta = readSavedMeta(dir);
  if (meta.kind !== 'split' || !meta.cut || !meta.bottleneck) throw new UsageError(`${join(dir, MODEL_FILE)}: holds a whole network, not a split model`);
  const network = buildNetwork(meta.spec, 0);
  const split = splitModel(network, meta.cut, meta.bottleneck, { seed: 0 });
  await assignByName(split.full.layers, join(dir, MODEL_FILE));
  return { split, meta };
}

function shapeText(s: readonly (number | null)[]): string {
  return `[${s.join(', ')}]`;
}

function mismatch(path: string, layer: string, weight: string, expected: readonly (number | null)[], got: readonly number[], source?: string): UsageError {
  return new UsageError(
    `${path}: weights do not match the architecture at layer ${layer} (${weight}): expected shape ${shapeText(expected)}, got ${shapeText(got)}` +
      (source ? ` from ${source}` : ''),
  );
}

/** Assign weights saved under our own names; every weight of `layers` must be present (extra ones, e.g. a bottleneck, are ignored). */
async function assignByName(layers: tf.layers.Layer[], path: string): Promise<void> {
  const { weights } = await readWeights(path);
  try {
    for (const l of layers) {
      if (l.weights.length === 0) continue;
      const vals = l.weights.map((w) => {
        const t = weights[w.originalName];
        if (!t) throw new UsageError(`${path}: no weight ${w.originalName} (layer ${l.name}); the file was saved from a different model`);
        if (!tf.util.arraysEqual(t.shape, w.shape as number[])) throw mismatch(path, l.name, w.originalName, w.shape, t.shape);
        return t;
      });
      l.setWeights(vals);
    }
  } finally {
    tf.dispose(Object.values(weights));
  }
}

export interface PretrainedReport {
  mapping: 'name' | 'keras-resnet50' | 'order' | 'torchvision';
  loaded: string[];
  skipped: string[];
  notes: string[];
}

/** Our ResNet-50 layer name for a Keras applications.ResNet50 layer name (or undefined). */
function kerasResnetName(k: string): string | undefined {
  if (k === 'conv1_conv' || k === 'conv1_bn') return k;
  if (k === 'predictions' || k === 'probs') return 'fc';
  const m = /^conv(\d)_block(\d+)_(\d)_(conv|bn)$/.exec(k);
  if (!m) return undefined;
  const [, stage, blk, idx, kind] = m;
  const base = `layer${Number(stage) - 1}_${blk}`;
  return idx === '0' ? `${base}_down_${kind}` : `${base}_${kind}${idx}`;
}

/**
 * Load a user's pretrained tfjs layers model (model.json + weights) onto `net`. Layers listed in
 * `exclude` keep their fresh initialisation (e.g. a classifier for another class count).
 * Mapping, first that applies: our/Keras names (VGG16); Keras ResNet50 names (the conv biases
 * Keras adds before batch norm are folded into the BN moving mean, which is exact); when only some
 * names match, an error lists the missing layers (e.g. a headless file: exclude the classifier);
 * when none match, layer order.
 * Any shape mismatch is a UsageError naming the layer with expected and actual shapes.
 */
export async function loadPretrained(net: Network, modelJsonPath: string, opts: { exclude?: string[] } = {}): Promise<PretrainedReport> {
  const path = resolve(modelJsonPath);
  const { json, weights, order } = await readWeights(path);
  if (json.format && json.format !== 'layers-model') {
    tf.dispose(Object.values(weights));
    throw new UsageError(`${path}: format '${json.format}' is not supported; convert the model as a tfjs layers model (tensorflowjs_converter --output_format tfjs_layers_model)`);
  }
  const exclude = new Set(opts.exclude ?? []);
  const targets = net.model.layers.filter((l) => l.weights.length > 0);
  for (const e of exclude) {
    if (!net.model.layers.some((l) => l.name === e)) throw new UsageError(`model.pretrainedExclude: no layer '${e}' in ${net.spec.arch}`);
  }
  // Group the file's weights by layer: 'a/b/block1_conv1/kernel' → layer 'block1_conv1', weight 'kernel'.
  const groups = new Map<string, Map<string, tf.Tensor>>();
  for (const name of order) {
    const parts = name.split('/');
    const wname = parts.pop()!.replace(/_\d+$/, '').replace(/:0$/, '');
    const lname = parts.pop() ?? '';
    if (!groups.has(lname)) groups.set(lname, new Map());
    groups.get(lname)!.set(wname, weights[name]);
  }
  const notes: string[] = [];
  const loaded: string[] = [];
  const skipped: string[] = [];
  const shortName = (w: tf.LayerVariable) => w.originalName.split('/').pop()!;
  const assign = (l: tf.layers.Layer, src: Map<string, tf.Tensor>, srcName: string, byPosition: boolean) => {
    if (exclude.has(l.name)) { skipped.push(l.name); return; }
    const srcList = [...src.entries()];
    let bias: tf.Tensor | undefined;
    const vals = l.weights.map((w, i) => {
      const t = byPosition ? srcList[i]?.[1] : src.get(shortName(w));
      if (!t) throw new UsageError(`${path}: layer ${srcName} has no weight for ${l.name}/${shortName(w)}`);
      if (!tf.util.arraysEqual(t.shape, w.shape as number[])) throw mismatch(path, l.name, shortName(w), w.shape, t.shape, srcName);
      return t;
    });
    if (l.getClassName() === 'Conv2D' && !byPosition && src.has('bias') && l.weights.length === 1) bias = src.get('bias');
    l.setWeights(vals);
    loaded.push(l.name);
    return bias;
  };
  try {
    const wanted = targets.filter((l) => !exclude.has(l.name));
    const named = wanted.filter((l) => groups.has(l.name));
    if (named.length === wanted.length) {
      for (const l of targets) assign(l, groups.get(l.name)!, l.name, false);
      return { mapping: 'name', loaded, skipped, notes };
    }
    const kerasResnet = net.spec.arch === 'resnet50' && [...groups.keys()].some((k) => /^conv\d_block\d+_\d_conv$/.test(k));
    if (kerasResnet) {
      const mapped = new Map<string, string>();
      for (const k of groups.keys()) { const ours = kerasResnetName(k); if (ours) mapped.set(ours, k); }
      const missing = targets.filter((l) => !exclude.has(l.name) && !mapped.has(l.name)).map((l) => l.name);
      if (missing.length) {
        throw new UsageError(`${path}: Keras ResNet50 weights lack layers for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` +
          (missing.length === 1 ? `; add it to model.pretrainedExclude to keep it freshly initialised` : ''));
      }
      const pendingBias = new Map<string, tf.Tensor>();
      for (const l of targets) {
        const src = mapped.get(l.name)!;
        if (exclude.has(l.name)) { skipped.push(l.name); continue; }
        const b = assign(l, groups.get(src)!, src, false);
        if (b) pendingBias.set(l.name.replace(/conv(\d?)$/, 'bn$1'), b);
      }
      // conv(x) + b followed by BN equals conv(x) followed by BN with moving mean − b.
      for (const [bnName, b] of pendingBias) {
        const bn = net.model.getLayer(bnName);
        const ws = bn.getWeights();
        const mi = bn.weights.findIndex((w) => shortName(w) === 'moving_mean');
        const next = ws.map((w, i) => (i === mi ? tf.sub(w, b) : w));
        bn.setWeights(next);
        tf.dispose(next[mi]);
      }
      notes.push('Keras ResNet50 is v1 (stride in the first 1×1 conv); its weights were loaded into the v1.5 layout (stride in the 3×3), which changes the function slightly: fine-tune before use');
      if (pendingBias.size) notes.push(`folded ${pendingBias.size} convolution biases into the following batch norms`);
      return { mapping: 'keras-resnet50', loaded, skipped, notes };
    }
    if (named.length > 0 && named.length < wanted.length) {
      const missing = wanted.filter((l) => !groups.has(l.name)).map((l) => l.name);
      throw new UsageError(
        `${path}: no weights for layer${missing.length > 1 ? 's' : ''} ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? `, … (${missing.length} in all)` : ''} of ${net.spec.arch}; ` +
          `add ${missing.length > 1 ? 'them' : 'it'} to model.pretrainedExclude to keep ${missing.length > 1 ? 'them' : 'it'} freshly initialised`,
      );
    }
    // Fallback: layer order, weights by position within each layer.
    const srcGroups = [...groups.entries()];
    if (srcGroups.length !== targets.length) {
      throw new UsageError(
        `${path}: cannot map this model onto ${net.spec.arch}: its layer names do not match and it has ${srcGroups.length} layers with weights where ${net.spec.arch} has ${targets.length}`,
      );
    }
    targets.forEach((l, i) => {
      const [srcName, src] = srcGroups[i];
      if (src.size !== l.weights.length && !exclude.has(l.name)) {
        throw new UsageError(`${path}: layer ${srcName} has ${src.size} weights where ${l.name} has ${l.weights.length}`);
      }
      assign(l, src, srcName, true);
    });
    notes.push('layer names differ: weights were mapped by layer order');
    return { mapping: 'order', loaded, skipped, notes };
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/** The path of a model file given either the model.json or its folder. */
export function modelJsonPath(pathOrDir: string): string {
  return basename(pathOrDir).endsWith('.json') ? pathOrDir : join(pathOrDir, MODEL_FILE);
}

/**
 * Build the network a ModelSpec describes: seeded initialisation, then the user's `pretrained`
 * weights when the spec names a file (relative paths resolve against `baseDir`).
 */
export async function createNetwork(
  spec: ResolvedModelSpec, seed = 0, opts: { baseDir?: string; log?: (m: string) => void } = {},
): Promise<{ network: Network; pretrained?: PretrainedReport }> {
  const file = spec.pretrained === undefined ? undefined : resolve(opts.baseDir ?? '.', spec.pretrained);
  // A PyTorch state_dict (.pth/.pt) or .safetensors file with torchvision's names, else a tfjs model.
  const torch = file !== undefined && isTorchCheckpointPath(file);
  // A torchvision checkpoint sets every weight but the excluded layers': only those are initialised
  // (each layer's seeded stream depends on its name only, so the values are the same).
  const network = buildNetwork(spec, seed, { initialise: !torch });
  if (file === undefined) return { network };
  try {
    const path = torch ? file : modelJsonPath(file);
    const report: PretrainedReport = torch
      ? { mapping: 'torchvision', ...loadTorchCheckpoint(network, path, { exclude: spec.pretrainedExclude }) }
      : await loadPretrained(network, path, { exclude: spec.pretrainedExclude });
    if (torch) initWeights(report.skipped.map((name) => network.model.getLayer(name)), seed);
    opts.log?.(`pretrained weights from ${path}: ${report.loaded.length} layers by ${report.mapping}` +
      (report.skipped.length ? `, kept fresh: ${report.skipped.join(', ')}` : '') + (report.notes.length ? `; ${report.notes.join('; ')}` : ''));
    return { network, pretrained: report };
  } catch (e) {
    network.dispose();
    throw e;
  }
}
