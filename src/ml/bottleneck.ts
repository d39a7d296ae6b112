// The I-SPLIT bottleneck injected at a cut of shape H×W×C (reference-code defaults):
//   encoder (device): Conv(C→f, 3×3, s2, p1) → BN → ReLU → Conv(f→e·f, 3×3, s2, p1) → BN → ReLU
//   decoder (server): ConvT(e·f→f, 3×3, s2) → BN → ReLU → ConvT(f→C, 3×3, s2) → crop to H×W×C
// with f = round(C / ratio), e = expansion. The code is e·f × ⌈H/4⌉ × ⌈W/4⌉. The decoder's raw
// output is 4⌈H/4⌉+3 ≥ H+3 rows, so it is always cropped (centred: the extra row goes to the
// bottom/right) to exactly H×W, for any H and W.
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { block, composeModel, BN_ARGS, type Block, type Shape3 } from './models/network.js';
import type { BottleneckSpec } from './spec.js';
import { batchNormalization } from './models/batch-norm.js';

export const ENCODER_PREFIX = 'bottleneck_enc';
export const DECODER_PREFIX = 'bottleneck_dec';

export interface Bottleneck {
  encoder: Block;
  decoder: Block;
  /** f = round(C / ratio). */
  filters: number;
  /** Shape of the transmitted code (H, W, C). */
  codeShape: Shape3;
}

export function bottleneckFilters(cutShape: Shape3, spec: BottleneckSpec, cut = 'the cut'): number {
  const C = cutShape[2];
  const f = Math.round(C / spec.ratio);
  if (f < 1) {
    throw new UsageError(
      `bottleneck.ratio ${spec.ratio} leaves the encoder with 0 channels at ${cut} (C = ${C}, round(${C}/${spec.ratio}) = 0); ` +
        `use ratio ≤ ${(C / 0.5).toPrecision(3)}`,
    );
  }
  return f;
}

/** The code's spatial size: two stride-2, pad-1, 3×3 convolutions. */
export function codeSize(n: number): number {
  const once = (m: number) => Math.floor((m + 2 - 3) / 2) + 1;
  return once(once(n));
}

export function buildBottleneck(cutShape: Shape3, spec: BottleneckSpec, cut?: string): Bottleneck {
  const [H, W, C] = cutShape;
  const f = bottleneckFilters(cutShape, spec, cut);
  const code = f * spec.expansion;
  const conv = (name: string, filters: number) =>
    tf.layers.conv2d({ name, filters, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: 'zeros' });
  const convT = (name: string, filters: number) =>
    tf.layers.conv2dTranspose({ name, filters, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: 'zeros' });
  const bn = (name: string) => batchNormalization({ name, ...BN_ARGS, gammaInitializer: 'ones', movingVarianceInitializer: 'ones' });
  const relu = (name: string) => tf.layers.activation({ name, activation: 'relu' });
  const e = ENCODER_PREFIX;
  const encoder = block('encoder', false, [
    tf.layers.zeroPadding2d({ name: `${e}_pad1`, padding: 1 }), conv(`${e}_conv1`, f), bn(`${e}_bn1`), relu(`${e}_relu1`),
    tf.layers.zeroPadding2d({ name: `${e}_pad2`, padding: 1 }), conv(`${e}_conv2`, code), bn(`${e}_bn2`), relu(`${e}_relu2`),
  ]);
  const h = codeSize(H);
  const w = codeSize(W);
  const outH = 2 * (2 * h + 1) + 1;
  const outW = 2 * (2 * w + 1) + 1;
  const d = DECODER_PREFIX;
  const fit: tf.layers.Layer[] = [];
  if (outH !== H || outW !== W) {
    // Always a crop (outH ≥ H + 3); the general form is kept should the layout ever change.
    const crop = (out: number, want: number): [number, number] => {
      const extra = Math.max(out - want, 0);
      return [Math.floor(extra / 2), extra - Math.floor(extra / 2)];
    };
    if (outH < H || outW < W) throw new Error(`decoder output ${outH}×${outW} smaller than the cut ${H}×${W}`);
    fit.push(tf.layers.cropping2D({ name: `${d}_crop`, cropping: [crop(outH, H), crop(outW, W)] }));
  }
  const decoder = block('decoder', false, [
    convT(`${d}_convt1`, f), bn(`${d}_bn1`), relu(`${d}_relu1`), convT(`${d}_convt2`, C), ...fit,
  ]);
  return { encoder, decoder, filters: f, codeShape: [h, w, code] };
}

export { composeModel };
