// torchvision's parameter names for VGG16 and ResNet-50, mapped onto the project's layers, and the
// layout conversions between them: convolution kernels OIHW → HWIO, fully connected weights
// (out, in) → (in, out), batch norm's weight/bias/running statistics → γ/β/moving mean/variance
// (num_batches_tracked has no counterpart and is ignored). Reduced widths follow the project's
// rule (every channel count and VGG's 4096 scaled by the width multiplier and rounded), which is
// how a torchvision-style model of that width is built.
//
// VGG16's first fully connected layer: torchvision puts an adaptive 7×7 average pool before its
// classifier and flattens (C, 7, 7) in C,H,W order; the project flattens the s×t×C output of
// block5_pool (s = ⌊H/32⌋) in H,W,C order with no pool. Both are linear maps, so the pool is folded
// into the weights: W'[(i,j,c), o] = Σ_{p,q} W[o, c·49 + 7p + q] · P[(p,q) ← (i,j)], with P the
// adaptive pool's averaging weights. At 224–255 px (s = 7) P is the identity and this is only the
// reordering; at any other size the loaded network computes exactly what torchvision computes.
import { scaledChannels, RESNET50_LAYOUT, RESNET50_EXPANSION, VGG16_STAGES } from '../models/cut-points.js';
import type { Arch } from '../spec.js';

export type Conversion = 'conv' | 'dense' | 'vgg-fc1' | 'vector' | 'ignored';

export interface TorchEntry {
  torchName: string;
  /** The project's layer and weight ('' for a tensor with no counterpart, e.g. num_batches_tracked). */
  layer: string;
  weight: string;
  torchShape: number[];
  conversion: Conversion;
}

export interface TorchArchitecture { arch: Arch; width: number; classes: number; inputChannels: number }

export const VGG_POOLED = 7;

function vgg16Layout(a: TorchArchitecture): TorchEntry[] {
  const out: TorchEntry[] = [];
  let index = 0, inC = a.inputChannels;
  VGG16_STAGES.forEach(([base, convs], s) => {
    const c = scaledChannels(base, a.width, `block${s + 1}_conv1`, 'vgg16');
    for (let k = 1; k <= convs; k++) {
      const layer = `block${s + 1}_conv${k}`;
      out.push({ torchName: `features.${index}.weight`, layer, weight: 'kernel', torchShape: [c, inC, 3, 3], conversion: 'conv' });
      out.push({ torchName: `features.${index}.bias`, layer, weight: 'bias', torchShape: [c], conversion: 'vector' });
      index += 2; // Conv2d, ReLU
      inC = c;
    }
    index += 1; // MaxPool2d
  });
  const fc = scaledChannels(4096, a.width, 'fc1', 'vgg16');
  const dense = (i: number, layer: string, units: number, fanIn: number, conversion: Conversion) => {
    out.push({ torchName: `classifier.${i}.weight`, layer, weight: 'kernel', torchShape: [units, fanIn], conversion });
    out.push({ torchName: `classifier.${i}.bias`, layer, weight: 'bias', torchShape: [units], conversion: 'vector' });
  };
  // classifier: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear.
  dense(0, 'fc1', fc, inC * VGG_POOLED * VGG_POOLED, 'vgg-fc1');
  dense(3, 'fc2', fc, fc, 'dense');
  dense(6, 'predictions', a.classes, fc, 'dense');
  return out;
}

function batchNorm(out: TorchEntry[], prefix: string, layer: string, c: number): void {
  const names: [string, string][] = [['weight', 'gamma'], ['bias', 'beta'], ['running_mean', 'moving_mean'], ['running_var', 'moving_variance']];
  for (const [t, ours] of names) out.push({ torchName: `${prefix}.${t}`, layer, weight: ours, torchShape: [c], conversion: 'vector' });
  out.push({ torchName: `${prefix}.num_batches_tracked`, layer: '', weight: '', torchShape: [], conversion: 'ignored' });
}

function resnet50Layout(a: TorchArchitecture): TorchEntry[] {
  const out: TorchEntry[] = [];
  const conv = (torchName: string, layer: string, o: number, i: number, k: number) =>
    out.push({ torchName, layer, weight: 'kernel', torchShape: [o, i, k, k], conversion: 'conv' });
  const stem = scaledChannels(64, a.width, 'conv1', 'resnet50');
  conv('conv1.weight', 'conv1_conv', stem, a.inputChannels, 7);
  batchNorm(out, 'bn1', 'conv1_bn', stem);
  let inC = stem;
  RESNET50_LAYOUT.forEach((l, s) => {
    const planes = scaledChannels(l.planes, a.width, `layer${s + 1}_1_conv1`, 'resnet50');
    const width = planes * RESNET50_EXPANSION;
    for (let j = 0; j < l.blocks; j++) {
      const t = `layer${s + 1}.${j}`, ours = `layer${s + 1}_${j + 1}`;
      conv(`${t}.conv1.weight`, `${ours}_conv1`, planes, inC, 1);
      batchNorm(out, `${t}.bn1`, `${ours}_bn1`, planes);
      conv(`${t}.conv2.weight`, `${ours}_conv2`, planes, planes, 3);
      batchNorm(out, `${t}.bn2`, `${ours}_bn2`, planes);
      conv(`${t}.conv3.weight`, `${ours}_conv3`, width, planes, 1);
      batchNorm(out, `${t}.bn3`, `${ours}_bn3`, width);
      if (j === 0 && (l.stride !== 1 || inC !== width)) {
        conv(`${t}.downsample.0.weight`, `${ours}_down_conv`, width, inC, 1);
        batchNorm(out, `${t}.downsample.1`, `${ours}_down_bn`, width);
      }
      inC = width;
    }
  });
  out.push({ torchName: 'fc.weight', layer: 'fc', weight: 'kernel', torchShape: [a.classes, inC], conversion: 'dense' });
  out.push({ torchName: 'fc.bias', layer: 'fc', weight: 'bias', torchShape: [a.classes], conversion: 'vector' });
  return out;
}

/** Every tensor of torchvision's state_dict for this architecture, in torchvision's order. */
export function torchvisionLayout(a: TorchArchitecture): TorchEntry[] {
  return a.arch === 'vgg16' ? vgg16Layout(a) : resnet50Layout(a);
}

/**
 * The architecture a checkpoint's names and leading shapes suggest (to be confirmed against the
 * full layout), or null when it is neither torchvision VGG16 nor ResNet-50.
 */
export function guessArchitecture(shapes: Map<string, number[]>): TorchArchitecture | null {
  const first = (name: string) => shapes.get(name);
  if (first('features.0.weight') && first('classifier.6.weight')) {
    const [c0, inputChannels] = first('features.0.weight')!;
    return { arch: 'vgg16', width: c0! / 64, classes: first('classifier.6.weight')![0]!, inputChannels: inputChannels! };
  }
  if (first('conv1.weight') && first('layer1.0.conv3.weight') && first('fc.weight')) {
    const [c0, inputChannels] = first('conv1.weight')!;
    return { arch: 'resnet50', width: c0! / 64, classes: first('fc.weight')![0]!, inputChannels: inputChannels! };
  }
  return null;
}

/** Adaptive average pooling's window along one axis: [start, end) of the input for output i. */
function window(i: number, inSize: number, outSize: number): [number, number] {
  return [Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)];
}

/**
 * A torchvision tensor's values in the project's layout. `ourShape` is the project's weight shape;
 * for 'vgg-fc1' the feature map at block5_pool is `pooled` = [s, t] (H, W).
 */
export function toProjectLayout(e: TorchEntry, v: Float32Array, ourShape: number[], pooled?: [number, number]): Float32Array {
  const ts = e.torchShape;
  if (e.conversion === 'vector' || e.conversion === 'ignored') return v;
  if (e.conversion === 'conv') {
    const [o, i, kh, kw] = ts as [number, number, number, number];
    const out = new Float32Array(v.length);
    for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
      out[((y * kw + x) * i + b) * o + a] = v[((a * i + b) * kh + y) * kw + x]!;
    }
    return out;
  }
  if (e.conversion === 'dense') {
    const [o, i] = ts as [number, number];
    return transpose(v, o, i);
  }
  // vgg-fc1: fold the adaptive 7×7 average pool and reorder C,H,W → H,W,C, on the transposed
  // weights (one contiguous row of `o` outputs per input feature).
  const [o, fanIn] = ts as [number, number];
  const [s, t] = pooled!;
  const c = fanIn / (VGG_POOLED * VGG_POOLED);
  const vt = transpose(v, o, fanIn);
  const out = new Float32Array(ourShape[0]! * ourShape[1]!);
  for (let p = 0; p < VGG_POOLED; p++) {
    const [h0, h1] = window(p, s, VGG_POOLED);
    for (let q = 0; q < VGG_POOLED; q++) {
      const [w0, w1] = window(q, t, VGG_POOLED);
      const share = 1 / ((h1 - h0) * (w1 - w0));
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) {
        for (let ch = 0; ch < c; ch++) {
          const dst = ((h * t + w) * c + ch) * o;
          const src = (ch * VGG_POOLED * VGG_POOLED + p * VGG_POOLED + q) * o;
          for (let a = 0; a < o; a++) out[dst + a]! += vt[src + a]! * share;
        }
      }
    }
  }
  return out;
}

/** rows×cols → cols×rows, in cache-sized tiles (fc1 of VGG16 is 4096 × 25088). */
function transpose(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    for (let c0 = 0; c0 < cols; c0 += B) {
      const r1 = Math.min(rows, r0 + B), c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let k = c0; k < c1; k++) out[k * rows + r] = v[r * cols + k]!;
    }
  }
  return out;
}
