// `sei export`'s work: load the target's trained model, convert its device and server halves
// (or the whole network, for a design that runs on one side), check them on ONNX Runtime and
// TensorFlow.js against the project's model, and write them with the manifest — into a fresh
// folder beside the destination, renamed into place only when everything is written.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { splitLogitsFn, type Precision } from '../ml/accounting.js';
import { fileIOHandler, loadNetwork, loadSplit, MODEL_FILE } from '../ml/io.js';
import type { Normalize } from '../ml/spec.js';
import { fsyncDir } from '../util/atomic.js';
import { unsupportedLayers } from './onnx/convert.js';
import { headOnnx, tailOnnx, wholeOnnx, OPSET, INPUT_NAME, PAYLOAD_NAME, SCALE_NAME, LOGITS_NAME, type GraphMeta } from './onnx/halves.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, preprocessing, type ExportManifest, type TensorSpec } from './manifest.js';
import { loadOrt, relativeError, runOnnx } from './ort.js';
import type { ExportTarget } from './target.js';

export type ExportFormat = 'onnx' | 'tfjs';
export const EXPORT_FORMATS: ExportFormat[] = ['onnx', 'tfjs'];
/** Largest relative difference of the logits accepted by the export's own check. */
export const CHECK_TOLERANCE = 1e-4;

export interface ExportOptions {
  pipeline: string;
  out: string;
  formats: ExportFormat[];
  force: boolean;
  version: string;
  log?: (m: string) => void;
}

export interface ExportCheck {
  onnxRelativeError: number | null;
  tfjsRelativeError: number | null;
}

export interface ExportResult {
  out: string;
  manifest: ExportManifest;
  check: ExportCheck;
}

/** Refuses an existing non-empty destination unless forced (before any work is done). */
export function checkDestination(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length > 0 && !force) {
    throw new UsageError(`output folder ${out} exists and is not empty (${entries.length} entries); choose another or give --force to replace it`);
  }
}

/** Writes into a fresh sibling folder, then swaps it in; on any error nothing is left behind. */
async function writeAtomically(out: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    await fill(tmp);
    fsyncDir(tmp);
    if (existsSync(out)) {
      const old = join(parent, `.${basename(out)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
      renameSync(out, old);
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, out);
    }
    fsyncDir(parent);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((a, k) => (a && typeof a === 'object' ? (a as Record<string, unknown>)[k] : undefined), o);

async function saveTfjs(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(fileIOHandler(join(dir, MODEL_FILE)));
}

/** Head then tail (or the one model) of the written ONNX files on `x`: relative error against `reference`. */
async function checkOnnx(dir: string, files: Record<string, string>, x: tf.Tensor, reference: Float32Array): Promise<number> {
  const ort = await loadOrt();
  const input = new ort.Tensor('float32', Float32Array.from(x.dataSync()), x.shape);
  let logits: Float32Array;
  if (files.onnxModel) {
    logits = (await runOnnx(join(dir, files.onnxModel), { [INPUT_NAME]: input }))[LOGITS_NAME]!.data as Float32Array;
  } else {
    const sent = await runOnnx(join(dir, files.onnxHead!), { [INPUT_NAME]: input });
    logits = (await runOnnx(join(dir, files.onnxTail!), sent))[LOGITS_NAME]!.data as Float32Array;
  }
  return relativeError(logits, reference);
}

/** The written TF.js models reloaded by stock TensorFlow.js and run in sequence on `x`. */
async function checkTfjs(dir: string, files: Record<string, string>, x: tf.Tensor, reference: Float32Array): Promise<number> {
  const paths = files.tfjsModel ? [files.tfjsModel] : [files.tfjsHead!, files.tfjsTail!];
  const models = await Promise.all(paths.map((p) => tf.loadLayersModel(fileIOHandler(join(dir, p)))));
  try {
    const y = tf.tidy(() => models.reduce<tf.Tensor>((h, m) => m.predict(h) as tf.Tensor, x));
    const err = relativeError(y.dataSync() as Float32Array, reference);
    y.dispose();
    return err;
  } finally {
    for (const m of models) m.dispose();
  }
}

export async function writeExport(target: ExportTarget, opts: ExportOptions): Promise<ExportResult> {
  const log = opts.log ?? (() => {});
  const out = resolve(opts.out);
  checkDestination(out, opts.force);
  const formats = new Set(opts.formats);
  const meta: GraphMeta = {
    producerVersion: opts.version,
    metadata: { pipeline: opts.pipeline, cell: target.model.id, key: target.model.key, ...(target.design ? { design: target.design.id } : {}) },
  };
  const split = target.kind === 'split' ? (await loadSplit(target.model.dir!)).split : undefined;
  const network = split ? split.network : (await loadNetwork(target.model.dir!)).network;
  try {
    const halves = split ? [split.device, split.server] : [network.model];
    const bad = halves.flatMap(unsupportedLayers);
    if (bad.length) {
      throw new UsageError(`cannot export: ${bad.map((b) => `layer ${b.layer} (${b.className})`).join(', ')} ha${bad.length > 1 ? 've' : 's'} no ONNX converter`);
    }
    const precision = target.precision;
    const x = tf.randomNormal([1, ...network.inputShape], 0, 1, 'float32', 17);
    const referenceOnnx = tf.tidy(() => (split ? splitLogitsFn(split, precision)(x) : (network.model.predict(x) as tf.Tensor)).dataSync() as Float32Array);
    const referenceTfjs = split ? tf.tidy(() => splitLogitsFn(split, 'fp32')(x).dataSync() as Float32Array) : referenceOnnx;
    const files: Record<string, string> = {};
    const dataset = target.dataset;
    const classes = Array.isArray(dataset?.metrics?.classes) ? (dataset!.metrics!.classes as string[]) : Array.from({ length: network.spec.classes }, (_, i) => String(i));
    const fit = String(readJson(join(dataset?.dir ?? '', 'meta.json'))?.fit ?? get(dataset?.params, 'dataset.fit') ?? 'fill');
    const ev = target.evaluate?.metrics;
    let check: ExportCheck = { onnxRelativeError: null, tfjsRelativeError: null };
    const manifest = buildManifest(target, opts, { network: network.spec, split, classes, fit, ev });
    try {
      await writeAtomically(out, async (dir) => {
        if (formats.has('onnx')) {
          mkdirSync(join(dir, 'onnx'));
          if (split) {
            writeFileSync(join(dir, 'onnx', 'head.onnx'), headOnnx(split.device, precision, { ...meta, docString: 'device half: input → cut → bottleneck encoder → payload' }));
            writeFileSync(join(dir, 'onnx', 'tail.onnx'), tailOnnx(split.server, precision, { ...meta, docString: 'server half: payload → bottleneck decoder → rest of the network → logits' }));
            files.onnxHead = 'onnx/head.onnx';
            files.onnxTail = 'onnx/tail.onnx';
          } else {
            writeFileSync(join(dir, 'onnx', 'model.onnx'), wholeOnnx(network.model, { ...meta, docString: 'the whole network: input → logits' }));
            files.onnxModel = 'onnx/model.onnx';
          }
        }
        if (formats.has('tfjs')) {
          if (split) {
            await saveTfjs(split.device, join(dir, 'tfjs', 'head'));
            await saveTfjs(split.server, join(dir, 'tfjs', 'tail'));
            files.tfjsHead = `tfjs/head/${MODEL_FILE}`;
            files.tfjsTail = `tfjs/tail/${MODEL_FILE}`;
          } else {
            await saveTfjs(network.model, join(dir, 'tfjs', 'model'));
            files.tfjsModel = `tfjs/model/${MODEL_FILE}`;
          }
        }
        log('checking the written files against the project\'s model …');
        // The TF.js halves carry the float payload (the quantisation is the sender's and the
        // receiver's code, see manifest.payload.quantisation): compared with the split at fp32.
        check = {
          onnxRelativeError: formats.has('onnx') ? await checkOnnx(dir, files, x, referenceOnnx) : null,
          tfjsRelativeError: formats.has('tfjs') ? await checkTfjs(dir, files, x, referenceTfjs) : null,
        };
        for (const [what, err] of [['ONNX', check.onnxRelativeError], ['TF.js', check.tfjsRelativeError]] as const) {
          if (err !== null && !(err <= CHECK_TOLERANCE)) {
            throw new Error(`the exported ${what} model disagrees with the project's model: relative error of the logits ${err.toExponential(2)} > ${CHECK_TOLERANCE}`);
          }
        }
        manifest.files = files;
        manifest.check = { input: 'seeded N(0, 1), batch 1', tolerance: CHECK_TOLERANCE, ...check };
        writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      });
    } finally {
      x.dispose();
    }
    return { out, manifest, check };
  } finally {
    split?.dispose();
    network.dispose();
  }
}

interface ManifestInputs {
  network: { arch: string; height: number; width: number; inputChannels: number; classes: number; widthMultiplier: number; normalize: Normalize };
  split?: { cut: string; codeShape: number[]; bottleneck: { ratio: number; expansion: number } };
  classes: string[];
  fit: string;
  ev?: Record<string, unknown>;
}

function buildManifest(target: ExportTarget, opts: ExportOptions, m: ManifestInputs): ExportManifest {
  const { network, split, ev } = m;
  const d = target.design;
  const precision = target.precision;
  const elements = split ? split.codeShape.reduce((a, b) => a * b, 1) : 0;
  const payloadDtype: TensorSpec['dtype'] = precision === 'fp32' ? 'float32' : precision === 'fp16' ? 'float16' : 'int8';
  const summary = target.kind === 'split'
    ? `split at ${split!.cut}: head (device) and tail (server), ${precision} payload of ${split!.codeShape.join('×')}`
    : target.kind === 'local'
      ? 'all on the device (local computing): nothing is split, one model runs the whole network on the device'
      : 'all on the server (remote computing): the device sends the raw image, one model runs the whole network on the server';
  const bytes = precision === 'fp32' ? 4 * elements : precision === 'fp16' ? 2 * elements : elements + 4;
  const accuracyPath = target.kind === 'split' ? `quantizedAccuracy.${precision}` : 'baseAccuracy';
  return {
    format: MANIFEST_FORMAT,
    kind: target.kind,
    summary,
    pipeline: opts.pipeline,
    design: d ? { id: d.id, cut: d.cut, precision: d.precision, network: d.network, device: d.device, server: d.server } : null,
    cut: split?.cut ?? null,
    architecture: { arch: network.arch, widthMultiplier: network.widthMultiplier, bottleneck: split ? { ...split.bottleneck } : null },
    input: {
      name: INPUT_NAME, shape: ['batch', network.height, network.width, network.inputChannels], dtype: 'float32', layout: 'NHWC',
      preprocessing: preprocessing(network.height, network.width, network.inputChannels, m.fit, network.normalize),
    },
    payload: split ? {
      outputs: [
        { name: PAYLOAD_NAME, shape: ['batch', ...split.codeShape], dtype: payloadDtype, layout: 'NHWC' },
        ...(precision === 'int8' ? [{ name: SCALE_NAME, shape: ['batch'] as TensorSpec['shape'], dtype: 'float32' as const }] : []),
      ],
      precision,
      bytesPerFrame: bytes,
      elements,
      quantisation: precision === 'fp32' ? 'none: float32 values'
        : precision === 'fp16' ? 'float16 (round to nearest even); the tail casts back to float32'
        : 'symmetric per frame: scale = max|x| / 127 (1 for an all-zero frame), q = clip(floor(x / scale + 0.5), −127, 127); the tail computes q · scale. ' +
          'The ONNX halves include it; the TF.js halves take and give the float payload, so the sender and receiver apply it',
    } : target.kind === 'remote' ? {
      outputs: [{ name: 'image', shape: ['batch', network.height, network.width, network.inputChannels], dtype: 'uint8', layout: 'NHWC' }],
      precision: 'uint8',
      bytesPerFrame: network.height * network.width * network.inputChannels,
      elements: network.height * network.width * network.inputChannels,
      quantisation: 'none: the resized image as captured; the server applies the preprocessing, then runs the model',
    } : null,
    output: { name: LOGITS_NAME, shape: ['batch', network.classes], dtype: 'float32', classes: m.classes },
    files: {},
    measured: {
      accuracy: num(get(ev, accuracyPath)) ?? (target.kind === 'split' && precision === 'fp32' ? num(get(ev, 'accuracy')) : null),
      baseAccuracy: num(get(ev, 'baseAccuracy')),
      testImages: num(get(ev, 'testImages')),
      deviceMs: target.kind === 'split' ? num(get(ev, 'device.timeMs.p50')) : target.kind === 'local' ? num(get(ev, 'network.timeMs.p50')) : null,
      serverMs: target.kind === 'split' ? num(get(ev, 'server.timeMs.p50')) : target.kind === 'remote' ? num(get(ev, 'network.timeMs.p50')) : null,
      backend: typeof target.evaluate?.provenance?.backend === 'string' ? (target.evaluate.provenance.backend as string) : null,
      simulated: d ? {
        deviceProfile: d.device, serverProfile: d.server, network: d.network, deviceMs: d.deviceMs, serverMs: d.serverMs,
        transferMsP50: d.transferMs.p50, endToEndMsP50: d.endToEndMs.p50, endToEndMsP95: d.endToEndMs.p95,
      } : null,
    },
    provenance: {
      modelCell: { id: target.model.id, key: target.model.key, stage: target.model.stage, coords: target.model.coords },
      evaluateCell: target.evaluate ? { id: target.evaluate.id, key: target.evaluate.key } : null,
      datasetCell: target.dataset ? { id: target.dataset.id, key: target.dataset.key } : null,
      origin: target.origin,
      exportedBy: `split-et-impera ${opts.version}`,
      opset: OPSET,
    },
  };
}
