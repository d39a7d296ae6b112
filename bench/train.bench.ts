// Training and inference steps of the paper architectures (VGG16 and ResNet-50 at width 0.25,
// 64×64 inputs like Tiny-ImageNet's, batch 32) on the wasm backend, with the project's SIMD paths
// (Winograd, direct and GEMM kernels, fused Adam and batch norm, padding and slicing) and, in the
// same run, with them switched off (the XNNPACK-based replacements, the shipped pad and slice,
// tfjs's element-wise ops): the ratio is the speed-up.
// Medians of process CPU time per step.
//   npm run build && npm run bench:train [-- --batch 32 --size 64 --width 0.25 --steps 5 --json]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/ml/backend.js';
import { setSimdPaths } from '../src/ml/kernels/index.js';
import { makeTrainStep } from '../src/ml/bench.js';
import { buildNetwork, resolveModelSpec } from '../src/ml/models/index.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const BATCH = arg('batch', 32), SIZE = arg('size', 64), WIDTH = arg('width', 0.25), STEPS = arg('steps', 5);


function cpuMsPerStep(fn: () => void): number {
  fn();
  const ms: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    ms.push((d.user + d.system) / 1000);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  await initBackend('wasm');
  const rows: { arch: string; phase: string; simdMs: number; offMs: number; speedup: number }[] = [];
  for (const arch of ['vgg16', 'resnet50'] as const) {
    const net = buildNetwork(resolveModelSpec({ arch, inputSize: SIZE, inputChannels: 3, classes: 10, width: WIDTH }), 0);
    const x = tf.randomNormal([BATCH, SIZE, SIZE, 3]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32'), 10);
    const step = makeTrainStep(net.model);
    const infer = () => tf.tidy(() => { (net.model.predict(x, { batchSize: BATCH }) as tf.Tensor).dataSync(); });
    for (const [phase, fn] of [['train', () => { step(x, y); }], ['infer', infer]] as const) {
      setSimdPaths(true);
      const on = cpuMsPerStep(fn);
      setSimdPaths(false);
      const off = cpuMsPerStep(fn);
      setSimdPaths(true);
      rows.push({ arch, phase, simdMs: Math.round(on * 10) / 10, offMs: Math.round(off * 10) / 10, speedup: Math.round((off / on) * 100) / 100 });
      if (!json) console.log(`${arch.padEnd(9)} ${phase}  ${on.toFixed(1).padStart(7)} ms  without the SIMD paths ${off.toFixed(1).padStart(7)} ms  ${(off / on).toFixed(2)}×  (${(BATCH * 1000 / on).toFixed(0)} img/s)`);
    }
    tf.dispose([x, y]);
    net.dispose();
  }
  if (json) console.log(JSON.stringify({ batch: BATCH, size: SIZE, width: WIDTH, steps: STEPS, timing: 'median process CPU ms per step', rows }, null, 1));
  else console.log(`\nwidth ${WIDTH}, ${SIZE}×${SIZE}×3 inputs, batch ${BATCH}; median process CPU time of ${STEPS} steps after one warm-up`);
}

await main();
