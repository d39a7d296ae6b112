// Load a torchvision-named PyTorch or safetensors checkpoint into a Network: every tensor is
// checked (names, shapes for this architecture, width and class count) before any weight is set,
// then each is converted to the project's layout.
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../util/errors.js';
import type { Network } from '../models/network.js';
import { readCheckpoint } from './read.js';
import { describeArchitecture, matchCheckpoint, matchProblems } from './match.js';
import { guessArchitecture, toProjectLayout, type TorchArchitecture } from './torchvision.js';
import type { Checkpoint } from './tensors.js';

export interface TorchLoadReport {
  loaded: string[];
  skipped: string[];
  notes: string[];
}

export function architectureOfNetwork(net: Network): TorchArchitecture {
  return { arch: net.spec.arch, width: net.spec.widthMultiplier, classes: net.spec.classes, inputChannels: net.spec.inputChannels };
}

/** The UsageError for a checkpoint that does not fit `want`, with what the file looks like instead. */
function mismatchError(ckpt: Checkpoint, want: TorchArchitecture, problems: string[]): UsageError {
  const guess = guessArchitecture(new Map(ckpt.tensors.map((t) => [t.name, t.shape])));
  const looks = guess ? `it looks like torchvision ${describeArchitecture(guess)}`
    : `it is not torchvision's VGG16 or ResNet-50 (first tensors: ${ckpt.tensors.slice(0, 3).map((t) => t.name).join(', ') || 'none'})`;
  return new UsageError(`${ckpt.path}: does not match ${describeArchitecture(want)}; ${looks}: ${problems.join('; ')}`);
}

export function loadTorchCheckpoint(net: Network, path: string, opts: { exclude?: string[] } = {}): TorchLoadReport {
  const ckpt = readCheckpoint(path);
  const want = architectureOfNetwork(net);
  const exclude = new Set(opts.exclude ?? []);
  for (const e of exclude) {
    if (!net.model.layers.some((l) => l.name === e)) throw new UsageError(`model.pretrainedExclude: no layer '${e}' in ${want.arch}`);
  }
  const match = matchCheckpoint(ckpt, want);
  const problems = matchProblems(match, exclude);
  if (problems.length) throw mismatchError(ckpt, want, problems);
  const pooled = want.arch === 'vgg16' ? net.cutShape('block5_pool').slice(0, 2) as [number, number] : undefined;
  // Convert everything first, set weights after: a failure leaves the network untouched.
  const values = new Map<string, Float32Array>();
  for (const { tensor, entry } of match.mapped) {
    if (entry.conversion === 'ignored' || exclude.has(entry.layer)) continue;
    const layer = net.model.getLayer(entry.layer);
    const w = layer.weights.find((x) => x.originalName.split('/').pop() === entry.weight);
    if (!w) throw new Error(`layer ${entry.layer} has no weight ${entry.weight}`);
    values.set(`${entry.layer}/${entry.weight}`, toProjectLayout(entry, tensor.read(), w.shape as number[], pooled));
  }
  const loaded: string[] = [];
  const skipped: string[] = [];
  for (const layer of net.model.layers) {
    if (layer.weights.length === 0) continue;
    if (exclude.has(layer.name)) { skipped.push(layer.name); continue; }
    const ts = layer.weights.map((w) => {
      const v = values.get(`${layer.name}/${w.originalName.split('/').pop()}`);
      if (!v) throw new Error(`no checkpoint value for ${w.originalName}`);
      return tf.tensor(v, w.shape as number[]);
    });
    layer.setWeights(ts);
    tf.dispose(ts);
    loaded.push(layer.name);
  }
  const notes = [`torchvision names from a ${ckpt.format === 'pytorch' ? 'PyTorch state_dict' : '.safetensors file'}`];
  if (pooled && (pooled[0] !== 7 || pooled[1] !== 7)) {
    notes.push(`block5_pool is ${pooled[0]}×${pooled[1]}: torchvision's adaptive 7×7 average pool was folded into fc1`);
  }
  return { loaded, skipped, notes };
}
