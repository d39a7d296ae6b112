// Max pooling that never selects padding, as PyTorch's MaxPool2d(padding=p) (it pads with −∞).
// The saved form stays the standard pair ZeroPadding2D(p) → MaxPooling2D('valid'), which gives
// the same forward values on non-negative inputs (the ResNet stem pools a ReLU output). What
// zero padding gets wrong is the gradient: a window whose real values are all 0 has its maximum
// in the padding too, and tfjs routes the gradient there, so it never reaches the map. This
// layer knows its input's border of width p is padding: it replaces that border by −∞ before
// pooling, so the maximum and the gradient always land on a real element.
import * as tf from '@tensorflow/tfjs';

type PoolArgs = Parameters<typeof tf.layers.maxPooling2d>[0];
type LayerConstructor = new (args: PoolArgs) => tf.layers.Layer;

/** tfjs-layers' MaxPooling2D class (not exported by name). */
const MaxPooling2DLayer = (tf.layers.maxPooling2d({ poolSize: 2 }) as unknown as { constructor: LayerConstructor }).constructor;

class PaddingAwareMaxPooling2D extends MaxPooling2DLayer {
  static className = 'MaxPooling2D';
  /** Width of the input's border that is padding (not serialised: a reloaded layer is the stock one). */
  paddedBorder = 0;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const p = this.paddedBorder;
    if (p === 0) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
      const [, h, w] = x.shape;
      const inner = tf.slice(x, [0, p, p, 0], [-1, h - 2 * p, w - 2 * p, -1]);
      const padded = tf.pad(inner, [[0, 0], [p, p], [p, p], [0, 0]], -Infinity);
      return super.call(padded, kwargs);
    });
  }
}

/**
 * MaxPooling2D('valid') over an input whose border of `paddedBorder` rows and columns is padding
 * (put there by a ZeroPadding2D just before): PyTorch's max pooling with that padding.
 */
export function paddingAwareMaxPooling2d(args: PoolArgs & { paddedBorder: number }): tf.layers.Layer {
  const { paddedBorder, ...pool } = args;
  const layer = new PaddingAwareMaxPooling2D({ ...pool, padding: 'valid' });
  layer.paddedBorder = paddedBorder;
  return layer;
}

/** The border a max pooling layer treats as padding (0 for a stock MaxPooling2D). */
export function paddedBorderOf(layer: tf.layers.Layer): number {
  return layer instanceof PaddingAwareMaxPooling2D ? layer.paddedBorder : 0;
}
