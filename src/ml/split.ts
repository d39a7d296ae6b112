// Split a network at a named cut point and inject the bottleneck:
//   device = head (blocks up to the cut) + encoder;  server = decoder + tail (blocks after the cut).
// All models share the network's layer objects, so training any of them trains the same weights.
import type * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { buildBottleneck } from './bottleneck.js';
import { classifierLayerOf } from './models/index.js';
import { composeModel, initWeights, type Block, type Network, type Shape3 } from './models/network.js';
import type { BottleneckSpec, Regime } from './spec.js';

export interface SplitModel {
  network: Network;
  cut: string;
  bottleneck: BottleneckSpec;
  /** Activation shape at the cut (H, W, C). */
  cutShape: Shape3;
  /** Shape of the bottleneck code sent over the network (H, W, C). */
  codeShape: Shape3;
  headBlocks: Block[];
  encoderBlock: Block;
  decoderBlock: Block;
  tailBlocks: Block[];
  /** Input → cut activation. */
  head: tf.LayersModel;
  /** Cut activation → code. */
  encoder: tf.LayersModel;
  /** Code → reconstructed cut activation (exactly cutShape). */
  decoder: tf.LayersModel;
  /** Cut activation → logits. */
  tail: tf.LayersModel;
  /** Head + encoder: what runs on the device. */
  device: tf.LayersModel;
  /** Decoder + tail: what runs on the server. */
  server: tf.LayersModel;
  /** Input → head → encoder → decoder → tail → logits. */
  full: tf.LayersModel;
  /** Disposes the bottleneck's weights (the network's are the network's). */
  dispose(): void;
}

/**
 * Split `net` at `cut` (UsageError listing the valid names when unknown) and inject a bottleneck
 * with seeded weights (Kaiming-normal fan-out convolutions, zero bias, BN γ=1 β=0).
 */
export function splitModel(net: Network, cut: string, bottleneck: BottleneckSpec, opts: { seed?: number } = {}): SplitModel {
  const k = net.blockIndex(cut);
  const cutShape = net.cutShape(cut);
  const bn = buildBottleneck(cutShape, bottleneck, cut);
  const headBlocks = net.blocks.slice(0, k + 1);
  const tailBlocks = net.blocks.slice(k + 1);
  const head = composeModel(headBlocks, net.inputShape, 'head');
  const encoder = composeModel([bn.encoder], cutShape, 'encoder');
  const decoder = composeModel([bn.decoder], bn.codeShape, 'decoder');
  initWeights([...bn.encoder.layers, ...bn.decoder.layers], opts.seed ?? 0);
  const tail = composeModel(tailBlocks, cutShape, 'tail');
  const device = composeModel([...headBlocks, bn.encoder], net.inputShape, 'device');
  const server = composeModel([bn.decoder, ...tailBlocks], bn.codeShape, 'server');
  const full = composeModel([...headBlocks, bn.encoder, bn.decoder, ...tailBlocks], net.inputShape, 'split');
  return {
    network: net,
    cut,
    bottleneck,
    cutShape,
    codeShape: bn.codeShape,
    headBlocks,
    encoderBlock: bn.encoder,
    decoderBlock: bn.decoder,
    tailBlocks,
    head, encoder, decoder, tail, device, server, full,
    dispose() {
      for (const l of [...bn.encoder.layers, ...bn.decoder.layers]) if (l.built) l.dispose();
    },
  };
}

/** A slice of blocks run in sequence during training, in training mode (BN batch statistics) or not. */
export interface TrainPart {
  name: string;
  blocks: Block[];
  /** Training-mode forward (BN uses batch statistics and updates its moving averages). */
  trainingMode: boolean;
  /** Layers whose weights are updated (may be a subset of the part, e.g. only the classifier). */
  trainableLayers: tf.layers.Layer[];
}

const layersOf = (blocks: Block[]) => blocks.flatMap((b) => b.layers);

/** Training parts of a whole network: everything trains. */
export function networkParts(net: Network): TrainPart[] {
  return [{ name: 'network', blocks: net.blocks, trainingMode: true, trainableLayers: layersOf(net.blocks) }];
}

/**
 * Training parts of a split model under a freeze regime:
 *  - 'bottleneck': encoder + decoder train; head and tail are frozen (inference mode);
 *  - 'bottleneck+classifier': also the last FC layer (the tail still runs in inference mode,
 *    so frozen batch norms keep their statistics);
 *  - 'all': every part trains in training mode.
 * Also sets each layer's `trainable` flag to match, so the LayersModels report the same.
 */
export function splitParts(split: SplitModel, regime: Regime): TrainPart[] {
  const all = regime === 'all';
  const classifier = classifierLayerOf(split.network.spec.arch);
  const tailTrainable = all ? layersOf(split.tailBlocks)
    : regime === 'bottleneck+classifier' ? layersOf(split.tailBlocks).filter((l) => l.name === classifier)
    : regime === 'bottleneck' ? [] : undefined;
  if (tailTrainable === undefined) throw new UsageError(`unknown regime '${regime as string}'; expected bottleneck, bottleneck+classifier or all`);
  const parts: TrainPart[] = [
    { name: 'head', blocks: split.headBlocks, trainingMode: all, trainableLayers: all ? layersOf(split.headBlocks) : [] },
    { name: 'encoder', blocks: [split.encoderBlock], trainingMode: true, trainableLayers: split.encoderBlock.layers },
    { name: 'decoder', blocks: [split.decoderBlock], trainingMode: true, trainableLayers: split.decoderBlock.layers },
    { name: 'tail', blocks: split.tailBlocks, trainingMode: all, trainableLayers: tailTrainable },
  ];
  const trainable = new Set(parts.flatMap((p) => p.trainableLayers));
  for (const p of parts) for (const l of layersOf(p.blocks)) l.trainable = trainable.has(l);
  return parts;
}
