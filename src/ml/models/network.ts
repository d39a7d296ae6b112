// A network as an ordered list of blocks. Each cut point is the output of one block, and no skip
// connection crosses a block boundary, so a head (blocks up to the cut) and a tail (the blocks
// after it) are just two slices of the list, sharing the same layer objects (and so the same
// weights) as the full model.
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../util/errors.js';
import type { ResolvedModelSpec } from '../spec.js';
import { Rng, deriveSeed } from '../../util/random.js';

export type AnyTensor = tf.Tensor | tf.SymbolicTensor;
export type Kwargs = { training?: boolean };

export interface Block {
  /** The cut-point name when this block's output is a cut point; otherwise e.g. 'classifier'. */
  name: string;
  isCut: boolean;
  layers: tf.layers.Layer[];
  /** Applies the block's layers: symbolically (to build models) or eagerly (forward passes). */
  apply<T extends AnyTensor>(x: T, kwargs?: Kwargs): T;
  /**
   * Where the reference code reads this cut instead of the block's output, when that differs
   * (VGG convolutions before their ReLU, ResNet conv1 before BN+ReLU): `read` computes the block up
   * to that tensor, `finish` the rest. Eager only, for scoring; the built model keeps its fused layers.
   */
  referenceRead?: { read(x: tf.Tensor, kwargs?: Kwargs): tf.Tensor; finish(t: tf.Tensor, kwargs?: Kwargs): tf.Tensor };
}

/**
 * Which tensor a cut point's activation is: the block's output after its activation (default), or
 * where the reference I-SPLIT code reads it (see Block.referenceRead).
 */
export type ReadPoint = 'post-activation' | 'reference';

import type { Shape3 } from './cut-points.js';
export type { Shape3 };

export interface ForwardOptions {
  training?: boolean;
  /** Cut points whose activations to return (default: all of them, in forward order). */
  cuts?: string[];
  /** Tensors added to the activation at each requested cut (zeros: take gradients there). */
  perturb?: tf.Tensor[];
  /** Which tensor each cut's activation is (default 'post-activation'). */
  readPoint?: ReadPoint;
}

export interface Network {
  spec: ResolvedModelSpec;
  /** The 18 cut-point names in forward order. */
  cutPoints: string[];
  blocks: Block[];
  /** The full network: normalised input (N×H×W×C float) → logits (pre-softmax). */
  model: tf.LayersModel;
  inputShape: Shape3;
  /** Activation shape (H, W, C, no batch) at a cut point; unknown name → UsageError. */
  cutShape(cut: string): Shape3;
  /** Index of the block whose output is `cut` (unknown name → UsageError listing the valid ones). */
  blockIndex(cut: string): number;
  /** One eager forward pass returning the activations at the requested cuts and the logits. */
  forwardWithCuts(x: tf.Tensor4D, opts?: ForwardOptions): { activations: tf.Tensor4D[]; logits: tf.Tensor2D };
  dispose(): void;
}

export { scaledChannels } from './cut-points.js';

export function block(name: string, isCut: boolean, layers: tf.layers.Layer[], apply?: Block['apply']): Block {
  const chain = <T extends AnyTensor>(x: T, kwargs?: Kwargs): T => {
    let h: AnyTensor = x;
    for (const l of layers) h = l.apply(h as any, kwargs) as AnyTensor;
    return h as T;
  };
  return { name, isCut, layers, apply: apply ?? chain };
}

/** Sequentially compose blocks into a model from a fresh input of the given shape. */
export function composeModel(blocks: Block[], inputShape: Shape3, name: string): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: `${name}_input` });
  let h: tf.SymbolicTensor = input;
  for (const b of blocks) h = b.apply(h);
  return tf.model({ inputs: input, outputs: h, name });
}

export function unknownCut(cut: string, valid: string[], arch: string): UsageError {
  return new UsageError(`unknown cut point '${cut}' for ${arch}; valid cut points: ${valid.join(', ')}`);
}

/**
 * Assemble a Network from its blocks: builds the full model symbolically (which also checks every
 * feature map has a non-zero size), then initialises every weight from the seed.
 */
/** Building options: `initialise: false` leaves every weight at zero, for a caller that sets them all. */
export interface BuildOptions { initialise?: boolean }

export function assembleNetwork(spec: ResolvedModelSpec, blocks: Block[], seed: number, minInput: string, opts: BuildOptions = {}): Network {
  const inputShape: Shape3 = [spec.height, spec.width, spec.inputChannels];
  const input = tf.input({ shape: inputShape, name: `${spec.arch}_input` });
  const shapes = new Map<string, Shape3>();
  let h: tf.SymbolicTensor = input;
  for (const b of blocks) {
    h = b.apply(h);
    const s = h.shape.slice(1) as number[];
    if (s.some((d) => d !== null && d < 1)) {
      throw new UsageError(
        `input ${spec.height}×${spec.width} is too small for ${spec.arch}: the feature map after ${b.name} would be ` +
          `${s.join('×')}; ${spec.arch} needs at least ${minInput}`,
      );
    }
    if (b.isCut) shapes.set(b.name, s as Shape3);
  }
  const model = tf.model({ inputs: input, outputs: h, name: spec.arch });
  if (opts.initialise !== false) initWeights(model.layers, seed);
  const cutPoints = blocks.filter((b) => b.isCut).map((b) => b.name);
  const blockIndex = (cut: string) => {
    const i = blocks.findIndex((b) => b.isCut && b.name === cut);
    if (i < 0) throw unknownCut(cut, cutPoints, spec.arch);
    return i;
  };
  return {
    spec,
    cutPoints,
    blocks,
    model,
    inputShape,
    blockIndex,
    cutShape(cut) {
      blockIndex(cut);
      return [...shapes.get(cut)!] as Shape3;
    },
    forwardWithCuts(x, opts = {}) {
      const wanted = opts.cuts ?? cutPoints;
      const order = wanted.map(blockIndex);
      if (opts.perturb && opts.perturb.length !== wanted.length) {
        throw new Error(`forwardWithCuts: ${opts.perturb.length} perturbations for ${wanted.length} cuts`);
      }
      const slot = new Map(order.map((bi, k) => [bi, k]));
      const activations: tf.Tensor4D[] = new Array(wanted.length);
      let t: tf.Tensor = x;
      const kwargs = { training: opts.training ?? false };
      const reference = opts.readPoint === 'reference';
      for (let i = 0; i < blocks.length; i++) {
        const k = slot.get(i);
        const split = k !== undefined && reference ? blocks[i].referenceRead : undefined;
        t = split ? split.read(t, kwargs) : blocks[i].apply(t, kwargs);
        if (k !== undefined) {
          if (opts.perturb) t = tf.add(t, opts.perturb[k]);
          activations[k] = t as tf.Tensor4D;
        }
        if (split) t = split.finish(t, kwargs);
      }
      return { activations, logits: t as tf.Tensor2D };
    },
    dispose() {
      model.dispose();
    },
  };
}

/** Kernel shapes by layer kind, for the seeded initialisers below. */
function layerKind(l: tf.layers.Layer): string {
  return l.getClassName();
}

/**
 * Seeded initialisation, one independent stream per layer name (adding a layer never shifts the
 * others): convolutions Kaiming-normal (fan-out, ReLU gain) with zero bias; transposed
 * convolutions PyTorch's default U(±1/√fan_in), bias too; dense layers per the
 * layer's `denseInit` tag (VGG: N(0, 0.01); ResNet fc: U(±1/√fan_in)); batch norm γ=1, β=0,
 * moving mean 0, moving variance 1.
 */
export function initWeights(layers: tf.layers.Layer[], seed: number): void {
  for (const l of layers) {
    const ws = l.getWeights();
    if (ws.length === 0) continue;
    const rng = new Rng(deriveSeed(seed, l.name));
    const kind = layerKind(l);
    const fresh: tf.Tensor[] = [];
    for (let wi = 0; wi < ws.length; wi++) {
      const shape = ws[wi].shape as number[];
      const n = ws[wi].size;
      const name = l.weights[wi].originalName.split('/').pop()!;
      const v = new Float32Array(n);
      if (kind === 'Conv2D') {
        if (name === 'kernel') {
          // tfjs kernel [kh, kw, in, out]: Kaiming-normal, fan-out.
          const std = Math.sqrt(2 / (shape[0] * shape[1] * shape[3]));
          for (let i = 0; i < n; i++) v[i] = rng.normal() * std;
        }
      } else if (kind === 'Conv2DTranspose') {
        // PyTorch's default ConvTranspose2d init (the reference leaves it untouched): kernel and
        // bias U(±1/√fan_in), where PyTorch's fan_in of a transposed kernel is out·kh·kw
        // (tfjs kernel [kh, kw, out, in]).
        const [kh, kw, out] = ws[0].shape as [number, number, number, number];
        const bound = 1 / Math.sqrt(kh * kw * out);
        for (let i = 0; i < n; i++) v[i] = (rng.next() * 2 - 1) * bound;
      } else if (kind === 'Dense') {
        const fanIn = shape[0];
        const tag = (l as unknown as { seiDenseInit?: string }).seiDenseInit ?? 'normal0.01';
        if (tag === 'uniformFanIn') {
          const bound = 1 / Math.sqrt(name === 'kernel' ? fanIn : ws[0].shape[0]);
          for (let i = 0; i < n; i++) v[i] = (rng.next() * 2 - 1) * bound;
        } else if (name === 'kernel') {
          for (let i = 0; i < n; i++) v[i] = rng.normal() * 0.01;
        }
      } else if (kind === 'BatchNormalization') {
        if (name === 'gamma' || name === 'moving_variance') v.fill(1);
      } else {
        throw new Error(`initWeights: no initialiser for layer ${l.name} (${kind})`);
      }
      fresh.push(tf.tensor(v, shape));
    }
    l.setWeights(fresh);
    tf.dispose(fresh);
  }
}

/** Tag a dense layer with its initialiser (read by initWeights). */
export function tagDenseInit<L extends tf.layers.Layer>(l: L, tag: 'normal0.01' | 'uniformFanIn'): L {
  (l as unknown as { seiDenseInit?: string }).seiDenseInit = tag;
  return l;
}

/** Convolution and batch-norm settings shared by the architectures (PyTorch conventions). */
export const BN_ARGS = { momentum: 0.9, epsilon: 1e-5, axis: -1 } as const;
