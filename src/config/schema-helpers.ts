// Schema helpers for stage authors. A param that names a file the stage writes must use
// OutputPath(): the config validator then rejects absolute paths and '..' so that no output can
// land outside the cell's folder in the store.
import { Type, type StringOptions } from '@sinclair/typebox';

/** JSON-schema `format` of params that are output paths (relative, inside the cell folder). */
export const OUTPUT_PATH_FORMAT = 'output-path';

export function OutputPath(options: StringOptions = {}) {
  return Type.String({ ...options, format: OUTPUT_PATH_FORMAT });
}

/** True when `p` is a relative path that stays inside the folder it is resolved against. */
export function isSafeOutputPath(p: string): boolean {
  if (p === '' || p.includes('\0')) return false;
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) return false;
  return !p.split(/[\\/]+/).some((seg) => seg === '..');
}
