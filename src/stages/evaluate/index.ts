// evaluate: a retrained split model on the test split — accuracy (overall, balanced, per class),
// bytes at the cut (raw and after the bottleneck, fp32/fp16/int8) with the accuracy after
// quantise→dequantise of the transmitted code, FLOPs/parameters and batch-1 times of each side.
import type { StageDefinition } from '../types.js';
import { EvaluateMetrics } from './metrics.js';
import { Params, type EvaluateParams } from './params.js';

export type { EvaluateParams } from './params.js';

const stage: StageDefinition<EvaluateParams, EvaluateMetrics> = {
  name: 'evaluate',
  description: 'Test accuracy, payload at the cut per precision, quantised accuracy, FLOPs/params and timing of each side',
  params: Params,
  metrics: EvaluateMetrics,
  inputs: {
    dataset: { kind: 'one', description: 'the prepare-dataset cell' },
    model: { kind: 'one', description: 'a split-retrain cell' },
    base: { kind: 'one', description: 'the train-base cell (for its unsplit accuracy)' },
  },
  codeDeps: [],
  usesBackend: true,
  outputs: [
    'correct-fp32.bin: per-test-image correctness (1 byte each)',
    'predictions.json: labels and predictions per payload precision',
  ],
  async run(ctx) {
    const { runEvaluate } = await import('./run.js');
    return runEvaluate(ctx);
  },
};

export default stage;
