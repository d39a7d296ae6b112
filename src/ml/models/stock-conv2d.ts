// tfjs-layers' Conv2D class and the fields the project's subclasses of it read (input-conv.ts,
// conv2d-relu.ts). Both keep the class name, config and weights, so saved models are unchanged.
import * as tf from '@tensorflow/tfjs';

export type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];
type LayerConstructor = new (args: Conv2DArgs) => tf.layers.Layer;

/** tfjs-layers' Conv2D class (not exported by name). */
export const Conv2DLayer = (tf.layers.conv2d({ filters: 1, kernelSize: 1 }) as unknown as { constructor: LayerConstructor }).constructor;

/** The fields of Conv2D the subclasses read (protected in tfjs-layers' typings). */
export interface Conv2DFields {
  kernel: { read(): tf.Tensor4D };
  bias: { read(): tf.Tensor1D } | null;
  filters: number;
  strides: [number, number];
  padding: 'valid' | 'same';
  dilationRate: [number, number];
  dataFormat: 'channelsLast' | 'channelsFirst';
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string } | null;
}
