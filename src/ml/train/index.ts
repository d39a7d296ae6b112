// The training engine's public surface.
export { trainModel, splitIndices, type TrainOptions, type TrainResult, type TrainData, type EpochRecord } from './train.js';
export { evaluateSource, evaluateImages, networkLogitsFn, classificationMetrics, allIndices, type EvalResult, type EvalOptions, type LogitsFn } from './evaluate.js';
export { adam, sgd, type Optimizer } from './optimizers.js';
export { learningRateAt } from './schedule.js';
export { Rng, deriveSeed } from '../../util/random.js';
export { imageSource, runParts, buildActivationCache, type BatchSource, type CacheOptions } from './sources.js';
