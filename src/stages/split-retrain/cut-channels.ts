// The cut points of each architecture and the channel count at each, at width 1: what the planner
// needs to reject a bad sweep (unknown cut, a ratio leaving zero bottleneck channels) without
// loading TensorFlow.js. A test checks this table against the built networks.

const vgg16: [string, number][] = [
  ['block1_conv1', 64], ['block1_conv2', 64], ['block1_pool', 64],
  ['block2_conv1', 128], ['block2_conv2', 128], ['block2_pool', 128],
  ['block3_conv1', 256], ['block3_conv2', 256], ['block3_conv3', 256], ['block3_pool', 256],
  ['block4_conv1', 512], ['block4_conv2', 512], ['block4_conv3', 512], ['block4_pool', 512],
  ['block5_conv1', 512], ['block5_conv2', 512], ['block5_conv3', 512], ['block5_pool', 512],
];

const resnet50: [string, number][] = [
  ['conv1', 64], ['maxpool', 64],
  ['layer1_1', 256], ['layer1_2', 256], ['layer1_3', 256],
  ['layer2_1', 512], ['layer2_2', 512], ['layer2_3', 512], ['layer2_4', 512],
  ['layer3_1', 1024], ['layer3_2', 1024], ['layer3_3', 1024], ['layer3_4', 1024], ['layer3_5', 1024], ['layer3_6', 1024],
  ['layer4_1', 2048], ['layer4_2', 2048], ['layer4_3', 2048],
];

export const CUT_CHANNELS: Record<string, ReadonlyMap<string, number>> = {
  vgg16: new Map(vgg16),
  resnet50: new Map(resnet50),
};

/** Channels at a cut under a width multiplier (rounded like the model builders). */
export function cutChannels(arch: string, cut: string, width: number): number | undefined {
  const base = CUT_CHANNELS[arch]?.get(cut);
  return base === undefined ? undefined : Math.round(base * width);
}

/** Plan-time checks of a cut and a bottleneck ratio; returns error messages. */
export function checkCutAndRatio(arch: string, width: number, cut: string, ratio: number): string[] {
  const table = CUT_CHANNELS[arch];
  if (!table) return [`model.arch: unknown architecture '${arch}' (expected ${Object.keys(CUT_CHANNELS).join(' or ')})`];
  if (!table.has(cut)) return [`cut: '${cut}' is not a cut point of ${arch}; valid cut points: ${[...table.keys()].join(', ')}`];
  const c = cutChannels(arch, cut, width)!;
  const f = Math.round(c / ratio);
  if (f < 1) {
    return [`bottleneck.ratio: ${ratio} leaves the bottleneck at ${cut} with 0 channels (C = ${c}, round(${c}/${ratio}) = 0); use a ratio ≤ ${(2 * c).toString()}`];
  }
  return [];
}
