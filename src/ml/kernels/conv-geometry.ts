// Geometry shared by the backward convolution kernels: the forward convolution's padding and
// output size, resolved the way the forward kernel resolved them.
import { backend_util } from '@tensorflow/tfjs';

export interface ConvGeometry {
  batch: number;
  inH: number; inW: number; inC: number;
  outH: number; outW: number; outC: number;
  fh: number; fw: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padLeft: number;
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

export function convGeometry(
  xShape: number[], filterShape: number[], strides: number | [number, number], pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined, dilations: number | [number, number] = 1,
): ConvGeometry {
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  return {
    batch: info.batchSize,
    inH: info.inHeight, inW: info.inWidth, inC: info.inChannels,
    outH: info.outHeight, outW: info.outWidth, outC: info.outChannels,
    fh: info.filterHeight, fw: info.filterWidth,
    strideH: info.strideHeight, strideW: info.strideWidth,
    dilationH: info.dilationHeight, dilationW: info.dilationWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

/** Explicit padding in the 4-D form the Conv2D kernel takes. */
export function explicitPad(top: number, bottom: number, left: number, right: number): backend_util.ExplicitPadding {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}
