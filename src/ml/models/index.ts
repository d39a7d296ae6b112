// Model builders by architecture, and the resolution of a ModelSpec against a dataset.
import { UsageError } from '../../util/errors.js';
import { defaultNormalize, type Arch, type ModelSpec, type ResolvedModelSpec } from '../spec.js';
import { buildResnet50, RESNET50_CLASSIFIER_LAYER } from './resnet50.js';
import { buildVgg16, VGG16_CLASSIFIER_LAYER } from './vgg16.js';
import type { BuildOptions, Network } from './network.js';

export type { Network, Block, Shape3, ForwardOptions, ReadPoint, BuildOptions } from './network.js';
export {
  VGG16_CUT_POINTS, RESNET50_CUT_POINTS, cutPointsOf, checkCutPoint, cutShapeOf, cutShapesOf, checkSplitSpec, unknownCutMessage,
} from './cut-points.js';
export { cutGradients, type CutGradients } from './gradients.js';

/** Name of the last FC layer (trained in the 'bottleneck+classifier' regime). */
export function classifierLayerOf(arch: Arch): string {
  return arch === 'vgg16' ? VGG16_CLASSIFIER_LAYER : RESNET50_CLASSIFIER_LAYER;
}

export interface DatasetShape {
  classes: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * Complete a ModelSpec with the dataset's sizes. Sizes given in the spec must agree with the
 * dataset (the data is prepared at the model's resolution), otherwise a UsageError says which.
 */
export function resolveModelSpec(spec: ModelSpec, data?: DatasetShape): ResolvedModelSpec {
  const [h, w] = spec.inputSize === undefined ? [data?.height, data?.width]
    : typeof spec.inputSize === 'number' ? [spec.inputSize, spec.inputSize] : spec.inputSize;
  const channels = spec.inputChannels ?? data?.channels;
  const classes = spec.classes ?? data?.classes;
  if (h === undefined || w === undefined || channels === undefined || classes === undefined) {
    throw new UsageError('model: inputSize, inputChannels and classes are needed when no dataset gives them');
  }
  if (data) {
    const clash: string[] = [];
    if (data.height !== h || data.width !== w) clash.push(`inputSize ${h}×${w} but the dataset is ${data.height}×${data.width}`);
    if (data.channels !== channels) clash.push(`inputChannels ${channels} but the dataset has ${data.channels}`);
    if (data.classes !== classes) clash.push(`classes ${classes} but the dataset has ${data.classes}`);
    if (clash.length) throw new UsageError(`model spec does not match the dataset: ${clash.join('; ')}`);
  }
  const normalize = spec.normalize ?? defaultNormalize(channels);
  if (normalize.mean.length !== channels || normalize.std.length !== channels) {
    throw new UsageError(`model.normalize: mean and std need ${channels} values (one per input channel)`);
  }
  return {
    arch: spec.arch,
    height: h,
    width: w,
    inputChannels: channels,
    classes,
    widthMultiplier: spec.width ?? 1,
    normalize,
    pretrained: spec.pretrained,
    pretrainedExclude: spec.pretrainedExclude,
  };
}

/** Build an architecture with seeded weights. (Loading `pretrained` weights is io.ts' job.) */
export function buildNetwork(spec: ResolvedModelSpec, seed = 0, opts: BuildOptions = {}): Network {
  if (spec.arch === 'vgg16') return buildVgg16(spec, seed, opts);
  if (spec.arch === 'resnet50') return buildResnet50(spec, seed, opts);
  throw new UsageError(`unknown model.arch '${spec.arch as string}'; expected vgg16 or resnet50`);
}
