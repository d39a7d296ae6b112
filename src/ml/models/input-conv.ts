// A Conv2D layer for a convolution that reads the network's input. tfjs-layers computes a
// convolution without activation through the fused op, whose gradient computes the input's
// gradient eagerly, even when nothing needs it (the input is data, not a variable): for the
// ResNet stem (7×7, stride 2, three channels) that was the most expensive kernel of a training
// step. This layer is the same Conv2D (class name, config and weights, so saved models are
// unchanged) computed by the unfused conv2d op, whose gradient is taken only where it is needed.
import * as tf from '@tensorflow/tfjs';
import { Conv2DLayer, type Conv2DArgs, type Conv2DFields } from './stock-conv2d.js';

class InputConv2D extends Conv2DLayer {
  static className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const f = this as unknown as Conv2DFields;
      if (f.dataFormat !== 'channelsLast') throw new Error('InputConv2D supports channels-last data only');
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      let y: tf.Tensor = tf.conv2d(x, f.kernel.read(), f.strides, f.padding, 'NHWC', f.dilationRate);
      if (f.bias) y = tf.add(y, f.bias.read());
      return f.activation ? f.activation.apply(y) : y;
    });
  }
}

/** tf.layers.conv2d for the layer that reads the network input (see above). */
export function inputConv2d(args: Conv2DArgs): tf.layers.Layer {
  return new InputConv2D(args);
}
