// The cut points of each architecture and the shape of the activation at each, computed from the
// architecture's formulas without building anything (no TensorFlow.js import): what the planner
// needs to reject a bad sweep before a worker starts. The model builders use the same channel
// rule (scaledChannels) and the tests check these shapes against the built networks.
import { UsageError } from '../../util/errors.js';
import type { Arch } from '../spec.js';
import { bottleneckFilters } from '../bottleneck-geometry.js';

export type Shape3 = [number, number, number];

export const VGG16_CUT_POINTS = [
  'block1_conv1', 'block1_conv2', 'block1_pool',
  'block2_conv1', 'block2_conv2', 'block2_pool',
  'block3_conv1', 'block3_conv2', 'block3_conv3', 'block3_pool',
  'block4_conv1', 'block4_conv2', 'block4_conv3', 'block4_pool',
  'block5_conv1', 'block5_conv2', 'block5_conv3', 'block5_pool',
];

/** VGG16 stages: [filters at width 1, convolutions]. */
export const VGG16_STAGES: [number, number][] = [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]];

/** ResNet-50 stages: bottleneck width at multiplier 1, blocks, stride of the first block. */
export const RESNET50_LAYOUT: { planes: number; blocks: number; stride: number }[] = [
  { planes: 64, blocks: 3, stride: 1 },
  { planes: 128, blocks: 4, stride: 2 },
  { planes: 256, blocks: 6, stride: 2 },
  { planes: 512, blocks: 3, stride: 2 },
];
export const RESNET50_EXPANSION = 4;

export const RESNET50_CUT_POINTS = [
  'conv1', 'maxpool',
  ...RESNET50_LAYOUT.flatMap((l, i) => Array.from({ length: l.blocks }, (_, j) => `layer${i + 1}_${j + 1}`)),
];

export const ARCHS: Arch[] = ['vgg16', 'resnet50'];

/** The 18 cut points of an architecture, in forward order. */
export function cutPointsOf(arch: Arch): string[] {
  if (arch === 'vgg16') return [...VGG16_CUT_POINTS];
  if (arch === 'resnet50') return [...RESNET50_CUT_POINTS];
  throw new UsageError(`unknown model.arch '${arch as string}'; expected vgg16 or resnet50`);
}

export function unknownCutMessage(arch: Arch, cut: string): string {
  return `unknown cut point '${cut}' for ${arch}; valid cut points: ${cutPointsOf(arch).join(', ')}`;
}

/** Throws a UsageError listing the valid names when `cut` is not a cut point of `arch`. */
export function checkCutPoint(arch: Arch, cut: string): void {
  if (!cutPointsOf(arch).includes(cut)) throw new UsageError(unknownCutMessage(arch, cut));
}

/** Output channels of a layer under a width multiplier; zero channels is the user's error. */
export function scaledChannels(base: number, width: number, layer: string, arch: string): number {
  const c = Math.round(base * width);
  if (c < 1) {
    throw new UsageError(
      `model.width ${width} leaves layer ${layer} of ${arch} with 0 channels (${base} × ${width} rounds to 0); ` +
        `use width ≥ ${(0.5 / base).toPrecision(3)}`,
    );
  }
  return c;
}

/** Size after a k×k, stride-2 window with padding p (PyTorch/'valid' after explicit padding). */
const down = (n: number, k: number, p: number) => Math.floor((n + 2 * p - k) / 2) + 1;

/**
 * Activation shapes (H, W, C) at all 18 cut points, in forward order, for an input of
 * height × width and a width multiplier. Throws a UsageError for zero channels or an input too
 * small for the pools.
 */
export function cutShapesOf(arch: Arch, height: number, width: number, widthMultiplier: number): Shape3[] {
  const out: Shape3[] = [];
  if (arch === 'vgg16') {
    let h = height, w = width;
    VGG16_STAGES.forEach(([base, convs], s) => {
      const c = scaledChannels(base, widthMultiplier, `block${s + 1}_conv1`, 'vgg16');
      for (let j = 0; j < convs; j++) out.push([h, w, c]);
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
      if (h < 1 || w < 1) {
        throw new UsageError(`input ${height}×${width} is too small for vgg16: the feature map after block${s + 1}_pool would be ${h}×${w}; vgg16 needs at least 32×32 (five 2×2 poolings)`);
      }
      out.push([h, w, c]);
    });
  } else if (arch === 'resnet50') {
    let h = down(height, 7, 3), w = down(width, 7, 3);
    const stem = scaledChannels(64, widthMultiplier, 'conv1', 'resnet50');
    out.push([h, w, stem]);
    h = down(h, 3, 1);
    w = down(w, 3, 1);
    out.push([h, w, stem]);
    RESNET50_LAYOUT.forEach((l, s) => {
      const c = RESNET50_EXPANSION * scaledChannels(l.planes, widthMultiplier, `layer${s + 1}_1_conv1`, 'resnet50');
      if (l.stride === 2) { h = down(h, 3, 1); w = down(w, 3, 1); }
      for (let j = 0; j < l.blocks; j++) out.push([h, w, c]);
    });
  } else {
    cutPointsOf(arch);
  }
  return out;
}

/** Activation shape (H, W, C) at `cut` (UsageError for an unknown cut, see also cutShapesOf). */
export function cutShapeOf(arch: Arch, cut: string, height: number, width: number, widthMultiplier: number): Shape3 {
  checkCutPoint(arch, cut);
  return cutShapesOf(arch, height, width, widthMultiplier)[cutPointsOf(arch).indexOf(cut)];
}

/**
 * Plan-time check of a split: cut name, input size, and a bottleneck ratio that leaves at least
 * one channel (f = round(C / ratio), Python's rounding). Returns error messages (empty when fine).
 */
export function checkSplitSpec(arch: Arch, cut: string, widthMultiplier: number, ratio: number, height = 224, width = 224): string[] {
  try {
    const [, , C] = cutShapeOf(arch, cut, height, width, widthMultiplier);
    bottleneckFilters([0, 0, C], { ratio, expansion: 1 }, cut);
    return [];
  } catch (e) {
    if (e instanceof UsageError) return [e.message];
    throw e;
  }
}
