// ResNet-50 v1.5: the stride-2 of a downsampling bottleneck block sits in its 3×3 convolution
// (torchvision's layout). Convolutions have no bias and are followed by batch norm (PyTorch
// momentum 0.1 → Keras momentum 0.9, ε = 1e-5). Padding is explicit (zero-padding layers, then
// 'valid' convolutions) so feature maps align exactly as in PyTorch for any input size; the stem's
// max pool never selects its padding, as PyTorch's. Every cut point is a block output after its
// ReLU: conv1 (stem conv+BN+ReLU), maxpool, layerX_Y (with readPoint 'reference', conv1 is read as
// the raw convolution, as the reference code does).
import * as tf from '@tensorflow/tfjs';
import type { ResolvedModelSpec } from '../spec.js';
import { RESNET50_CUT_POINTS, RESNET50_EXPANSION, RESNET50_LAYOUT } from './cut-points.js';
import { inputConv2d } from './input-conv.js';
import { batchNormalization } from './batch-norm.js';
import { paddingAwareMaxPooling2d } from './max-pool.js';
import {
  assembleNetwork, block, scaledChannels, tagDenseInit, BN_ARGS,
  type AnyTensor, type Block, type BuildOptions, type Kwargs, type Network,
} from './network.js';

const LAYOUT = RESNET50_LAYOUT;
const EXPANSION = RESNET50_EXPANSION;
export { RESNET50_CUT_POINTS };

const conv = (name: string, filters: number, kernelSize: number, strides = 1) =>
  tf.layers.conv2d({ name, filters, kernelSize, strides, padding: 'valid', useBias: false, kernelInitializer: 'zeros' });
const bn = (name: string) =>
  batchNormalization({ name, ...BN_ARGS, gammaInitializer: 'ones', movingVarianceInitializer: 'ones' });
const relu = (name: string) => tf.layers.activation({ name, activation: 'relu' });
const pad = (name: string, p: number) => tf.layers.zeroPadding2d({ name, padding: p });

function bottleneckBlock(name: string, inCh: number, planes: number, stride: number): Block {
  const out = planes * EXPANSION;
  const main = [
    conv(`${name}_conv1`, planes, 1), bn(`${name}_bn1`), relu(`${name}_relu1`),
    pad(`${name}_pad2`, 1), conv(`${name}_conv2`, planes, 3, stride), bn(`${name}_bn2`), relu(`${name}_relu2`),
    conv(`${name}_conv3`, out, 1), bn(`${name}_bn3`),
  ];
  const down = stride !== 1 || inCh !== out ? [conv(`${name}_down_conv`, out, 1, stride), bn(`${name}_down_bn`)] : [];
  const add = tf.layers.add({ name: `${name}_add` });
  const outRelu = relu(name);
  const apply = <T extends AnyTensor>(x: T, kwargs?: Kwargs): T => {
    let h: AnyTensor = x;
    for (const l of main) h = l.apply(h as any, kwargs) as AnyTensor;
    let skip: AnyTensor = x;
    for (const l of down) skip = l.apply(skip as any, kwargs) as AnyTensor;
    return outRelu.apply(add.apply([h, skip] as any, kwargs) as any, kwargs) as T;
  };
  return block(name, true, [...main, ...down, add, outRelu], apply);
}

export function buildResnet50(spec: ResolvedModelSpec, seed = 0, opts: BuildOptions = {}): Network {
  const w = spec.widthMultiplier;
  const stem = scaledChannels(64, w, 'conv1', 'resnet50');
  // The stem reads the input: inputConv2d keeps backprop from computing the input's gradient.
  const stemConv = [pad('conv1_pad', 3),
    inputConv2d({ name: 'conv1_conv', filters: stem, kernelSize: 7, strides: 2, padding: 'valid', useBias: false, kernelInitializer: 'zeros' })];
  const stemRest = [bn('conv1_bn'), relu('conv1')];
  const chain = (layers: tf.layers.Layer[]) => (x: tf.Tensor, kwargs?: Kwargs) =>
    layers.reduce((h, l) => l.apply(h, kwargs) as tf.Tensor, x);
  const blocks: Block[] = [
    // The reference code reads conv1 as the raw convolution, before BN+ReLU.
    { ...block('conv1', true, [...stemConv, ...stemRest]), referenceRead: { read: chain(stemConv), finish: chain(stemRest) } },
    // PyTorch's MaxPool2d(3, 2, padding=1): the padding is never selected (see max-pool.ts).
    block('maxpool', true, [pad('maxpool_pad', 1), paddingAwareMaxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, paddedBorder: 1 })]),
  ];
  let inCh = stem;
  LAYOUT.forEach((l, i) => {
    const planes = scaledChannels(l.planes, w, `layer${i + 1}_1_conv1`, 'resnet50');
    for (let j = 0; j < l.blocks; j++) {
      blocks.push(bottleneckBlock(`layer${i + 1}_${j + 1}`, inCh, planes, j === 0 ? l.stride : 1));
      inCh = planes * EXPANSION;
    }
  });
  blocks.push(
    block('classifier', false, [
      tf.layers.globalAveragePooling2d({ name: 'avgpool' }),
      tagDenseInit(tf.layers.dense({ name: 'fc', units: spec.classes, kernelInitializer: 'zeros' }), 'uniformFanIn'),
    ]),
  );
  return assembleNetwork(spec, blocks, seed, '1×1', opts);
}

export const RESNET50_CLASSIFIER_LAYER = 'fc';
