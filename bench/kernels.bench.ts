// Per-kernel throughput on the wasm backend: the shipped kernel against the project's replacement,
// on the layer shapes of the reference models (batch 64). For convolutions and matrix products a
// third column, "gemm", is the replacement with its SIMD paths (Winograd, the direct kernels, the
// SIMD GEMM) switched off: what the XNNPACK-based paths alone give. Times are process CPU time (the machine may be
// shared), the minimum over several runs, each on fresh input tensors. GF/s counts the direct
// convolution's FLOPs: for Winograd, which multiplies less, it is an effective rate. Where the
// running V8 takes the kernels' fused multiply-add build, "ours" runs on it and a column
// "simd128" gives the same kernels on the plain SIMD128 build (multiply, then add).
//   npm run bench:kernels [-- --json]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/ml/backend.js';
import { runShipped, type BackendWasm } from '../src/ml/kernels/wasm-ops.js';
import { setSimdPaths } from '../src/ml/kernels/index.js';
import { fusedMultiplyAddSupported, kernelBuildOptions } from '../src/ml/kernels/simd-module.js';

interface Case { kernel: string; label: string; flops: number; inputs: Record<string, tf.Tensor>; attrs: Record<string, unknown> }

/** Minimum process CPU time of `fn` over `reps` runs, each on fresh copies of the inputs (as in
 *  training, where every step brings new tensors: nothing cached per tensor by XNNPACK carries over). */
function cpuMs(inputs: Record<string, tf.Tensor>, fn: (inputs: Record<string, tf.Tensor>) => void, reps: number, warmup = 1): number {
  // New data, not clones (a clone shares the data and would hit XNNPACK's per-tensor caches).
  const fresh = () => Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.tensor(t.dataSync(), t.shape, t.dtype)]));
  let best = Infinity;
  for (let i = 0; i < warmup + reps; i++) {
    const ins = fresh();
    const t = process.cpuUsage();
    fn(ins);
    const d = process.cpuUsage(t);
    tf.dispose(Object.values(ins));
    if (i >= warmup) best = Math.min(best, (d.user + d.system) / 1000);
  }
  return best;
}

function convCases(): Case[] {
  const out: Case[] = [];
  const layers: [string, number, number, number, number, number, number][] = [
    // label, n, h, ci, co, k, stride
    ['ref-cnn conv1 32x32 3->32 3x3', 64, 32, 3, 32, 3, 1],
    ['ref-cnn conv2 16x16 32->64 3x3', 64, 16, 32, 64, 3, 1],
    ['ref-cnn conv3 8x8 64->128 3x3', 64, 8, 64, 128, 3, 1],
    ['vgg conv1_2 32x32 16->16 3x3', 64, 32, 16, 16, 3, 1],
    ['vgg conv2_1 16x16 16->32 3x3', 64, 16, 16, 32, 3, 1],
    ['vgg conv3_2 8x8 64->64 3x3', 64, 8, 64, 64, 3, 1],
    ['vgg conv4 4x4 128->128 3x3', 64, 4, 128, 128, 3, 1],
    ['vgg conv5 2x2 128->128 3x3', 64, 2, 128, 128, 3, 1],
    ['8->8 32x32 3x3 (below Winograd)', 64, 32, 8, 8, 3, 1],
    ['resnet 3x3 s1 14x14 64->64 (w0.25)', 32, 14, 64, 64, 3, 1],
    ['resnet stem 7x7 s2 64x64 3->16', 16, 64, 3, 16, 7, 2],
    ['resnet 3x3 s2 16x16 32->32', 32, 16, 32, 32, 3, 2],
    ['resnet 1x1 s1 8x8 64->256', 32, 8, 64, 256, 1, 1],
    ['resnet 1x1 s2 16x16 64->128 (downsample)', 32, 16, 64, 128, 1, 2],
    ['resnet 1x1 s1 2x2 512->2048', 32, 2, 512, 2048, 1, 1],
  ];
  for (const [label, n, h, ci, co, k, s] of layers) {
    const oh = Math.ceil(h / s);
    const x = tf.randomNormal([n, h, h, ci]), dy = tf.randomNormal([n, oh, oh, co]), filter = tf.randomNormal([k, k, ci, co]);
    const flops = 2 * n * oh * oh * co * ci * k * k;
    out.push({ kernel: 'Conv2D', label, flops, inputs: { x, filter }, attrs: { strides: s, pad: 'same', dataFormat: 'NHWC', dilations: 1 } });
    out.push({ kernel: 'Conv2DBackpropFilter', label, flops, inputs: { x, dy }, attrs: { strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: [k, k, ci, co] } });
    out.push({ kernel: 'Conv2DBackpropInput', label, flops, inputs: { dy, filter }, attrs: { strides: s, pad: 'same', dataFormat: 'NHWC', inputShape: [n, h, h, ci] } });
  }
  const a = tf.randomNormal([64, 1024]), w = tf.randomNormal([1024, 1024]), dy = tf.randomNormal([64, 1024]);
  out.push({ kernel: 'BatchMatMul', label: 'dense y = x·W 1024x1024', flops: 2 * 64 * 1024 * 1024, inputs: { a, b: w }, attrs: { transposeA: false, transposeB: false } });
  out.push({ kernel: 'BatchMatMul', label: 'dense dW = xᵀ·dy 1024x1024', flops: 2 * 64 * 1024 * 1024, inputs: { a, b: dy }, attrs: { transposeA: true, transposeB: false } });
  out.push({ kernel: 'BatchMatMul', label: 'dense dx = dy·Wᵀ 1024x1024', flops: 2 * 64 * 1024 * 1024, inputs: { a: dy, b: w }, attrs: { transposeA: false, transposeB: true } });
  const act = tf.randomNormal([64, 32, 32, 32]);
  out.push({ kernel: 'MaxPoolGrad', label: '2x2 s2 on 64x32x32x32', flops: 0, inputs: { dy: tf.randomNormal([64, 16, 16, 32]), input: act, output: tf.maxPool(act as tf.Tensor4D, 2, 2, 'valid') }, attrs: { filterSize: 2, strides: 2, pad: 'valid' } });
  const act2 = tf.randomNormal([16, 33, 33, 64]);
  out.push({ kernel: 'MaxPoolGrad', label: '3x3 s2 on 16x33x33x64 (ResNet)', flops: 0, inputs: { dy: tf.randomNormal([16, 16, 16, 64]), input: act2, output: tf.maxPool(act2 as tf.Tensor4D, 3, 2, 'valid') }, attrs: { filterSize: 3, strides: 2, pad: 'valid' } });
  out.push({ kernel: 'Sum', label: 'over N,H,W of 64x32x32x32', flops: 0, inputs: { x: act }, attrs: { axis: [0, 1, 2], keepDims: false } });
  out.push({ kernel: 'FusedBatchNorm', label: 'inference, 64x32x32x32', flops: 0, inputs: { x: act, mean: tf.randomNormal([32]), variance: tf.randomUniform([32], 0.5, 2), offset: tf.randomNormal([32]), scale: tf.randomNormal([32]) }, attrs: { varianceEpsilon: 1e-5 } });
  out.push({ kernel: 'Identity', label: 'clone of 64x32x32x32', flops: 0, inputs: { x: act }, attrs: {} });
  out.push({ kernel: 'Tile', label: '1x1x1x32 to 64x32x32x32', flops: 0, inputs: { x: tf.randomNormal([1, 1, 1, 32]) }, attrs: { reps: [64, 32, 32, 1] } });
  return out;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const info = await initBackend('wasm');
  const backend = tf.backend() as unknown as BackendWasm;
  const fma = kernelBuildOptions.fma && fusedMultiplyAddSupported();
  if (!json) console.log(`products: ${fma ? 'fused multiply-add build ("ours"), SIMD128 build ("simd128")' : 'SIMD128 build only (the fused build does not validate here, or SEI_WASM_FMA=0)'}`);
  const rows: { kernel: string; label: string; shippedMs: number | null; gemmMs: number | null; simd128Ms: number | null; oursMs: number; shippedGflops: number | null; oursGflops: number | null; simd128Gflops: number | null }[] = [];
  for (const c of convCases()) {
    const reps = 3;
    // Our kernels run JavaScript around the wasm calls: warm the JIT up as a training run would.
    const runOurs = (ins: Record<string, tf.Tensor>) => { tf.dispose(tf.engine().runKernel(c.kernel, ins as never, c.attrs as never) as tf.Tensor); };
    const ours = cpuMs(c.inputs, runOurs, 5, 6);
    let gemm: number | null = null;
    if (c.kernel.startsWith('Conv2D') || c.kernel === 'BatchMatMul') {
      setSimdPaths(false);
      try {
        gemm = cpuMs(c.inputs, runOurs, 5, 2);
      } finally {
        setSimdPaths(true);
      }
    }
    let simd128: number | null = null;
    if (fma && (c.kernel.startsWith('Conv2D') || c.kernel === 'BatchMatMul')) {
      kernelBuildOptions.fma = false;
      try {
        simd128 = cpuMs(c.inputs, runOurs, 5, 2);
      } finally {
        kernelBuildOptions.fma = true;
      }
    }
    let shipped: number | null = null;
    if (c.kernel !== 'Conv2DBackpropFilter') {
      shipped = cpuMs(c.inputs, (ins) => {
        const infos = Object.fromEntries(Object.entries(ins).map(([k, t]) => [k, { dataId: t.dataId, shape: t.shape, dtype: t.dtype }]));
        backend.disposeData(runShipped(backend, c.kernel, infos, c.attrs).dataId);
      }, c.kernel === 'BatchMatMul' ? 1 : reps);
    }
    const gf = (ms: number | null) => (ms === null || c.flops === 0 ? null : Math.round((c.flops / ms / 1e6) * 10) / 10);
    rows.push({ kernel: c.kernel, label: c.label, shippedMs: shipped, gemmMs: gemm, simd128Ms: simd128, oursMs: ours, shippedGflops: gf(shipped), oursGflops: gf(ours), simd128Gflops: gf(simd128) });
    if (!json) {
      const fmt = (ms: number | null, g: number | null) => (ms === null ? 'missing'.padStart(22) : `${ms.toFixed(2).padStart(9)} ms${g === null ? '' : ` ${g.toFixed(1).padStart(5)} GF/s`}`.padStart(22));
      const gemmCol = gemm === null ? '' : `   gemm ${gemm.toFixed(2).padStart(7)} ms`;
      const simdCol = simd128 === null ? '' : `   simd128 ${fmt(simd128, gf(simd128))}`;
      console.log(`${c.kernel.padEnd(21)} ${c.label.padEnd(36)} shipped ${fmt(shipped, gf(shipped))}${gemmCol}${simdCol}   ours ${fmt(ours, gf(ours))}`);
    }
  }
  if (json) console.log(JSON.stringify({ backend: info.name, detail: info.detail, fusedMultiplyAdd: fma, timing: 'process CPU time, min of runs', rows }, null, 1));
}

await main();
