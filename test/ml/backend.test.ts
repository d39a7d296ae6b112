// Backend selection on this machine: native TensorFlow cannot install here, wasm can.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend, activeBackendName, activeBackend } from '../../src/ml/backend.js';
import { isUsageError } from '../../src/util/errors.js';

describe('ml backend selection', function () {
  this.timeout(30000);

  it('auto takes wasm with the fast kernels and says why native TensorFlow was skipped', async () => {
    const logs: string[] = [];
    const info = await initBackend('auto', (m) => logs.push(m));
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(activeBackendName(), 'wasm');
    assert.match(info.detail, /auto chose wasm/);
    assert.match(info.detail, /Conv2DBackpropFilter/);
    assert.match(info.detail, /tensorflow-gpu \(package @tensorflow\/tfjs-node-gpu is not installed/);
    assert.match(info.detail, /tensorflow \(package @tensorflow\/tfjs-node is not installed/);
    assert.ok(logs.some((l) => l.startsWith('backend: auto chose wasm')), logs.join('\n'));
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined);
  });

  it('is idempotent: the same request returns the same answer without re-initialising', async () => {
    const a = await initBackend('wasm');
    const logs: string[] = [];
    const b = await initBackend('wasm', (m) => logs.push(m));
    assert.deepEqual(a, b);
    assert.deepEqual(logs, []);
  });

  for (const [req, pkg] of [['tensorflow', '@tensorflow/tfjs-node'], ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu']] as const) {
    it(`an explicit '${req}' that is not installed is a usage error naming ${pkg}`, async () => {
      await assert.rejects(initBackend(req), (e: unknown) => {
        assert.ok(isUsageError(e), String(e));
        assert.match((e as Error).message, new RegExp(`backend '${req}' was requested but is not available`));
        assert.ok((e as Error).message.includes(pkg), (e as Error).message);
        return true;
      });
      assert.equal(tf.getBackend(), activeBackend()?.name === 'tensorflow-gpu' ? 'tensorflow' : activeBackend()?.name);
    });
  }

  it('an unknown backend name is a usage error listing the choices', async () => {
    await assert.rejects(initBackend('gpu' as never), (e: unknown) => isUsageError(e) && /expected one of auto, tensorflow-gpu, tensorflow, wasm, cpu/.test((e as Error).message));
  });

  it('cpu can be requested explicitly, and wasm taken back', async () => {
    assert.equal((await initBackend('cpu')).name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await initBackend('wasm')).name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });
});
