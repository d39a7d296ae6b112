// Plan-time check of model.pretrained when it names a PyTorch or safetensors checkpoint: the names
// and shapes against the architecture and width (and the class count when the spec gives it; the
// dataset's count is checked again when the weights are loaded). Reads the pickle and the zip's
// directory only, no tensor data, and no TensorFlow.js.
import { existsSync } from 'node:fs';
import { isUsageError } from '../../util/errors.js';
import type { ModelSpec } from '../spec.js';
import { describeArchitecture, matchCheckpoint, matchProblems } from './match.js';
import { isTorchCheckpointPath, readCheckpoint } from './read.js';
import { guessArchitecture, type TorchArchitecture } from './torchvision.js';

export function checkTorchCheckpoint(model: ModelSpec, path: string | undefined): string[] {
  if (path === undefined || !isTorchCheckpointPath(path) || !existsSync(path)) return [];
  try {
    const ckpt = readCheckpoint(path);
    const guess = guessArchitecture(new Map(ckpt.tensors.map((t) => [t.name, t.shape])));
    const want: TorchArchitecture = {
      arch: model.arch, width: model.width ?? 1,
      classes: model.classes ?? guess?.classes ?? 0, inputChannels: model.inputChannels ?? guess?.inputChannels ?? 3,
    };
    const problems = matchProblems(matchCheckpoint(ckpt, want), new Set(model.pretrainedExclude ?? []));
    if (!problems.length) return [];
    const looks = guess ? `; it looks like torchvision ${describeArchitecture(guess)}` : '';
    return [`model.pretrained: ${path} does not match ${want.arch} width ${want.width}${looks}: ${problems.join('; ')}`];
  } catch (e) {
    if (isUsageError(e)) return [`model.pretrained: ${(e as Error).message}`];
    throw e;
  }
}
