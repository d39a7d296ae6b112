// The ONNX halves against the project's split model, on ONNX Runtime: head then tail give the
// same logits as the split model (through the same payload quantisation) at every cut point of
// VGG16 and ResNet-50, at reduced width and resolution.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { splitModel, type SplitModel } from '../../src/ml/split.js';
import { quantizeInt8, splitLogitsFn, type Precision } from '../../src/ml/accounting.js';
import { headOnnx, tailOnnx, wholeOnnx } from '../../src/export/onnx/halves.js';
import { unsupportedLayers } from '../../src/export/onnx/convert.js';
import { onnx } from '../../src/export/onnx/graph.js';
import { isUsageError } from '../../src/util/errors.js';
import { fileIOHandler } from '../../src/ml/io.js';
import { Rng } from '../../src/util/random.js';
import { relativeError, runOnnx as runOrt } from '../../src/export/ort.js';
import type { Arch } from '../../src/ml/spec.js';
import type { Network } from '../../src/ml/models/network.js';

const META = { producerVersion: 'test' };

/** Non-trivial weights everywhere: biases and batch-norm statistics too (the builders zero them). */
function perturbWeights(layers: tf.layers.Layer[], seed: number): void {
  const rng = new Rng(seed);
  for (const l of layers) {
    const ws = l.getWeights();
    if (ws.length === 0) continue;
    const next = l.weights.map((w, i) => {
      const name = w.originalName.split('/').pop()!;
      const n = ws[i]!.size;
      const v = new Float32Array(n);
      const old = ws[i]!.dataSync();
      for (let k = 0; k < n; k++) {
        if (name === 'moving_variance') v[k] = 0.5 + rng.next();
        else if (name === 'gamma') v[k] = 0.5 + rng.next();
        else if (name === 'moving_mean' || name === 'beta' || name === 'bias') v[k] = (rng.next() - 0.5) * 0.2;
        else v[k] = old[k]!;
      }
      return tf.tensor(v, ws[i]!.shape);
    });
    l.setWeights(next);
    tf.dispose(next);
  }
}

function makeNetwork(arch: Arch, size: number, width: number, seed = 3): Network {
  const net = buildNetwork(resolveModelSpec({ arch, inputSize: size, inputChannels: 3, classes: 5, width }), seed);
  perturbWeights(net.model.layers, seed + 100);
  return net;
}

function makeSplit(net: Network, cut: string, seed = 4): SplitModel {
  const split = splitModel(net, cut, { ratio: 4, expansion: 2 }, { seed });
  perturbWeights([...split.encoderBlock.layers, ...split.decoderBlock.layers], seed + 200);
  return split;
}

/** Head then tail on ONNX Runtime; returns the logits and the payload. */
async function runHalves(split: SplitModel, x: tf.Tensor, precision: Precision) {
  const head = headOnnx(split.device, precision, META);
  const tail = tailOnnx(split.server, precision, META);
  const input = new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape);
  const sent = await runOrt(head, { input });
  const received = await runOrt(tail, sent);
  return { logits: received.logits!.data as Float32Array, payload: sent.payload!, scale: sent.scale, logitsDims: received.logits!.dims };
}

describe('export/onnx: head and tail on ONNX Runtime match the split model', function () {
  this.timeout(240_000);
  let previous = '';
  before(async () => { previous = tf.getBackend(); await tf.setBackend('cpu'); });
  after(async () => { if (previous) await tf.setBackend(previous); });

  const archs: { arch: Arch; size: number; width: number; quantised: string[] }[] = [
    { arch: 'vgg16', size: 32, width: 1 / 16, quantised: ['block1_conv2', 'block3_pool', 'block5_conv3'] },
    { arch: 'resnet50', size: 32, width: 1 / 16, quantised: ['maxpool', 'layer2_1', 'layer4_3'] },
  ];
  for (const { arch, size, width, quantised } of archs) {
    it(`${arch}: every cut point, fp32 payload; int8 and fp16 at ${quantised.join(', ')}`, async () => {
      const net = makeNetwork(arch, size, width);
      const x = tf.randomNormal([2, size, size, 3], 0, 1, 'float32', 7);
      try {
        for (const cut of net.cutPoints) {
          const split = makeSplit(net, cut);
          try {
            const precisions: Precision[] = quantised.includes(cut) ? ['fp32', 'int8', 'fp16'] : ['fp32'];
            for (const precision of precisions) {
              const ref = tf.tidy(() => splitLogitsFn(split, precision)(x));
              const want = ref.dataSync() as Float32Array;
              const got = await runHalves(split, x, precision);
              assert.deepEqual(got.logitsDims, [2, 5], `${cut} ${precision}: logits shape`);
              const err = relativeError(got.logits, want);
              assert.ok(err <= 1e-4, `${arch} ${cut} ${precision}: relative error ${err.toExponential(2)} > 1e-4`);
              assert.deepEqual(got.payload.dims, [2, ...split.codeShape], `${cut}: payload shape`);
              assert.equal(got.payload.type, precision === 'fp32' ? 'float32' : precision === 'fp16' ? 'float16' : 'int8');
              if (precision === 'int8') {
                // The int8 payload is the evaluate stage's quantisation of the device output.
                const code = tf.tidy(() => split.device.predict(x) as tf.Tensor);
                const per = code.size / 2;
                const data = code.dataSync() as Float32Array;
                code.dispose();
                for (let n = 0; n < 2; n++) {
                  const { q, scale } = quantizeInt8(data.subarray(n * per, (n + 1) * per));
                  const gotQ = (got.payload.data as Int8Array).subarray(n * per, (n + 1) * per);
                  let off = 0;
                  for (let i = 0; i < per; i++) if (Math.abs(gotQ[i]! - q[i]!) > 0) off++;
                  assert.ok(off <= per * 1e-3, `${cut}: ${off} of ${per} int8 values differ`);
                  assert.ok(Math.abs((got.scale!.data as Float32Array)[n]! - scale) <= 1e-6 * scale, `${cut}: scale`);
                }
              }
              ref.dispose();
            }
          } finally {
            split.dispose();
          }
        }
      } finally {
        x.dispose();
        net.dispose();
      }
    });

    it(`${arch}: the whole network in one graph matches`, async () => {
      const net = makeNetwork(arch, size, width);
      const x = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', 8);
      try {
        const want = tf.tidy(() => (net.model.predict(x) as tf.Tensor).dataSync() as Float32Array);
        const out = await runOrt(wholeOnnx(net.model, META), { input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
        const err = relativeError(out.logits!.data as Float32Array, want);
        assert.ok(err <= 1e-4, `relative error ${err}`);
      } finally {
        x.dispose();
        net.dispose();
      }
    });
  }

  it('resnet50: the TF.js halves written to files reload with stock TensorFlow.js and agree', async () => {
    const net = makeNetwork('resnet50', 32, 1 / 16);
    const split = makeSplit(net, 'layer2_1');
    const dir = mkdtempSync(join(tmpdir(), 'sei-tfjs-halves-'));
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 12);
    try {
      await split.device.save(fileIOHandler(join(dir, 'head', 'model.json')));
      await split.server.save(fileIOHandler(join(dir, 'tail', 'model.json')));
      const head = await tf.loadLayersModel(fileIOHandler(join(dir, 'head', 'model.json')));
      const tail = await tf.loadLayersModel(fileIOHandler(join(dir, 'tail', 'model.json')));
      const got = tf.tidy(() => (tail.predict(head.predict(x) as tf.Tensor) as tf.Tensor).dataSync() as Float32Array);
      const want = tf.tidy(() => (split.full.predict(x) as tf.Tensor).dataSync() as Float32Array);
      assert.ok(relativeError(got, want) <= 1e-6, `relative error ${relativeError(got, want)}`);
      head.dispose();
      tail.dispose();
    } finally {
      x.dispose();
      split.dispose();
      net.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps the padding modes, strides and layers the two architectures do not use', async () => {
    // TensorFlow 'same' with odd sizes and strides (asymmetric pads), transposed 'same', average
    // pools, dropout, concatenation, a softmax: one small functional model.
    const input = tf.input({ shape: [11, 9, 3] });
    const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 4, kernelSize: [4, 2], strides: [2, 3], padding: 'same', dilationRate: 1 }).apply(a) as tf.SymbolicTensor;
    const c = tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }).apply(b) as tf.SymbolicTensor;
    const d = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(c) as tf.SymbolicTensor;
    const e = tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(d) as tf.SymbolicTensor;
    const f = tf.layers.concatenate().apply([e, tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(d) as tf.SymbolicTensor]) as tf.SymbolicTensor;
    const g = tf.layers.dropout({ rate: 0.5 }).apply(tf.layers.flatten().apply(f)) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(g) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    perturbWeights(model.layers, 5);
    const x = tf.randomNormal([2, 11, 9, 3], 0, 1, 'float32', 9);
    try {
      const want = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      const res = await runOrt(wholeOnnx(model, META), { input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
      const err = relativeError(res.logits!.data as Float32Array, want);
      assert.ok(err <= 1e-4, `relative error ${err}`);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('zero padding then max pooling keeps its zeros on all-negative windows', async () => {
    // ONNX Runtime folds a zero Pad into MaxPool's (never selected) padding: the export must not
    // depend on that. Negative inputs, asymmetric zero padding, 'same' and 'valid' pools.
    const input = tf.input({ shape: [7, 8, 2] });
    const zp = tf.layers.zeroPadding2d({ padding: [[1, 2], [2, 0]] }).apply(input) as tf.SymbolicTensor;
    const a = tf.layers.flatten().apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(zp)) as tf.SymbolicTensor;
    const b = tf.layers.flatten().apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(zp)) as tf.SymbolicTensor;
    // Borders narrower than the window: rewritten as a max pool that never selects padding.
    const zp2 = tf.layers.zeroPadding2d({ padding: [[1, 0], [1, 1]] }).apply(input) as tf.SymbolicTensor;
    const c = tf.layers.flatten().apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' }).apply(zp2)) as tf.SymbolicTensor;
    const d = tf.layers.flatten().apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(zp2)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.concatenate().apply([a, b, c, d]) as tf.SymbolicTensor });
    const x = tf.tidy(() => tf.sub(tf.randomUniform([1, 7, 8, 2], 0, 1, 'float32', 3), 1.2));
    try {
      const want = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      assert.ok(want.some((v) => v === 0) && want.some((v) => v < 0), 'the case covers zero and negative maxima');
      const bytes = wholeOnnx(model, META);
      const res = await runOrt(bytes, { input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
      assert.equal(onnx.ModelProto.decode(bytes).graph!.node!.filter((n) => n.opType === 'Max').length, 2, 'two pools rewritten');
      assert.deepEqual(Array.from(res.logits!.data as Float32Array), Array.from(want));
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('a layer class without a converter is an error naming the layer', () => {
    const input = tf.input({ shape: [4] });
    const out = tf.layers.dense({ units: 2 }).apply(tf.layers.repeatVector({ n: 2, name: 'odd_one' }).apply(input)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    assert.deepEqual(unsupportedLayers(model), [{ layer: 'odd_one', className: 'RepeatVector' }]);
    assert.throws(() => wholeOnnx(model, META), (e: Error) => isUsageError(e) && /layer odd_one \(RepeatVector\)/.test(e.message));
    model.dispose();
  });
});
