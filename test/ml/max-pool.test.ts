// The ResNet stem's max pool never selects its padding (PyTorch pads with −∞): on a map of zeros
// (a ReLU output) every window's gradient reaches a real element, where zero padding loses the
// border windows' gradient into the padding.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { paddingAwareMaxPooling2d } from '../../src/ml/models/max-pool.js';

describe('ml/models: padding-aware max pool (ResNet stem)', function () {
  let previous = '';
  before(async () => { previous = tf.getBackend(); await tf.setBackend('cpu'); });
  after(async () => { if (previous) await tf.setBackend(previous); });

  const poolGrad = (pool: tf.layers.Layer, x: tf.Tensor4D) => tf.tidy(() => {
    const pad = tf.layers.zeroPadding2d({ padding: 1 });
    const f = (t: tf.Tensor) => tf.sum(pool.apply(pad.apply(t) as tf.Tensor) as tf.Tensor);
    return { y: (pool.apply(pad.apply(x) as tf.Tensor) as tf.Tensor).arraySync() as number[][][][], g: Array.from(tf.grad(f)(x).dataSync() as Float32Array) };
  });

  it('routes every window to a real element, and equals PyTorch values on signed inputs', () => {
    const zeros = tf.zeros([1, 8, 8, 2]) as tf.Tensor4D;
    const mine = poolGrad(paddingAwareMaxPooling2d({ poolSize: 3, strides: 2, paddedBorder: 1 }), zeros);
    const stock = poolGrad(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' }), zeros);
    const windows = 4 * 4 * 2;
    assert.equal(mine.g.reduce((a, b) => a + b, 0), windows, 'all 32 windows reach the map');
    assert.ok(stock.g.reduce((a, b) => a + b, 0) < windows, 'zero padding loses the border windows');
    // Negative inputs: the padding (−∞) is never the maximum.
    const neg = tf.fill([1, 4, 4, 1], -3) as tf.Tensor4D;
    const y = poolGrad(paddingAwareMaxPooling2d({ poolSize: 3, strides: 2, paddedBorder: 1 }), neg).y;
    assert.deepEqual(y, [[[[-3], [-3]], [[-3], [-3]]]]);
    tf.dispose([zeros, neg]);
  });

  it('serialises as the stock MaxPooling2D', () => {
    const a = paddingAwareMaxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, paddedBorder: 1 });
    assert.equal(a.getClassName(), 'MaxPooling2D');
    assert.deepEqual(a.getConfig(), tf.layers.maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 'valid' }).getConfig());
  });
});
