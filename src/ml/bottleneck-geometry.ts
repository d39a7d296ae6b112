// The arithmetic of the I-SPLIT bottleneck, without TensorFlow.js (the planner uses it): channel
// count, code shape, and which transposed convolutions of the decoder drop their output padding.
//
// The reference decoder is two ConvTranspose(3×3, stride 2, padding 1, output_padding 1) layers:
// each an exact 2× upsampling aligned with the encoder's grid (the encoder reads input row 2i at
// code row i; the decoder writes code row i back at row 2i). Its output is 4·⌈⌈H/2⌉/2⌉ rows, which
// is H only when H is a multiple of 4. Otherwise the reference tries fixes in a fixed order until
// the output has the cut's shape; for a square map the first that fits sets output_padding 0 on
//   H ≡ 2 (mod 4): the first layer,  H ≡ 3: the second,  H ≡ 1: both
// (its padding-0 variants never come first). When H and W need different fixes no single attempt
// of the reference fits; here each axis then takes its own fix (the map still comes back aligned).

import { UsageError } from '../util/errors.js';

/** A feature map's height, width and channels (the cut points' Shape3, declared here so the
 * two modules need not import each other). */
type Shape3 = [number, number, number];

/** Python's round() on a float: to the nearest integer, ties to the even one (round(2.5) = 2). */
export function roundHalfEven(x: number): number {
  const lower = Math.floor(x);
  const diff = x - lower;
  if (diff < 0.5) return lower;
  if (diff > 0.5) return lower + 1;
  return lower % 2 === 0 ? lower : lower + 1;
}

/** Size after the encoder's Conv(3×3, stride 2, padding 1): ⌈n/2⌉. */
export const encodedOnce = (n: number): number => Math.floor((n + 2 - 3) / 2) + 1;

/** The code's spatial size: two stride-2, pad-1, 3×3 convolutions. */
export function codeSize(n: number): number {
  return encodedOnce(encodedOnce(n));
}

/** Output padding (0 or 1) of the decoder's two transposed convolutions along one axis. */
export type OutputPadding = [first: number, second: number];

/**
 * The reference's output paddings for an axis of n rows (see the header): the first of its
 * attempts whose output has n rows. Every n ≥ 1 has one.
 */
export function decoderOutputPadding(n: number): OutputPadding {
  const full = 4 * codeSize(n);
  switch (full - n) {
    case 0: return [1, 1];
    case 1: return [1, 0];
    case 2: return [0, 1];
    case 3: return [0, 0];
    default: throw new Error(`decoderOutputPadding: no fix for ${n} rows (code ${codeSize(n)})`);
  }
}

/** Rows out of ConvTranspose(3×3, stride 2, padding 1, output_padding op) on n rows. */
export const upsampledSize = (n: number, outputPadding: number): number => (n - 1) * 2 - 2 + 3 + outputPadding;

export interface BottleneckGeometry {
  /** f = round(C / ratio), Python's rounding. */
  filters: number;
  /** Channels of the code: expansion · f. */
  codeChannels: number;
  codeShape: Shape3;
  /** Output paddings of the decoder's two transposed convolutions, per axis. */
  outputPadding: { rows: OutputPadding; cols: OutputPadding };
  /** Elements at the cut (H·W·C) and in the code. */
  cutElements: number;
  codeElements: number;
  /** True when the code is smaller than the tensor at the cut. */
  compresses: boolean;
}

export interface BottleneckShapeSpec { ratio: number; expansion: number }

export function bottleneckFilters(cutShape: Shape3, spec: BottleneckShapeSpec, cut = 'the cut'): number {
  const C = cutShape[2];
  const f = roundHalfEven(C / spec.ratio);
  if (f < 1) {
    throw new UsageError(
      `bottleneck.ratio ${spec.ratio} leaves the encoder with 0 channels at ${cut} (C = ${C}, round(${C}/${spec.ratio}) = 0); ` +
        `use ratio < ${(C / 0.5).toPrecision(3)}`,
    );
  }
  return f;
}

export function bottleneckGeometry(cutShape: Shape3, spec: BottleneckShapeSpec, cut?: string): BottleneckGeometry {
  const [H, W, C] = cutShape;
  const filters = bottleneckFilters(cutShape, spec, cut);
  const codeChannels = filters * spec.expansion;
  const codeShape: Shape3 = [codeSize(H), codeSize(W), codeChannels];
  const cutElements = H * W * C;
  const codeElements = codeShape[0] * codeShape[1] * codeChannels;
  return {
    filters, codeChannels, codeShape,
    outputPadding: { rows: decoderOutputPadding(H), cols: decoderOutputPadding(W) },
    cutElements, codeElements, compresses: codeElements < cutElements,
  };
}

/** The warning for a cut whose bottleneck code is not smaller than the tensor at the cut. */
export function noCompressionMessage(cut: string, cutShape: Shape3, g: BottleneckGeometry, spec: BottleneckShapeSpec): string {
  return `the bottleneck at ${cut} compresses nothing: its code ${g.codeShape.join('×')} (${g.codeElements} values) is not smaller ` +
    `than the tensor at the cut ${cutShape.join('×')} (${g.cutElements} values) with ratio ${spec.ratio} and expansion ${spec.expansion}; ` +
    `use a larger input or a larger bottleneck.ratio`;
}
