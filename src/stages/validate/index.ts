// validate: does the importance curve predict retrained accuracy? Across the gathered evaluate
// cells of one sweep (cut points × seeds): rank correlations with bootstrap intervals, whether
// I-SPLIT's best cut is the best retrained one, regret against the layer-size heuristic at equal
// payload, and a leave-one-cut-out calibrated predictor of accuracy from the curve.
import { Type, type Static } from '@sinclair/typebox';
import type { StageDefinition } from '../types.js';
import { MIN_CUTS, type ValidateMetrics } from './compute.js';
import { singleInput, upstreamMetrics } from '../metrics.js';
import { ImportanceMetrics } from '../importance/metrics.js';
import { EvaluateMetrics } from '../evaluate/metrics.js';
import { ValidateMetricsSchema } from './metrics.js';

const Params = Type.Object({
  bootstrap: Type.Object({
    iterations: Type.Integer({ minimum: 10, default: 1000, description: 'bootstrap resamples of test images and seeds' }),
    seed: Type.Integer({ minimum: 0, default: 0 }),
  }, { additionalProperties: false, default: {} }),
  payloadPrecision: Type.Union([Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('int8')], {
    default: 'fp32', description: 'precision of the transmitted tensor that sets the payload budget for the regret',
  }),
  payloadBudgetBytes: Type.Optional(Type.Integer({
    minimum: 1,
    description: 'bytes per image both heuristics may send in the regret comparison (default: what I-SPLIT\'s choice sends); I-SPLIT then picks the highest CUI within it',
  })),
}, { additionalProperties: false });
type ValidateParams = Static<typeof Params>;

export const CORRECTNESS_FILE = 'correct-fp32.bin';

const stage: StageDefinition<ValidateParams, ValidateMetrics> = {
  name: 'validate',
  description: 'Validate the importance curve against retrained accuracy across the cut points of a sweep',
  params: Params,
  metrics: ValidateMetricsSchema,
  inputs: {
    importance: { kind: 'one', description: 'the importance cell of the same model and dataset' },
    evaluations: { kind: 'many', minItems: MIN_CUTS, distinctBy: 'cut', description: `evaluate cells gathered over the cut (and seed) axes; at least ${MIN_CUTS} cut points` },
  },
  codeDeps: [],
  outputs: [
    'validation.json: rank correlations, hit/regret, calibration',
  ],
  async run(ctx) {
    const { readFile, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { validateSweep } = await import('./compute.js');
    const importance = upstreamMetrics(singleInput(ctx.inputs, 'importance'), ImportanceMetrics);
    const evaluations = ctx.inputs.evaluations;
    if (!Array.isArray(evaluations)) throw new Error('validate: the evaluations input must be gathered ({from: evaluate, gather: [cut, seed]})');
    const precision = ctx.params.payloadPrecision ?? 'fp32';
    const inputs = await Promise.all(evaluations.map(async (e) => {
      const m = upstreamMetrics(e, EvaluateMetrics);
      const bytes = await readFile(join(e.dir, CORRECTNESS_FILE));
      const seed = typeof e.coords.seed === 'number' ? e.coords.seed : Number((e.params as { seed?: number })?.seed ?? 0);
      return {
        cellId: e.cellId, cut: m.cut, seed: Number.isFinite(seed) ? seed : 0, accuracy: m.accuracy,
        payloadBytes: m.payload.bytes.bottleneck[precision]!,
        correct: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      };
    }));
    const metrics = validateSweep(importance, inputs, {
      bootstrapIterations: ctx.params.bootstrap?.iterations ?? 1000,
      bootstrapSeed: ctx.params.bootstrap?.seed ?? 0,
      payloadPrecision: precision,
      ...(ctx.params.payloadBudgetBytes !== undefined ? { payloadBudgetBytes: ctx.params.payloadBudgetBytes } : {}),
    });
    ctx.log(`validate: ${metrics.cuts.length} cuts × ${metrics.seeds.length} seeds; Spearman ρ ${metrics.spearman.value.toFixed(3)} ` +
      `[${metrics.spearman.ci95.map((v) => v.toFixed(3)).join(', ')}], Kendall τ ${metrics.kendall.value.toFixed(3)}; ` +
      `I-SPLIT best ${metrics.isplitBest}, retrained best ${metrics.retrainedBest}`);
    await writeFile(join(ctx.outDir, 'validation.json'), JSON.stringify(metrics, null, 2));
    return { metrics };
  },
};

export default stage;
