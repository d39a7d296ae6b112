// Declarative specs of a model, a training run, a bottleneck and a freeze regime. TypeBox schemas
// (validated by the config loader with Ajv) plus their static types. Only cheap imports here: stage
// modules import this file at plan time.
import { Type, type Static } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

export const ArchSchema = Type.Union([Type.Literal('vgg16'), Type.Literal('resnet50')], {
  description: 'vgg16: configuration D, no batch norm; resnet50: v1.5 (stride in the 3×3 conv)',
});
export type Arch = Static<typeof ArchSchema>;

export const NormalizeSchema = Type.Object(
  {
    mean: Type.Array(Type.Number(), { minItems: 1, description: 'per-channel mean, on pixel/255' }),
    std: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, description: 'per-channel std, on pixel/255' }),
  },
  strict,
);
export type Normalize = Static<typeof NormalizeSchema>;

export const ModelSpecSchema = Type.Object(
  {
    arch: ArchSchema,
    inputSize: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })])], {
        description: 'H = W, or [H, W]; defaults to the dataset resolution',
      }),
    ),
    inputChannels: Type.Optional(Type.Integer({ minimum: 1, description: 'defaults to the dataset channels' })),
    classes: Type.Optional(Type.Integer({ minimum: 2, description: 'defaults to the dataset class count' })),
    width: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'channel (and FC) width multiplier' }),
    pretrained: Type.Optional(Type.String({ minLength: 1, description: "weights to start from: a tfjs layers model.json (or its folder), or a PyTorch state_dict (.pth/.pt) or .safetensors file with torchvision's names" })),
    pretrainedExclude: Type.Optional(
      Type.Array(Type.String(), { description: 'layers left at their fresh init when loading `pretrained` (e.g. the classifier)' }),
    ),
    normalize: Type.Optional(NormalizeSchema),
  },
  strict,
);
export type ModelSpec = Static<typeof ModelSpecSchema>;

/** A ModelSpec with every size known: what the builders take. */
export interface ResolvedModelSpec {
  arch: Arch;
  height: number;
  width: number;
  inputChannels: number;
  classes: number;
  widthMultiplier: number;
  normalize: Normalize;
  pretrained?: string;
  pretrainedExclude?: string[];
}

export const ScheduleSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('constant'), Type.Literal('step'), Type.Literal('cosine')], { default: 'constant' }),
    stepEpochs: Type.Optional(Type.Integer({ minimum: 1, description: 'step: multiply the rate by `gamma` every this many epochs' })),
    gamma: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'step: decay factor (default 0.1)' })),
    minLearningRate: Type.Optional(Type.Number({ minimum: 0, description: 'cosine: floor (default 0)' })),
    warmupEpochs: Type.Optional(Type.Integer({ minimum: 0, description: 'linear warm-up epochs (default 0)' })),
  },
  strict,
);
export type Schedule = Static<typeof ScheduleSchema>;

export const TrainingSpecSchema = Type.Object(
  {
    epochs: Type.Integer({ minimum: 1, default: 10 }),
    batchSize: Type.Integer({ minimum: 1, default: 32 }),
    microBatch: Type.Optional(Type.Integer({
      minimum: 1,
      description: 'images per forward/backward pass; gradients are accumulated over a batch, so batchSize keeps its meaning (default: the whole batch, or on wasm the most that fits the heap)',
    })),
    optimizer: Type.Union([Type.Literal('adam'), Type.Literal('sgd')], { default: 'adam' }),
    learningRate: Type.Number({ exclusiveMinimum: 0, default: 0.001 }),
    momentum: Type.Number({ minimum: 0, maximum: 0.999999, default: 0.9, description: 'sgd only' }),
    schedule: Type.Optional(ScheduleSchema),
    weightDecay: Type.Number({ minimum: 0, default: 0, description: 'L2, added to the gradient as wd·w' }),
    earlyStopping: Type.Optional(
      Type.Object(
        {
          patience: Type.Integer({ minimum: 1, default: 3 }),
          metric: Type.Union([Type.Literal('valAccuracy'), Type.Literal('valLoss')], { default: 'valAccuracy' }),
        },
        strict,
      ),
    ),
    augment: Type.Object({ flip: Type.Boolean({ default: false, description: 'seeded horizontal flip' }) }, { ...strict, default: {} }),
    seed: Type.Integer({ minimum: 0, default: 0 }),
    valFraction: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'hold out this share of train when the dataset has no val split' }),
    ),
    maxBatchesPerEpoch: Type.Optional(Type.Integer({ minimum: 1, description: 'cap on batches per epoch (quick runs)' })),
  },
  strict,
);
export type TrainingSpec = Static<typeof TrainingSpecSchema>;

export const BottleneckSpecSchema = Type.Object(
  {
    ratio: Type.Number({ exclusiveMinimum: 0, default: 8, description: 'f = round(C / ratio)' }),
    expansion: Type.Integer({ minimum: 1, default: 2, description: 'the code has expansion·f channels' }),
  },
  strict,
);
export type BottleneckSpec = Static<typeof BottleneckSpecSchema>;

export const RegimeSchema = Type.Union(
  [Type.Literal('bottleneck'), Type.Literal('bottleneck+classifier'), Type.Literal('all')],
  { default: 'bottleneck', description: 'what retraining updates: the bottleneck only, plus the last FC layer, or everything' },
);
export type Regime = Static<typeof RegimeSchema>;

export const IMAGENET_NORMALIZE: Normalize = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** The default normalisation: ImageNet statistics for RGB input, mean 0.5 / std 0.25 otherwise. */
export function defaultNormalize(channels: number): Normalize {
  if (channels === 3) return IMAGENET_NORMALIZE;
  return { mean: Array(channels).fill(0.5), std: Array(channels).fill(0.25) };
}

/** Fill the training spec's defaults (for callers that did not go through the config loader). */
export function withTrainingDefaults(t: Partial<TrainingSpec>): TrainingSpec {
  return {
    epochs: 10,
    batchSize: 32,
    optimizer: 'adam',
    learningRate: 0.001,
    momentum: 0.9,
    weightDecay: 0,
    seed: 0,
    ...t,
    augment: { flip: false, ...(t.augment ?? {}) },
  };
}
