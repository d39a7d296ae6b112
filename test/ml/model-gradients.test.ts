// Whole-model gradients of the paper architectures on wasm (every fast kernel in play: Winograd,
// direct and GEMM paths, strided input gradients, fused batch norm, padding layers) against the
// cpu backend's reference kernels: the same network, weights and batch, one loss.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { rand } from './kernel-check.js';

/** The loss and the gradient of every trainable weight, in training mode, on `backend`. */
async function gradients(arch: 'vgg16' | 'resnet50', size: number, batch: number, backend: string): Promise<{ loss: number; grads: Float32Array[] }> {
  await tf.setBackend(backend);
  const net = buildNetwork(resolveModelSpec({ arch, inputSize: size, inputChannels: 3, classes: 4, width: 0.125 }), 7);
  try {
    return tf.tidy(() => {
      const x = tf.tensor(rand(batch * size * size * 3, 5), [batch, size, size, 3]);
      const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 4), 'int32'), 4);
      const vars = net.model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, net.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
      return { loss: value.dataSync()[0]!, grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array) };
    });
  } finally {
    net.dispose();
  }
}

describe('whole-model gradients on wasm match the cpu backend', function () {
  this.timeout(120000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  // ResNet at 64×64 and batch 4: with 32×32 and two images its last stage normalises each channel
  // over two values, where batch norm amplifies any rounding difference ~20× through the network
  // (with tfjs's own layers as much as with the fused ones).
  for (const [arch, size, batch] of [['vgg16', 32, 2], ['resnet50', 64, 4]] as const) {
    it(`${arch} (width 0.125, ${size}x${size}, batch ${batch}): loss and every weight's gradient`, async () => {
      const ref = await gradients(arch, size, batch, 'cpu');
      await tf.setBackend('wasm');
      const idsBefore = tf.engine().backend.numDataIds();
      const got = await gradients(arch, size, batch, 'wasm');
      // Every kernel of the forward and backward pass released what it allocated in wasm memory.
      assert.equal(tf.engine().backend.numDataIds(), idsBefore);
      assert.ok(Math.abs(got.loss - ref.loss) < 1e-4 * Math.max(1, Math.abs(ref.loss)), `loss ${got.loss} vs ${ref.loss}`);
      assert.equal(got.grads.length, ref.grads.length);
      // Judged by L2 norms, not value by value: a pre-activation within float32 noise of zero may
      // take the other side of a ReLU on the other backend and move every gradient below it
      // (measured: one such value among 4,096 in ResNet's layer4 moves the whole gradient by 1.2e-2).
      // A wrong kernel moves gradients by their own size.
      let diff = 0, norm = 0;
      got.grads.forEach((g, i) => {
        let d = 0, r = 0;
        for (let j = 0; j < g.length; j++) { d += (g[j]! - ref.grads[i]![j]!) ** 2; r += ref.grads[i]![j]! ** 2; }
        diff += d;
        norm += r;
        assert.ok(Math.sqrt(d / Math.max(r, 1e-30)) < 0.25, `weight ${i}: relative L2 error ${Math.sqrt(d / r)}`);
      });
      assert.ok(Math.sqrt(diff / norm) < 0.05, `whole gradient: relative L2 error ${Math.sqrt(diff / norm)}`);
    });
  }
});
