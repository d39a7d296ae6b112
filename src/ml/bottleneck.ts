// The I-SPLIT bottleneck injected at a cut of shape H×W×C, as the reference code builds it
// (arithmetic in bottleneck-geometry.ts):
//   encoder (device): ZeroPadding(1) → Conv(C→f, 3×3, s2) → BN → ReLU → ZeroPadding(1) → Conv(f→e·f, 3×3, s2) → BN → ReLU
//   decoder (server): ConvT(e·f→f, 3×3, s2) → Crop → BN → ReLU → ConvT(f→C, 3×3, s2) → Crop
// with f = round(C / ratio) (Python's rounding), e = expansion. The explicit padding is PyTorch's
// padding=1 (one row on every side; a 'same' convolution would pad bottom/right only). Each
// transposed convolution is 'valid' (2n+1 rows) followed by a crop of one row at the top and
// 1 − output_padding at the bottom: exactly PyTorch's ConvTranspose2d(padding=1,
// output_padding=op), so code row i comes back at row 2i and the decoder's output is H×W×C.
// Only standard Keras layers, so the split model saves, loads and exports as any other.
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { block, composeModel, BN_ARGS, type Block, type Shape3 } from './models/network.js';
import type { BottleneckSpec } from './spec.js';
import { batchNormalization } from './models/batch-norm.js';
import { bottleneckGeometry, type BottleneckGeometry } from './bottleneck-geometry.js';

export { bottleneckFilters, codeSize } from './bottleneck-geometry.js';

export const ENCODER_PREFIX = 'bottleneck_enc';
export const DECODER_PREFIX = 'bottleneck_dec';

export interface Bottleneck {
  encoder: Block;
  decoder: Block;
  /** f = round(C / ratio). */
  filters: number;
  /** Shape of the transmitted code (H, W, C). */
  codeShape: Shape3;
  geometry: BottleneckGeometry;
}

export function buildBottleneck(cutShape: Shape3, spec: BottleneckSpec, cut?: string): Bottleneck {
  const C = cutShape[2];
  const g = bottleneckGeometry(cutShape, spec, cut);
  const f = g.filters;
  const conv = (name: string, filters: number) =>
    tf.layers.conv2d({ name, filters, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: 'zeros' });
  const convT = (name: string, filters: number) =>
    tf.layers.conv2dTranspose({ name, filters, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: 'zeros' });
  // PyTorch's padding=1 with output_padding=op removes 1 row at the top and 1 − op at the bottom.
  const crop = (name: string, layer: 0 | 1) => tf.layers.cropping2D({
    name, cropping: [[1, 1 - g.outputPadding.rows[layer]], [1, 1 - g.outputPadding.cols[layer]]],
  });
  const bn = (name: string) => batchNormalization({ name, ...BN_ARGS, gammaInitializer: 'ones', movingVarianceInitializer: 'ones' });
  const relu = (name: string) => tf.layers.activation({ name, activation: 'relu' });
  const e = ENCODER_PREFIX;
  const encoder = block('encoder', false, [
    tf.layers.zeroPadding2d({ name: `${e}_pad1`, padding: 1 }), conv(`${e}_conv1`, f), bn(`${e}_bn1`), relu(`${e}_relu1`),
    tf.layers.zeroPadding2d({ name: `${e}_pad2`, padding: 1 }), conv(`${e}_conv2`, g.codeChannels), bn(`${e}_bn2`), relu(`${e}_relu2`),
  ]);
  const d = DECODER_PREFIX;
  const decoder = block('decoder', false, [
    convT(`${d}_convt1`, f), crop(`${d}_crop1`, 0), bn(`${d}_bn1`), relu(`${d}_relu1`),
    convT(`${d}_convt2`, C), crop(`${d}_crop2`, 1),
  ]);
  return { encoder, decoder, filters: f, codeShape: g.codeShape, geometry: g };
}

export { composeModel };
