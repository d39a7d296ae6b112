// Plan-time checks of the stages that take a model spec and a cut, from the params alone (the
// architecture formulas of src/ml/models/cut-points.ts; no TensorFlow.js).
import { ARCHS, checkSplitSpec, cutShapeOf } from '../../ml/models/cut-points.js';
import { bottleneckGeometry, noCompressionMessage } from '../../ml/bottleneck-geometry.js';
import type { BottleneckSpec } from '../../ml/spec.js';
import type { ModelSpec } from '../../ml/spec.js';

export function checkModelSpec(model: ModelSpec): string[] {
  if (!ARCHS.includes(model.arch)) return [`model.arch: unknown architecture '${model.arch}' (expected ${ARCHS.join(' or ')})`];
  return [];
}

/** Unknown cut (listing the valid ones), an input too small, a ratio leaving zero bottleneck channels. */
export function checkSplit(model: ModelSpec, cut: string, ratio: number): string[] {
  const size = model.inputSize;
  const [h, w] = size === undefined ? [224, 224] : typeof size === 'number' ? [size, size] : size;
  return checkSplitSpec(model.arch, cut, model.width ?? 1, ratio, h, w).map((m) => (m.startsWith('unknown cut') ? `cut: ${m}` : m));
}

/** A bottleneck whose code is not smaller than the tensor at the cut (checked once the split itself is valid). */
export function compressionWarnings(model: ModelSpec, cut: string, bottleneck: BottleneckSpec): string[] {
  if (checkSplit(model, cut, bottleneck.ratio).length) return [];
  const size = model.inputSize;
  const [h, w] = size === undefined ? [224, 224] : typeof size === 'number' ? [size, size] : size;
  const shape = cutShapeOf(model.arch, cut, h, w, model.width ?? 1);
  const g = bottleneckGeometry(shape, bottleneck, cut);
  return g.compresses ? [] : [noCompressionMessage(cut, shape, g, bottleneck)];
}
