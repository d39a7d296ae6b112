// What an importance cell reports (result.json "metrics"): read by validate, compare-subsets and the report.
import { Type, type Static } from '@sinclair/typebox';
import { Fields } from '../metrics.js';

export const ImportanceMetrics = Fields({
  cutPoints: Type.Array(Type.String(), { description: 'cut points of the base network, input to output' }),
  cui: Type.Array(Type.Number(), { description: 'cumulative importance (CUI) per cut point' }),
  log10Cui: Type.Array(Type.Number()),
  candidates: Type.Array(Type.String(), { description: 'local maxima of the curve' }),
  best: Type.String({ description: 'the candidate with the highest CUI' }),
  cdeBytes: Type.Array(Type.Number(), { description: 'bytes at each cut point (the layer-size curve)' }),
  cdeCandidates: Type.Array(Type.String()),
  target: Type.Union([Type.Literal('label'), Type.Literal('predicted')]),
  imagesPerClass: Type.Union([Type.Integer(), Type.Literal('all')]),
  images: Type.Integer(),
  split: Type.String(),
  readPoint: Type.Union([Type.Literal('post-activation'), Type.Literal('reference')], { description: 'where each cut was read' }),
  candidateRule: Type.Union([Type.Literal('strict'), Type.Literal('reference')], { description: 'how candidates were picked from the curve' }),
  scoredAccuracy: Type.Number({ description: 'share of scored images the base classifies correctly' }),
  perClass: Type.Array(Fields({
    class: Type.String(), cui: Type.Array(Type.Number()), candidates: Type.Array(Type.String()), best: Type.String(),
  })),
});
export type ImportanceMetrics = Static<typeof ImportanceMetrics>;
