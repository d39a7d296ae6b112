// Training memory on the wasm heap: an allocation past the cap is a clear out-of-memory error
// (never a write through NULL or a wrapped block), optimizer updates and weight decay happen in
// place with the op sequence's numbers, dense-layer products with a batch of 1 or 2 do not copy
// the weights, and micro-batch accumulation gives the full batch's gradients.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/ml/backend.js';
import { OutOfMemoryError, WASM_HEAP_LIMIT, heapGuardInstalled, setMemoryContext } from '../../src/ml/heap.js';
import { adam, sgd } from '../../src/ml/train/optimizers.js';
import { batchGradients } from '../../src/ml/train/train.js';
import { imageSource } from '../../src/ml/train/index.js';
import { buildNetwork, resolveModelSpec } from '../../src/ml/models/index.js';
import { networkParts } from '../../src/ml/split.js';
import type { PreparedSplit } from '../../src/data/prepared-types.js';
import type { BackendWasm } from '../../src/ml/kernels/wasm-ops.js';
import { rand } from './kernel-check.js';

function randomSplit(count: number, size: number, seed: number): PreparedSplit {
  const bytes = Uint8Array.from(rand(count * size * size * 3, seed), (v) => Math.floor((v + 1) * 127.5));
  return {
    count,
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    readImages(indices) {
      const one = size * size * 3;
      const out = new Uint8Array(indices.length * one);
      for (let i = 0; i < indices.length; i++) out.set(bytes.subarray(indices[i]! * one, (indices[i]! + 1) * one), i * one);
      return out;
    },
  };
}

/** The op sequence the in-place updates replace (optimizers.ts' fallback), on plain tensors. */
function adamOps(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, s: tf.Tensor, t: number, lr: number): Float32Array[] {
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, 0.9), tf.mul(g, 1 - 0.9));
    const s2 = tf.add(tf.mul(s, 0.999), tf.mul(tf.square(g), 1 - 0.999));
    const update = tf.div(tf.div(m2, 1 - 0.9 ** t), tf.add(tf.sqrt(tf.div(s2, 1 - 0.999 ** t)), 1e-8));
    return [tf.sub(w, tf.mul(update, lr)), m2, s2].map((x) => x.dataSync() as Float32Array);
  });
}

describe('training memory on the wasm heap', function () {
  this.timeout(120000);
  before(async () => { await initBackend('wasm'); });
  after(async () => { await tf.setBackend('wasm'); });

  describe('an allocation past the cap', () => {
    beforeEach(async () => { await tf.setBackend('wasm'); });

    it('is refused before it wraps (4 GiB or more) and when malloc returns NULL, naming what was trained', () => {
      const backend = tf.backend() as unknown as BackendWasm;
      assert.ok(heapGuardInstalled(tf.backend()));
      const ids = backend.numDataIds();
      const restore = setMemoryContext({ model: 'vgg16', resolution: '224×224', batch: 64, microBatch: 8 });
      try {
        // 4 GiB + 4 bytes: as a 32-bit size it would be a 4-byte block.
        assert.throws(() => backend.makeOutput([WASM_HEAP_LIMIT / 4 + 1], 'float32'), (e: unknown) => {
          assert.ok(e instanceof OutOfMemoryError);
          assert.match(e.message, /allocating 4\.00 GiB/);
          assert.match(e.message, /while training vgg16 at 224×224 px, batch 64 in micro-batches of 8/);
          assert.match(e.message, /heap [\d.]+ (MiB|GiB) of at most 4\.00 GiB/);
          assert.match(e.message, /training\.microBatch/);
          return true;
        });
        // 64 bytes short of 4 GiB: cannot fit beside what is already allocated, malloc gives NULL.
        assert.throws(() => backend.makeOutput([WASM_HEAP_LIMIT / 4 - 16], 'float32'), OutOfMemoryError);
      } finally {
        restore();
      }
      assert.equal(backend.numDataIds(), ids, 'a refused allocation leaves nothing registered');
    });

    it('inside a kernel (a product whose output exceeds the heap) is an error, and the backend keeps working', () => {
      const backend = tf.backend() as unknown as BackendWasm;
      const ids = backend.numDataIds();
      const a = tf.ones([65536, 4]), b = tf.ones([4, 16400]);
      assert.throws(() => tf.matMul(a, b), (e: unknown) => e instanceof OutOfMemoryError && /allocating 4\.0\d GiB/.test(e.message));
      const c = tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([4, 8])));
      assert.deepEqual(Array.from(c.dataSync()), Array(24).fill(4));
      tf.dispose([a, b, c]);
      assert.equal(backend.numDataIds(), ids);
    });
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`on ${backend}: Adam and SGD update weights and state in place, with the op sequence's numbers`, async () => {
      await tf.setBackend(backend);
      const n = 1031;
      const w0 = rand(n, 1), g1 = rand(n, 2), g2 = rand(n, 3);
      const v = tf.tidy(() => tf.variable(tf.tensor(w0.slice()), true, `w_${backend}`));
      const dataId = v.dataId;
      const opt = adam();
      const before = tf.memory().numTensors;
      const grads = [tf.tensor(g1)];
      opt.step([v], grads, 1e-2, true);
      assert.equal(grads[0]!.isDisposed, true, 'the gradient is freed once applied');
      const afterFirst = tf.memory().numTensors;
      assert.equal(afterFirst, before + 2, 'only the two moments are new');
      opt.step([v], [tf.tensor(g2)], 1e-2, true);
      assert.equal(tf.memory().numTensors, afterFirst - 0, 'a second step allocates nothing that stays');
      assert.equal(v.dataId, dataId, 'the weights stayed where they were');
      // Reference: the op sequence, twice.
      const [w1, m1, s1] = tf.tidy(() => adamOps(tf.tensor(w0), tf.tensor(g1), tf.zeros([n]), tf.zeros([n]), 1, 1e-2));
      const [w2] = adamOps(tf.tensor(w1!), tf.tensor(g2), tf.tensor(m1!), tf.tensor(s1!), 2, 1e-2);
      assert.deepEqual(Buffer.from((v.dataSync() as Float32Array).buffer), Buffer.from(w2!.buffer));
      opt.dispose();

      const sv = tf.tidy(() => tf.variable(tf.tensor(w0.slice()), true, `sgd_${backend}`));
      const o2 = sgd(0.9);
      o2.step([sv], [tf.tensor(g1)], 0.1, true);
      o2.step([sv], [tf.tensor(g2)], 0.1, true);
      const want = tf.tidy(() => {
        const b1 = tf.tensor(g1);
        const b2 = tf.add(tf.mul(b1, 0.9), tf.tensor(g2));
        return tf.sub(tf.sub(tf.tensor(w0), tf.mul(b1, 0.1)), tf.mul(b2, 0.1)).dataSync() as Float32Array;
      });
      assert.deepEqual(Buffer.from((sv.dataSync() as Float32Array).buffer), Buffer.from(want.buffer));
      o2.dispose();
      tf.dispose([v, sv]);
    });
  }

  it('a weight shared with a snapshot is copied before an in-place update, never changed under it', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor(rand(64, 4)));
    const snap = tf.clone(v);   // shares v's storage, reference-counted
    const was = Array.from(snap.dataSync());
    const opt = adam();
    opt.step([v], [tf.tensor(rand(64, 5))], 0.1, true);
    assert.deepEqual(Array.from(snap.dataSync()), was);
    assert.notDeepEqual(Array.from(v.dataSync()), was);
    opt.dispose();
    tf.dispose([v, snap]);
  });

  it('a dense layer\'s input gradient with a batch of 1, 2 or 3 (dy·Wᵀ) matches the cpu backend', async () => {
    for (const m of [1, 2, 3]) {
      const a = rand(m * 64, m), w = rand(200 * 64, 9);
      const run = async (b: string) => {
        await tf.setBackend(b);
        return tf.tidy(() => tf.matMul(tf.tensor(a, [m, 64]), tf.tensor(w, [200, 64]), false, true).dataSync() as Float32Array);
      };
      const ref = await run('cpu'), got = await run('wasm');
      ref.forEach((r, i) => assert.ok(Math.abs(r - got[i]!) < 1e-4, `m=${m} [${i}] ${got[i]} vs ${r}`));
    }
  });

  it('micro-batches of 2 and 3 accumulate the gradients of the whole batch of 6 (VGG16)', async () => {
    await tf.setBackend('wasm');
    const size = 32;
    const net = buildNetwork(resolveModelSpec({ arch: 'vgg16', inputSize: size, inputChannels: 3, classes: 3, width: 0.125 }), 5);
    try {
      const split = randomSplit(6, size, 11);
      const src = imageSource(split, { height: size, width: size, channels: 3 }, net.spec.normalize);
      const vars = net.model.trainableWeights.map((w) => w.read() as tf.Variable);
      const idx = Int32Array.from([0, 1, 2, 3, 4, 5]);
      const flip = [true, false, false, true, false, true];
      const parts = networkParts(net);
      const full = batchGradients(parts, src, vars, idx, split.labels, flip, 6, 3, 0);
      const ref = full.grads.map((g) => g!.dataSync() as Float32Array);
      tf.dispose(full.grads.filter((g): g is tf.Tensor => g !== null));
      for (const micro of [2, 3]) {
        const before = tf.memory().numTensors;
        const got = batchGradients(parts, src, vars, idx, split.labels, flip, micro, 3, 0);
        assert.equal(tf.memory().numTensors, before + vars.length, 'one gradient per variable is left');
        assert.ok(Math.abs(got.loss - full.loss) < 1e-5, `loss ${got.loss} vs ${full.loss}`);
        assert.equal(got.correct, full.correct);
        let d = 0, r = 0;
        got.grads.forEach((g, i) => {
          const v = g!.dataSync();
          for (let j = 0; j < v.length; j++) { d += (v[j]! - ref[i]![j]!) ** 2; r += ref[i]![j]! ** 2; }
        });
        assert.ok(r > 0);
        assert.ok(Math.sqrt(d / r) < 1e-5, `micro ${micro}: relative L2 difference ${Math.sqrt(d / r)}`);
        tf.dispose(got.grads.filter((g): g is tf.Tensor => g !== null));
      }
    } finally {
      net.dispose();
    }
  });
});
