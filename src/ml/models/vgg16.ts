// VGG16, configuration D (13 convolutions, no batch norm), classifier FC 4096-4096-C with
// Dropout(0.5) after each hidden layer (torchvision's; active in training only); all widths
// scaled by the width multiplier. Layer names follow Keras' VGG16 (block1_conv1 … predictions), so
// a Keras-converted model's weights map by name. Each convolution's output is read after its
// ReLU, as Keras defines the layer (or before it, with readPoint 'reference'); pooling is 2×2/2 'valid' (floor), so the input must be ≥ 32.
import * as tf from '@tensorflow/tfjs';
import type { ResolvedModelSpec } from '../spec.js';
import { VGG16_CUT_POINTS, VGG16_STAGES } from './cut-points.js';
import { seededDropout } from './dropout.js';
import { conv2dRelu } from './conv2d-relu.js';
import { assembleNetwork, block, scaledChannels, tagDenseInit, type Block, type BuildOptions, type Network } from './network.js';

export { VGG16_CUT_POINTS };

export function buildVgg16(spec: ResolvedModelSpec, seed = 0, opts: BuildOptions = {}): Network {
  const w = spec.widthMultiplier;
  const blocks: Block[] = [];
  VGG16_STAGES.forEach(([base, convs], s) => {
    const filters = scaledChannels(base, w, `block${s + 1}_conv1`, 'vgg16');
    for (let c = 1; c <= convs; c++) {
      const name = `block${s + 1}_conv${c}`;
      const conv = conv2dRelu({
        name, filters, kernelSize: 3, padding: 'same', activation: 'relu',
        kernelInitializer: 'zeros', biasInitializer: 'zeros',
      });
      blocks.push({ ...block(name, true, [conv]), referenceRead: beforeRelu(conv) });
    }
    const pool = tf.layers.maxPooling2d({ name: `block${s + 1}_pool`, poolSize: 2, strides: 2, padding: 'valid' });
    blocks.push(block(`block${s + 1}_pool`, true, [pool]));
  });
  const fc = scaledChannels(4096, w, 'fc1', 'vgg16');
  const classifier = [
    tf.layers.flatten({ name: 'flatten' }),
    tagDenseInit(tf.layers.dense({ name: 'fc1', units: fc, activation: 'relu', kernelInitializer: 'zeros' }), 'normal0.01'),
    seededDropout({ name: 'fc1_dropout', rate: 0.5, seed }),
    tagDenseInit(tf.layers.dense({ name: 'fc2', units: fc, activation: 'relu', kernelInitializer: 'zeros' }), 'normal0.01'),
    seededDropout({ name: 'fc2_dropout', rate: 0.5, seed }),
    tagDenseInit(tf.layers.dense({ name: 'predictions', units: spec.classes, kernelInitializer: 'zeros' }), 'normal0.01'),
  ];
  blocks.push(block('classifier', false, classifier));
  return assembleNetwork(spec, blocks, seed, '32×32 (five 2×2 poolings)', opts);
}

/**
 * The convolution's output before its ReLU, from the same (fused conv+ReLU) layer's weights: the
 * reference code's read point. Only scoring uses it; training keeps the fused layer.
 */
function beforeRelu(conv: tf.layers.Layer): NonNullable<Block['referenceRead']> {
  return {
    read: (x) => {
      const [kernel, bias] = conv.getWeights();
      return tf.add(tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same'), bias!);
    },
    finish: (t) => tf.relu(t),
  };
}

/** Name of the last (classification) layer: trainable in the 'bottleneck+classifier' regime. */
export const VGG16_CLASSIFIER_LAYER = 'predictions';
