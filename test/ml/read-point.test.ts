// readPoint 'reference': the scoring pass reads VGG convolutions before their ReLU and ResNet conv1
// before BN+ReLU, from the same weights, without changing the logits or the built model.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('models: read points', function () {
  this.timeout(60_000);
  before(async () => { await tf.setBackend('cpu'); });

  for (const arch of ['vgg16', 'resnet50'] as const) {
    it(`${arch}: the reference read point differs only where the reference code reads before the activation`, () => {
      const net = buildNetwork(resolveModelSpec({ arch, inputSize: 32, inputChannels: 3, classes: 4, width: 0.125 }), 1);
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const post = net.forwardWithCuts(x);
      const ref = net.forwardWithCuts(x, { readPoint: 'reference' });
      assert.ok(maxAbsDiff(post.logits, ref.logits) < 1e-5, 'logits changed');
      const differs = arch === 'vgg16' ? (c: string) => /_conv\d$/.test(c) : (c: string) => c === 'conv1';
      net.cutPoints.forEach((cut, i) => {
        const a = post.activations[i]!, r = ref.activations[i]!;
        if (!differs(cut)) { assert.equal(maxAbsDiff(a, r), 0, `${cut} should be the same tensor`); return; }
        assert.ok(r.min().dataSync()[0]! < 0, `${cut}: the reference read point should hold negative (pre-activation) values`);
        if (arch === 'vgg16') assert.ok(maxAbsDiff(tf.relu(r), a) < 1e-5, `${cut}: ReLU of the reference read is not the layer output`);
      });
      if (arch === 'resnet50') {
        // conv1 read raw: the stem convolution alone, from the model's own layers.
        const raw = net.model.getLayer('conv1_conv').apply(net.model.getLayer('conv1_pad').apply(x)) as tf.Tensor;
        assert.ok(maxAbsDiff(raw, ref.activations[0]!) < 1e-5);
      }
      // The trained model keeps its fused convolution + ReLU.
      if (arch === 'vgg16') assert.equal((net.model.getLayer('block1_conv1').getConfig() as { activation: string }).activation, 'relu');
      net.dispose();
    });
  }
});
