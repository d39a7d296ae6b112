// Gradient definitions replacing tfjs-core's where the stock one is slow on every backend. Same
// mathematics; registered globally (gradients are not per backend).
import { broadcastTo, div, registerGradient, reshape, util, backend_util, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs';

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

let done = false;
export function registerFastGradients(): void {
  if (done) return;
  registerGradient(meanGradConfig);
  done = true;
}
