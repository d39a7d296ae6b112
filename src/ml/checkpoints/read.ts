// Open a checkpoint file by its content (zip → PyTorch, else .safetensors by its extension).
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { extname } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { readSafetensors } from './safetensors.js';
import { readTorchCheckpoint } from './torch-zip.js';
import type { Checkpoint } from './tensors.js';

/** True when `path` names a PyTorch or safetensors checkpoint (rather than a tfjs model.json or folder). */
export function isTorchCheckpointPath(path: string): boolean {
  return ['.pth', '.pt', '.bin', '.ckpt', '.safetensors'].includes(extname(path).toLowerCase());
}

export function readCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new UsageError(`checkpoint not found: ${path}`);
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try { readSync(fd, head, 0, 4, 0); } finally { closeSync(fd); }
  if (head[0] === 0x50 && head[1] === 0x4b) return readTorchCheckpoint(path);
  if (extname(path).toLowerCase() === '.safetensors') return readSafetensors(path);
  return readTorchCheckpoint(path);
}
