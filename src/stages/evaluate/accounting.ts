// Cost of each side of a split model: parameters, FLOPs (2 per multiply-accumulate of the
// convolutions, transposed convolutions and dense layers, which dominate), the largest activation
// the device holds, and batch-1 forward times.
import type * as tfTypes from '@tensorflow/tfjs';
import type { SplitModel } from '../../ml/split.js';

export interface SideCost { flops: number; params: number; peakActivationBytes?: number; timeMs: { p50: number; min: number; max: number } }

const product = (xs: readonly (number | null)[]) => xs.reduce<number>((a, v) => a * (v ?? 1), 1);

/** FLOPs of one image through a model's layers, and the largest layer output (bytes, float32). */
export function modelFlops(model: tfTypes.LayersModel): { flops: number; peakActivationBytes: number } {
  let flops = 0, peak = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as (number | null)[];
    const outElements = product(out.slice(1));
    peak = Math.max(peak, outElements * 4);
    const kind = layer.getClassName();
    const kernel = layer.getWeights()[0];
    if (!kernel) continue;
    const k = kernel.shape;
    if (kind === 'Conv2D') flops += 2 * product(out.slice(1, 3)) * k[0]! * k[1]! * k[2]! * k[3]!;
    else if (kind === 'Conv2DTranspose') {
      // The layer is shared by several composed models, so read its input shape off its first node.
      const node = (layer as unknown as { inboundNodes: { inputShapes: (number | null)[] | (number | null)[][] }[] }).inboundNodes[0]!;
      const inShape = (Array.isArray(node.inputShapes[0]) ? node.inputShapes[0] : node.inputShapes) as (number | null)[];
      flops += 2 * product(inShape.slice(1, 3)) * k[0]! * k[1]! * k[2]! * k[3]!;
    } else if (kind === 'Dense') flops += 2 * k[0]! * k[1]!;
    else if (kind === 'BatchNormalization') flops += 2 * outElements;
  }
  return { flops, peakActivationBytes: peak };
}

async function timeForward(tf: typeof tfTypes, model: tfTypes.LayersModel, shape: number[], opts: { warmup: number; repeats: number }) {
  const x = tf.zeros([1, ...shape]);
  const once = () => {
    const started = process.hrtime.bigint();
    const y = tf.tidy(() => model.apply(x, { training: false }) as tfTypes.Tensor);
    y.dataSync();
    y.dispose();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  try {
    for (let i = 0; i < opts.warmup; i++) once();
    const times: number[] = [];
    for (let i = 0; i < opts.repeats; i++) { times.push(once()); await new Promise((r) => setImmediate(r)); }
    times.sort((a, b) => a - b);
    return { p50: times[Math.floor((times.length - 1) / 2)]!, min: times[0]!, max: times[times.length - 1]! };
  } finally {
    x.dispose();
  }
}

export async function sideAccounting(tf: typeof tfTypes, split: SplitModel, opts: { warmup: number; repeats: number }): Promise<{ device: SideCost; server: SideCost }> {
  const device = modelFlops(split.device);
  const server = modelFlops(split.server);
  return {
    device: { flops: device.flops, params: split.device.countParams(), peakActivationBytes: device.peakActivationBytes,
      timeMs: await timeForward(tf, split.device, split.network.inputShape, opts) },
    server: { flops: server.flops, params: split.server.countParams(), timeMs: await timeForward(tf, split.server, split.codeShape, opts) },
  };
}
