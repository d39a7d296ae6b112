// The dataset part of a pipeline's params (configs/datasets/*.yaml): which dataset, where it is,
// how it is preprocessed (resolution, channels), which classes and how it is split.
import { Type, type Static } from '@sinclair/typebox';
import { isAbsolute, resolve } from 'node:path';

export const DATASET_KINDS = ['tiny-imagenet-200', 'notmnist', 'chest-xray', 'idx', 'imagefolder', 'synthetic'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 0 });

export const ClassSubsetSchema = Type.Union([
  Type.Object({
    // At least two entries (checkSpec says so in words: a schema message for a union is unclear).
    names: Type.Array(Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })]), {
      description: 'class names, class ids (e.g. WordNet ids or folder names) or original label indices (at least two)',
    }),
  }, { additionalProperties: false }),
  Type.Object({
    random: Type.Integer({ description: 'number of classes drawn at random (at least two; checked by checkSpec)' }),
    seed: Type.Optional(Seed),
  }, { additionalProperties: false }),
  Type.Object({
    wordnetAncestor: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
      description: 'every class under this WordNet noun (or under any of a list): a lemma ("dog": its first sense), a sense ("food.n.02") or an offset ("n02084071")',
    }),
  }, { additionalProperties: false }),
]);
export type ClassSubset = Static<typeof ClassSubsetSchema>;

export const SplitSchema = Type.Object({
  valFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9, default: 0, description: 'validation split carved (stratified, seeded) out of train' })),
  testFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9, default: 0.2, description: 'test split carved out of sets without an official one' })),
  seed: Type.Optional(Seed),
}, { additionalProperties: false });
export type SplitSettings = Static<typeof SplitSchema>;

export const SyntheticSchema = Type.Object({
  classes: Type.Optional(Type.Integer({ minimum: 2, maximum: 64, default: 10 })),
  perClass: Type.Optional(Type.Integer({ minimum: 1, default: 200, description: 'training images per class' })),
  testPerClass: Type.Optional(Type.Integer({ minimum: 1, description: 'test images per class (default perClass/4)' })),
  noise: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.15, description: 'standard deviation of the pixel noise (0–1 scale)' })),
  seed: Type.Optional(Seed),
}, { additionalProperties: false });
export type SyntheticSettings = Static<typeof SyntheticSchema>;

export const DatasetSpecSchema = Type.Object({
  kind: Type.Union(DATASET_KINDS.map((k) => Type.Literal(k))),
  path: Type.Optional(Type.String({ minLength: 1, description: 'the unpacked dataset folder (relative paths resolve against the working directory)' })),
  resolution: Type.Integer({ minimum: 4, maximum: 1024, description: 'images are resized to resolution×resolution' }),
  channels: Type.Union([Type.Literal(1), Type.Literal(3)], { description: '1: grayscale; 3: RGB (grayscale is replicated)' }),
  fit: Type.Optional(Type.Union([Type.Literal('fill'), Type.Literal('cover')], { description: 'fill: stretch (default); cover: centre crop' })),
  classes: Type.Optional(ClassSubsetSchema),
  split: Type.Optional(SplitSchema),
  maxPerClass: Type.Optional(Type.Integer({ minimum: 1, description: 'cap on images per class in each split (seeded choice)' })),
  labelNames: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 2, description: 'names of label indices (idx datasets)' })),
  synthetic: Type.Optional(SyntheticSchema),
}, { additionalProperties: false });
export type DatasetSpec = Static<typeof DatasetSpecSchema>;

/** Split settings with defaults applied. */
export function splitSettings(spec: DatasetSpec): Required<SplitSettings> {
  return { valFraction: spec.split?.valFraction ?? 0, testFraction: spec.split?.testFraction ?? 0.2, seed: spec.split?.seed ?? 0 };
}

/** Synthetic settings with defaults applied. */
export function syntheticSettings(spec: DatasetSpec): Required<SyntheticSettings> {
  const s = spec.synthetic ?? {} as Partial<SyntheticSettings>;
  const perClass = s.perClass ?? 200;
  return {
    classes: s.classes ?? 10,
    perClass,
    testPerClass: s.testPerClass ?? Math.max(1, Math.round(perClass / 4)),
    noise: s.noise ?? 0.15,
    seed: s.seed ?? 0,
  };
}

/** The dataset folder as an absolute path, or undefined for the synthetic kind. */
export function datasetPath(spec: DatasetSpec): string | undefined {
  if (spec.kind === 'synthetic' || spec.path === undefined) return undefined;
  return isAbsolute(spec.path) ? spec.path : resolve(spec.path);
}

/** Semantic checks the schema cannot express; returns error messages. */
export function checkSpec(spec: DatasetSpec): string[] {
  const errors: string[] = [];
  if (spec.kind === 'synthetic') {
    if (spec.path !== undefined) errors.push('dataset.path: a synthetic dataset has no path (remove it)');
  } else {
    if (spec.path === undefined) errors.push(`dataset.path: required for kind "${spec.kind}" (the unpacked dataset folder)`);
    if (spec.synthetic !== undefined) errors.push(`dataset.synthetic: only for kind "synthetic", not "${spec.kind}"`);
  }
  const s = splitSettings(spec);
  if (s.valFraction + s.testFraction >= 1) errors.push('dataset.split: valFraction + testFraction must be below 1');
  const subset = spec.classes;
  const needTwo = 'a classifier needs at least two classes';
  if (subset && 'names' in subset && subset.names.length === 0) errors.push(`dataset.classes.names: an empty class subset; give at least two class names (${needTwo})`);
  if (subset && 'names' in subset && subset.names.length === 1) errors.push(`dataset.classes.names: a single class (${JSON.stringify(subset.names[0])}); give at least two class names (${needTwo})`);
  if (subset && 'random' in subset && subset.random < 2) errors.push(`dataset.classes.random: ${subset.random} classes; draw at least 2 (${needTwo})`);
  if (spec.labelNames !== undefined && spec.kind !== 'idx') errors.push('dataset.labelNames: only for kind "idx" (other kinds name classes from the data)');
  return errors;
}
