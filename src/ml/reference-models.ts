// The two reference models of the engine benchmark, in tfjs layers (NHWC), layer for layer as the
// PyTorch reference script defines them (src/ml/torch_reference.py, a copy of the shared one):
//   ref-cnn      32x32x3 -> conv3x3(32)+ReLU -> BN -> maxpool2 -> conv3x3(64)+ReLU -> maxpool2
//                -> conv3x3(128)+ReLU -> global average pool -> dense(10)
//   vgg16-w0.25  VGG16 configuration D with every width x0.25 (16,16 | 32,32 | 64x3 | 128x3 |
//                128x3 'same' 3x3 convs + ReLU, 2x2 max pools; FC 1024-1024-10), input 32x32x3
// Weights are initialised like PyTorch's defaults (uniform ±1/sqrt(fan_in) for weights and biases)
// so that losses start on the same scale; throughput does not depend on it.
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './models/batch-norm.js';
import { conv2dRelu } from './models/conv2d-relu.js';

export const REFERENCE_MODELS = ['ref-cnn', 'vgg16-w0.25'] as const;
export type ReferenceModelName = (typeof REFERENCE_MODELS)[number];

export interface ReferenceModelOptions { resolution?: number; classes?: number; seed?: number }

/** PyTorch's default init: kaiming_uniform(a=√5) = U(±1/√fan_in) for the weight, same bound for the bias. */
function torchInit(fanIn: number, seed: number) {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed }),
    biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seed + 1 }),
  };
}

function conv(name: string, inC: number, filters: number, seed: number): tf.layers.Layer {
  return conv2dRelu({
    name, filters, kernelSize: 3, padding: 'same', activation: 'relu', ...torchInit(inC * 9, seed),
  });
}

function dense(name: string, inUnits: number, units: number, activation: 'relu' | 'linear', seed: number): tf.layers.Layer {
  return tf.layers.dense({ name, units, activation, ...torchInit(inUnits, seed) });
}

export function refCnn(opts: ReferenceModelOptions = {}): tf.Sequential {
  const res = opts.resolution ?? 32, classes = opts.classes ?? 10, seed = opts.seed ?? 0;
  const m = tf.sequential({ name: 'ref-cnn' });
  m.add(tf.layers.inputLayer({ inputShape: [res, res, 3] }));
  m.add(conv('conv1', 3, 32, seed + 10));
  // PyTorch BatchNorm2d: eps 1e-5, running-average momentum 0.1 (tfjs counts it the other way).
  m.add(batchNormalization({ name: 'bn1', axis: -1, epsilon: 1e-5, momentum: 0.9 }));
  m.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }));
  m.add(conv('conv2', 32, 64, seed + 20));
  m.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }));
  m.add(conv('conv3', 64, 128, seed + 30));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(dense('fc', 128, classes, 'linear', seed + 40));
  return m;
}

export function vgg16W025(opts: ReferenceModelOptions = {}): tf.Sequential {
  const res = opts.resolution ?? 32, classes = opts.classes ?? 10, seed = opts.seed ?? 0, width = 0.25;
  const cfg: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];
  const m = tf.sequential({ name: 'vgg16-w0.25' });
  m.add(tf.layers.inputLayer({ inputShape: [res, res, 3] }));
  let c = 3, i = 0, p = 0;
  for (const v of cfg) {
    if (v === 'M') {
      m.add(tf.layers.maxPooling2d({ name: `pool${++p}`, poolSize: 2, strides: 2 }));
    } else {
      const wv = Math.floor(v * width);
      m.add(conv(`conv${++i}`, c, wv, seed + 10 * i));
      c = wv;
    }
  }
  const fc = Math.floor(4096 * width);
  const side = Math.floor(res / 32);
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(dense('fc1', c * side * side, fc, 'relu', seed + 500));
  m.add(dense('fc2', fc, fc, 'relu', seed + 510));
  m.add(dense('fc3', fc, classes, 'linear', seed + 520));
  return m;
}

export function buildReferenceModel(name: ReferenceModelName, opts: ReferenceModelOptions = {}): tf.Sequential {
  return name === 'ref-cnn' ? refCnn(opts) : vgg16W025(opts);
}
