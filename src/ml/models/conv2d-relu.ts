// A Conv2D layer with bias and ReLU whose training step stays fused (kernels/conv-relu-train.ts):
// one convolution kernel forward, one masked-sum pass and the two convolution gradients backward,
// where tfjs-core unfuses the op whenever a tape records it (conv, bias add, ReLU forward; Step,
// Multiply, Sum backward). Same class name, config and weights as tf.layers.conv2d, so saved
// models are unchanged. Anything else (another activation, no bias, dilation, channels first,
// output channels not a multiple of 4, a backend without the kernel) is the stock layer.
import * as tf from '@tensorflow/tfjs';
import { CONV_BIAS_RELU } from '../kernels/conv-relu-train.js';
import { Conv2DLayer, type Conv2DArgs, type Conv2DFields } from './stock-conv2d.js';

class FusedTrainingConv2D extends Conv2DLayer {
  static className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const f = this as unknown as Conv2DFields;
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs);
    const fusable = f.activation?.getClassName() === 'relu' && f.bias !== null && f.dataFormat === 'channelsLast' &&
      f.dilationRate.every((d) => d === 1) && f.filters % 4 === 0 && x.rank === 4 && x.dtype === 'float32' &&
      tf.getKernel(CONV_BIAS_RELU, tf.getBackend()) !== undefined;
    if (!fusable) return super.call(inputs, kwargs);
    return tf.engine().runKernel(CONV_BIAS_RELU, { x, filter: f.kernel.read(), bias: f.bias!.read() },
      { strides: f.strides, pad: f.padding, dataFormat: 'NHWC', dilations: [1, 1] } as never) as tf.Tensor;
  }
}

/** tf.layers.conv2d, with the fused training step for bias + ReLU where the backend has it. */
export function conv2dRelu(args: Conv2DArgs & { activation: 'relu' }): tf.layers.Layer {
  return new FusedTrainingConv2D(args);
}
