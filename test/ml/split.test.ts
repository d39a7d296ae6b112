import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { splitModel, splitParts } from '../../src/ml/split.js';
import { isUsageError } from '../../src/util/errors.js';
import type { Arch } from '../../src/ml/spec.js';

const spec = (arch: Arch, size: number | [number, number], width: number) =>
  resolveModelSpec({ arch, inputSize: size, inputChannels: 3, classes: 4, width });
const BN = { ratio: 8, expansion: 2 };

describe('ml/split', function () {
  this.timeout(60_000);
  // The cpu backend for these shape and bookkeeping tests; the previous one is restored after.
  let previous = '';
  before(async () => { previous = tf.getBackend(); await tf.setBackend('cpu'); });
  after(async () => { if (previous) await tf.setBackend(previous); });

  const cases: [Arch, number | [number, number], number][] = [
    ['vgg16', 32, 1 / 8], ['vgg16', 64, 1 / 8], ['vgg16', 224, 1 / 8], ['vgg16', 37, 1 / 8], ['vgg16', [45, 70], 1 / 8],
    ['resnet50', 32, 1 / 8], ['resnet50', 64, 1 / 8], ['resnet50', 29, 1 / 8], ['resnet50', [35, 50], 1 / 8],
  ];
  for (const [arch, size, width] of cases) {
    it(`decoder output equals the cut shape at every cut point: ${arch} ${JSON.stringify(size)}`, () => {
      const net = buildNetwork(spec(arch, size, width), 0);
      for (const cut of net.cutPoints) {
        const s = splitModel(net, cut, BN);
        const [H, W, C] = s.cutShape;
        assert.deepEqual(s.head.outputs[0].shape, [null, H, W, C], cut);
        assert.deepEqual(s.decoder.outputs[0].shape, [null, H, W, C], `${arch} ${cut}`);
        assert.deepEqual(s.codeShape, [Math.ceil(H / 4), Math.ceil(W / 4), 2 * Math.round(C / 8)], cut);
        assert.deepEqual(s.full.outputs[0].shape, [null, 4]);
        s.dispose();
      }
      net.dispose();
    });
  }

  it('the split pipeline runs eagerly and shares the network weights', () => {
    const net = buildNetwork(spec('resnet50', 33, 1 / 8), 0);
    const s = splitModel(net, 'layer2_2', BN, { seed: 1 });
    tf.tidy(() => {
      const x = tf.randomNormal([2, 33, 33, 3], 0, 1, 'float32', 1);
      const a = s.head.predict(x) as tf.Tensor;
      const { activations } = net.forwardWithCuts(x as tf.Tensor4D, { cuts: ['layer2_2'] });
      assert.ok(tf.max(tf.abs(tf.sub(a, activations[0]))).dataSync()[0] < 1e-5);
      const code = s.encoder.predict(a) as tf.Tensor;
      assert.deepEqual(code.shape, [2, ...s.codeShape]);
      const y1 = s.tail.predict(s.decoder.predict(code) as tf.Tensor) as tf.Tensor;
      const y2 = s.full.predict(x) as tf.Tensor;
      const y3 = s.server.predict(s.device.predict(x) as tf.Tensor) as tf.Tensor;
      assert.ok(tf.max(tf.abs(tf.sub(y1, y2))).dataSync()[0] < 1e-5);
      assert.ok(tf.max(tf.abs(tf.sub(y3, y2))).dataSync()[0] < 1e-5);
    });
    s.dispose();
    net.dispose();
  });

  it('freeze regimes select what trains', () => {
    const net = buildNetwork(spec('vgg16', 32, 1 / 8), 0);
    const s = splitModel(net, 'block3_pool', BN);
    const count = (layers: tf.layers.Layer[]) => layers.length;
    let p = splitParts(s, 'bottleneck');
    assert.deepEqual(p.map((x) => count(x.trainableLayers)), [0, s.encoderBlock.layers.length, s.decoderBlock.layers.length, 0]);
    assert.equal(s.head.trainableWeights.length, 0);
    assert.equal(s.tail.trainableWeights.length, 0);
    p = splitParts(s, 'bottleneck+classifier');
    assert.deepEqual(p[3].trainableLayers.map((l) => l.name), ['predictions']);
    assert.equal(p[3].trainingMode, false);
    assert.equal(s.tail.trainableWeights.length, 2);
    p = splitParts(s, 'all');
    assert.ok(p.every((x) => x.trainingMode));
    assert.equal(s.full.trainableWeights.length, net.model.trainableWeights.length + 14);
    s.dispose();
    net.dispose();
  });

  it('bad input: unknown cut, ratio leaving zero channels', () => {
    const net = buildNetwork(spec('vgg16', 32, 1 / 16), 0);
    assert.throws(() => splitModel(net, 'pool3', BN), (e: unknown) => isUsageError(e) && /valid cut points: block1_conv1/.test((e as Error).message));
    assert.throws(() => splitModel(net, 'block1_conv1', { ratio: 16, expansion: 2 }), (e: unknown) => isUsageError(e) && /0 channels at block1_conv1/.test((e as Error).message));
    net.dispose();
  });
});
