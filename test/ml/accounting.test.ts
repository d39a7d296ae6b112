import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { splitModel } from '../../src/ml/split.js';
import {
  accountSplit, modelCost, toFloat16Bits, fromFloat16Bits, roundFloat16, quantizeInt8, dequantizeInt8,
  quantizeDequantize, splitLogitsFn,
} from '../../src/ml/accounting.js';

describe('ml/accounting', function () {
  this.timeout(60_000);
  // The cpu backend for these shape and bookkeeping tests; the previous one is restored after.
  let previous = '';
  before(async () => { previous = tf.getBackend(); await tf.setBackend('cpu'); });
  after(async () => { if (previous) await tf.setBackend(previous); });

  it('full-width ResNet-50 at 224: 4.1 G multiply-accumulates, 25.6 M parameters', () => {
    const net = buildNetwork(resolveModelSpec({ arch: 'resnet50', inputSize: 224, inputChannels: 3, classes: 1000, width: 1 }), 0);
    const c = modelCost(net.model);
    const macs = c.layers.filter((l) => l.kind === 'Conv2D' || l.kind === 'Dense')
      .reduce((a, l) => {
        const layer = net.model.getLayer(l.name);
        const cfg = layer.getConfig() as { useBias?: boolean };
        const out = l.outputShape.reduce((x, y) => x * y, 1);
        return a + (l.flops - (cfg.useBias === false ? 0 : out)) / 2;
      }, 0);
    assert.ok(macs > 4.08e9 && macs < 4.13e9, `MACs ${macs}`);
    // Trainable 25,557,032 plus 53,120 BN moving statistics.
    assert.equal(c.params, 25_557_032 + 53_120);
    net.dispose();
  });

  it('accounts a VGG16 split: payload, FLOPs, parameters and device peak memory', () => {
    const net = buildNetwork(resolveModelSpec({ arch: 'vgg16', inputSize: 32, inputChannels: 3, classes: 5, width: 1 / 16 }), 0);
    const s = splitModel(net, 'block1_pool', { ratio: 2, expansion: 2 });
    const a = accountSplit(s);
    assert.deepEqual(a.cutShape, [16, 16, 4]);
    assert.deepEqual(a.codeShape, [4, 4, 4]);
    assert.equal(a.payload.rawElements, 1024);
    assert.deepEqual(a.payload.bytes.raw, { fp32: 4096, fp16: 2048, int8: 1028 });
    assert.deepEqual(a.payload.bytes.bottleneck, { fp32: 256, fp16: 128, int8: 68 });
    const conv1 = 2 * 32 * 32 * 4 * 9 * 3 + 2 * 32 * 32 * 4;
    const conv2 = 2 * 32 * 32 * 4 * 9 * 4 + 2 * 32 * 32 * 4;
    const pool = 16 * 16 * 4 * 4;
    const enc = (2 * 8 * 8 * 2 * 9 * 4 + 8 * 8 * 2) + 2 * 8 * 8 * 2 + 8 * 8 * 2 + (2 * 4 * 4 * 4 * 9 * 2 + 4 * 4 * 4) + 2 * 4 * 4 * 4 + 4 * 4 * 4;
    assert.equal(a.device.flops, conv1 + conv2 + pool + enc);
    assert.equal(a.device.params, (9 * 3 * 4 + 4) + (9 * 4 * 4 + 4) + (9 * 4 * 2 + 2) + 4 * 2 + (9 * 2 * 4 + 4) + 4 * 4);
    assert.equal(a.device.params + a.server.params, modelCost(s.full).params);
    assert.equal(a.device.flops + a.server.flops, modelCost(s.full).flops);
    // Peak: block1_conv1's output and block1_conv2's output both live: 2 × 32·32·4 floats.
    assert.equal(a.device.peakActivationBytes, 2 * 32 * 32 * 4 * 4);
    s.dispose();
    net.dispose();
  });

  it('peak memory counts a live skip connection', () => {
    const input = tf.input({ shape: [8, 8, 1] });
    const conv = (f: number) => tf.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same' });
    const c1 = conv(4).apply(input) as tf.SymbolicTensor;
    const c3 = conv(4).apply(conv(8).apply(c1)) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: tf.layers.add().apply([c1, c3]) as tf.SymbolicTensor });
    // While c3 is computed, c1 (256, kept for the add), c2 (512) and c3 (256) are live.
    assert.equal(modelCost(m).peakActivationBytes, (256 + 512 + 256) * 4);
    m.dispose();
  });

  it('float16 round trip: nearest even, subnormals, overflow', () => {
    assert.equal(fromFloat16Bits(toFloat16Bits(1)), 1);
    assert.equal(fromFloat16Bits(toFloat16Bits(1 / 3)), 0.333251953125);
    assert.equal(fromFloat16Bits(toFloat16Bits(65504)), 65504);
    assert.equal(fromFloat16Bits(toFloat16Bits(70000)), Infinity);
    assert.equal(fromFloat16Bits(toFloat16Bits(2 ** -24)), 2 ** -24);
    assert.equal(fromFloat16Bits(toFloat16Bits(1e-8)), 0);
    assert.equal(fromFloat16Bits(toFloat16Bits(1 + 2 ** -11)), 1); // tie → even
    assert.equal(fromFloat16Bits(toFloat16Bits(-2.5)), -2.5);
    const r = roundFloat16(Float32Array.from([0.1, 100.3]));
    assert.ok(Math.abs(r[0] - 0.1) < 1e-4 && Math.abs(r[1] - 100.3) < 0.05);
  });

  it('int8 with one fp32 scale: error within half a step', () => {
    const v = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i) * 3);
    const { q, scale } = quantizeInt8(v);
    const back = dequantizeInt8(q, scale);
    assert.ok(Math.abs(scale - 3 * Math.max(...Array.from(v, Math.abs)) / 3 / 127) < 1e-6);
    v.forEach((x, i) => assert.ok(Math.abs(x - back[i]) <= scale / 2 + 1e-6));
    assert.deepEqual(Array.from(dequantizeInt8(quantizeInt8(new Float32Array(3)).q, 1)), [0, 0, 0]);
  });

  it('quantise→dequantise per image and split logits after transmission', () => {
    const t = tf.tensor([[1, 2], [100, -50]]);
    const q = quantizeDequantize(t, 'int8').arraySync() as number[][];
    assert.ok(Math.abs(q[0][1] - 2) < 1e-6 && Math.abs(q[1][0] - 100) < 1e-4);
    const net = buildNetwork(resolveModelSpec({ arch: 'vgg16', inputSize: 32, inputChannels: 3, classes: 5, width: 1 / 16 }), 0);
    const s = splitModel(net, 'block2_pool', { ratio: 2, expansion: 2 });
    tf.tidy(() => {
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1);
      const ref = s.full.predict(x) as tf.Tensor;
      const f32 = splitLogitsFn(s, 'fp32')(x);
      const f16 = splitLogitsFn(s, 'fp16')(x);
      assert.ok(tf.max(tf.abs(tf.sub(ref, f32))).dataSync()[0] < 1e-6);
      assert.ok(tf.max(tf.abs(tf.sub(ref, f16))).dataSync()[0] < 1e-2);
      const raw = splitLogitsFn(s, 'fp32', 'raw')(x);
      assert.ok(tf.max(tf.abs(tf.sub(net.model.predict(x) as tf.Tensor, raw))).dataSync()[0] < 1e-6);
    });
    tf.dispose([t]);
    s.dispose();
    net.dispose();
  });
});
