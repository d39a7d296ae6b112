// Gradient definitions replacing tfjs-core's where the stock one is slow on every backend. Same
// mathematics; registered globally (gradients are not per backend).
import {
  add, broadcastTo, div, getGradient, mul, neg, registerGradient, reshape, rsqrt, scalar, sub, sum, util, backend_util,
  type GradConfig, type NamedAttrMap, type Tensor,
} from '@tensorflow/tfjs';

/**
 * Mean: dx = dy / |reduced| broadcast to x's shape. The stock gradient multiplies by
 * `ones(x.shape)`, which builds a JavaScript array of the activation's size on every step.
 */
export const meanGradConfig: GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [Tensor];
    const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const [, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const reduceSize = util.sizeFromShape(reduceShape);
    const expanded = x.shape.slice();
    for (const a of axes) expanded[a] = 1;
    return { x: () => broadcastTo(div(reshape(dy as Tensor, expanded), reduceSize), x.shape) };
  },
};

/** tfjs-core's FusedBatchNorm gradient, captured before ours replaces it (statistics that are not per channel). */
let stockBatchNormGrad: GradConfig | undefined;

/**
 * FusedBatchNorm with per-channel (rank-1) statistics. With r = 1/sqrt(variance + ε), every
 * derivative except x's is a per-channel product of r, scale and two reductions, Σdy and
 * Σdy·(x − mean); only x's is a full-size broadcast product. The stock gradient makes about
 * fourteen activation-sized passes per step (a tiled r, dy·scale, and a separate product and sum
 * per derivative); this one makes five.
 */
export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dyIn: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const perChannel = mean.rank === 1 && variance.rank === 1 && (scale == null || scale.rank === 1) && x.rank >= 1;
    if (!perChannel) return stockBatchNormGrad!.gradFunc(dyIn, saved, attrs);
    const dy = dyIn as Tensor;
    const eps = attrs.varianceEpsilon as number;
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    // Computed here, not inside the per-input closures: each closure runs in its own tidy, so
    // reductions shared between them would be disposed after the first use.
    const r = rsqrt(add(variance, scalar(eps)));
    const rs = scale == null ? r : mul(r, scale);
    const sumDy = sum(dy, axes);
    const sumDyXm = sum(mul(dy, sub(x, mean)), axes);
    return {
      x: () => mul(dy, rs),
      mean: () => reshape(mul(neg(rs), sumDy), mean.shape),
      variance: () => reshape(mul(mul(mul(mul(r, r), rs), scalar(-0.5)), sumDyXm), mean.shape),
      scale: () => reshape(mul(r, sumDyXm), mean.shape),
      offset: () => reshape(sumDy, mean.shape),
    };
  },
};

/** The replaced tfjs-core FusedBatchNorm gradient (for tests comparing against it). */
export function stockFusedBatchNormGrad(): GradConfig | undefined {
  return stockBatchNormGrad;
}

let done = false;
export function registerFastGradients(): void {
  if (done) return;
  registerGradient(meanGradConfig);
  stockBatchNormGrad = getGradient('FusedBatchNorm');
  registerGradient(fusedBatchNormGradConfig);
  done = true;
}
