import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec, cutPointsOf, checkCutPoint, cutGradients, cutShapeOf, checkSplitSpec } from '../../src/ml/models/index.js';
import type { Arch } from '../../src/ml/spec.js';
import { isUsageError } from '../../src/util/errors.js';

const spec = (arch: Arch, size: number | [number, number], width: number, classes = 5, channels = 3) =>
  resolveModelSpec({ arch, inputSize: size, inputChannels: channels, classes, width });

describe('ml/models', function () {
  this.timeout(60_000);
  // The cpu backend for these shape and bookkeeping tests; the previous one is restored after.
  let previous = '';
  before(async () => { previous = tf.getBackend(); await tf.setBackend('cpu'); });
  after(async () => { if (previous) await tf.setBackend(previous); });

  it('VGG16 exposes its 18 cut points in forward order with the right shapes', () => {
    const net = buildNetwork(spec('vgg16', 64, 1 / 16), 0);
    assert.equal(net.cutPoints.length, 18);
    assert.deepEqual(net.cutPoints, cutPointsOf('vgg16'));
    assert.deepEqual(net.cutShape('block1_conv1'), [64, 64, 4]);
    assert.deepEqual(net.cutShape('block3_pool'), [8, 8, 16]);
    assert.deepEqual(net.cutShape('block5_pool'), [2, 2, 32]);
    // The classifier: flatten(2·2·32) → 256 → 256 → 5.
    assert.deepEqual(net.model.outputs[0].shape, [null, 5]);
    assert.equal(net.model.getLayer('fc1').getWeights()[0].shape[1], 256);
    net.dispose();
  });

  it('ResNet-50 v1.5 exposes its 18 cut points with PyTorch feature-map sizes (odd input)', () => {
    const net = buildNetwork(spec('resnet50', 33, 1 / 16), 0);
    assert.deepEqual(net.cutPoints, cutPointsOf('resnet50'));
    assert.equal(net.cutPoints.length, 18);
    // torchvision: conv1 ⌊(33+6−7)/2⌋+1 = 17, maxpool 9, layer2 5, layer3 3, layer4 2.
    assert.deepEqual(net.cutShape('conv1'), [17, 17, 4]);
    assert.deepEqual(net.cutShape('maxpool'), [9, 9, 4]);
    assert.deepEqual(net.cutShape('layer1_3'), [9, 9, 16]);
    assert.deepEqual(net.cutShape('layer2_1'), [5, 5, 32]);
    assert.deepEqual(net.cutShape('layer3_6'), [3, 3, 64]);
    assert.deepEqual(net.cutShape('layer4_3'), [2, 2, 128]);
    // v1.5: the stride is in the 3×3 conv, the first 1×1 keeps the resolution.
    const c1 = net.model.getLayer('layer2_1_conv1') as unknown as { strides: number[] };
    const c2 = net.model.getLayer('layer2_1_conv2') as unknown as { strides: number[] };
    assert.deepEqual(c1.strides, [1, 1]);
    assert.deepEqual(c2.strides, [2, 2]);
    net.dispose();
  });

  it('full-width ResNet-50 has the published parameter count', () => {
    const net = buildNetwork(spec('resnet50', 32, 1, 1000), 0);
    // torchvision resnet50: 25,557,032 parameters; plus BN moving statistics (non-trainable here).
    const trainable = net.model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
    assert.equal(trainable, 25_557_032);
    net.dispose();
  });

  it('forwardWithCuts returns every cut activation and the same logits as the model', () => {
    for (const arch of ['vgg16', 'resnet50'] as Arch[]) {
      const net = buildNetwork(spec(arch, 32, 1 / 16), 3);
      tf.tidy(() => {
        const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
        const { activations, logits } = net.forwardWithCuts(x);
        assert.equal(activations.length, 18);
        activations.forEach((a, i) => assert.deepEqual(a.shape.slice(1), net.cutShape(net.cutPoints[i])));
        const ref = net.model.predict(x) as tf.Tensor;
        assert.ok(tf.max(tf.abs(tf.sub(ref, logits))).dataSync()[0] < 1e-5);
        const some = net.forwardWithCuts(x, { cuts: ['block2_pool', 'layer2_1'].filter((c) => net.cutPoints.includes(c)) });
        assert.equal(some.activations.length, 1);
      });
      net.dispose();
    }
  });

  it('forwardWithCuts works inside tf.grads (gradients of a logit w.r.t. cut activations)', () => {
    const net = buildNetwork(spec('vgg16', 32, 1 / 16), 1);
    tf.tidy(() => {
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const cuts = ['block3_conv1', 'block5_pool'];
      const zeros = cuts.map((c) => tf.zeros([1, ...net.cutShape(c)]));
      const g = tf.grads((...eps: tf.Tensor[]) => net.forwardWithCuts(x, { cuts, perturb: eps }).logits.slice([0, 2], [1, 1]).sum())(zeros);
      assert.deepEqual(g[0].shape, [1, 8, 8, 16]);
      assert.deepEqual(g[1].shape, [1, 1, 1, 32]);
      assert.ok(tf.sum(tf.abs(g[1])).dataSync()[0] > 0);
    });
    net.dispose();
  });

  it('cutGradients: activations and per-image gradients of the target logit at every cut', () => {
    const net = buildNetwork(spec('resnet50', 32, 1 / 16), 2);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    // Warm-up: tfjs-layers caches a few scalars on first use.
    const warm = cutGradients(net, x, 'predicted');
    tf.dispose([warm.activations, warm.gradients, warm.logits]);
    const before = tf.memory().numTensors;
    const r = cutGradients(net, x, Int32Array.from([1, 3]));
    assert.equal(r.activations.length, 18);
    assert.equal(r.gradients.length, 18);
    r.gradients.forEach((g, i) => assert.deepEqual(g.shape, r.activations[i].shape));
    // Image 0's gradient at the last cut equals the one computed for image 0 alone.
    const x0 = x.slice([0], [1]) as tf.Tensor4D;
    const alone = cutGradients(net, x0, Int32Array.from([1]), ['layer4_3']);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(r.gradients[17].slice([0], [1]), alone.gradients[0]))).dataSync()[0]);
    assert.ok(d < 1e-5, `${d}`);
    // For the last cut, the gradient of fc(avgpool(A)) is W[:, c] / (H·W) everywhere.
    const w = net.model.getLayer('fc').getWeights()[0];
    const [h, ww] = net.cutShape('layer4_3');
    const expected = tf.tidy(() => tf.div(w.slice([0, 3], [-1, 1]).reshape([-1]), h * ww));
    const got = tf.tidy(() => r.gradients[17].slice([1, 0, 0, 0], [1, 1, 1, -1]).reshape([-1]));
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(expected, got))).dataSync()[0]) < 1e-6);
    const p = cutGradients(net, x, 'predicted', ['conv1']);
    assert.deepEqual(Array.from(p.targets), Array.from(tf.tidy(() => tf.argMax(r.logits, 1).dataSync())));
    tf.dispose([r.activations, r.gradients, r.logits, alone.activations, alone.gradients, alone.logits, p.activations, p.gradients, p.logits, expected, got, x0]);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    net.dispose();
  });

  it('analytic cut shapes (no tfjs, for the planner) equal the built networks', () => {
    for (const [arch, h, w, width] of [['vgg16', 32, 32, 1 / 16], ['vgg16', 45, 70, 0.3], ['resnet50', 33, 33, 0.3], ['resnet50', 29, 64, 1 / 16]] as [Arch, number, number, number][]) {
      const net = buildNetwork(spec(arch, [h, w], width), 0);
      for (const cut of net.cutPoints) assert.deepEqual(cutShapeOf(arch, cut, h, w, width), net.cutShape(cut), `${arch} ${h}×${w} w${width} ${cut}`);
      net.dispose();
    }
    assert.deepEqual(checkSplitSpec('vgg16', 'block1_pool', 1 / 16, 7), []);
    // C = 4: round(4/8) = round(0.5) = 0 with Python's rounding (the reference's f).
    assert.match(checkSplitSpec('vgg16', 'block1_pool', 1 / 16, 8)[0], /0 channels at block1_pool/);
    assert.match(checkSplitSpec('resnet50', 'layer9', 1, 8)[0], /valid cut points: conv1/);
    assert.match(checkSplitSpec('vgg16', 'block1_pool', 1, 8, 16, 16)[0], /too small/);
  });

  it('same seed gives the same weights, another seed different ones', () => {
    const a = buildNetwork(spec('resnet50', 32, 1 / 16), 5);
    const b = buildNetwork(spec('resnet50', 32, 1 / 16), 5);
    const c = buildNetwork(spec('resnet50', 32, 1 / 16), 6);
    const wa = a.model.getLayer('layer3_2_conv2').getWeights()[0].dataSync();
    assert.deepEqual(wa, b.model.getLayer('layer3_2_conv2').getWeights()[0].dataSync());
    assert.notDeepEqual(wa, c.model.getLayer('layer3_2_conv2').getWeights()[0].dataSync());
    [a, b, c].forEach((n) => n.dispose());
  });

  describe('bad input', () => {
    const usage = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isUsageError(e) && re.test((e as Error).message));
    it('unknown cut name lists the valid ones', () => {
      usage(() => checkCutPoint('vgg16', 'block6_pool'), /unknown cut point 'block6_pool'.*block1_conv1, block1_conv2.*block5_pool/);
      const net = buildNetwork(spec('resnet50', 32, 1 / 16), 0);
      usage(() => net.cutShape('layer5_1'), /valid cut points: conv1, maxpool, layer1_1/);
      net.dispose();
    });
    it('a width multiplier that leaves a layer with zero channels', () => {
      usage(() => buildNetwork(spec('vgg16', 32, 0.005), 0), /width 0\.005 leaves layer block1_conv1 of vgg16 with 0 channels/);
      usage(() => buildNetwork(spec('resnet50', 32, 0.001), 0), /leaves layer conv1 of resnet50 with 0 channels/);
    });
    it('an input too small for the pools', () => {
      usage(() => buildNetwork(spec('vgg16', 31, 1 / 16), 0), /input 31×31 is too small for vgg16.*block5_pool.*at least 32×32/);
      usage(() => buildNetwork(spec('vgg16', [64, 16], 1 / 16), 0), /too small/);
    });
    it('a model spec that contradicts the dataset', () => {
      usage(() => resolveModelSpec({ arch: 'vgg16', inputSize: 64, width: 1 }, { classes: 3, height: 32, width: 32, channels: 3 }), /inputSize 64×64 but the dataset is 32×32/);
    });
  });
});
