// Plan-time checks shared by the stages that take a model spec and a cut.
import type { ModelSpec } from '../../ml/spec.js';
import { CUT_CHANNELS, checkCutAndRatio } from './cut-channels.js';

export function checkModelSpec(model: ModelSpec): string[] {
  if (!CUT_CHANNELS[model.arch]) return [`model.arch: unknown architecture '${model.arch}'`];
  return [];
}

export function checkSplit(model: ModelSpec, cut: string, ratio: number): string[] {
  return checkCutAndRatio(model.arch, model.width ?? 1, cut, ratio);
}
