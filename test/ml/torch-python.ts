// The PyTorch side of the cross-framework tests: test/ml/torch_check.py run by Debian's
// python3-torch. Tests skip (with the reason) only when that Python has no torch module.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.SEI_TEST_PYTHON ?? '/usr/bin/python3';

/** test/ml/torch_check.py in the source tree (the tests run from dist/test/ml). */
export const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'ml', 'torch_check.py');

let availability: string | undefined | null = null;

/** Why PyTorch cannot run here, or undefined when it can. */
export function torchUnavailable(): string | undefined {
  if (availability !== null) return availability;
  if (!existsSync(PYTHON)) availability = `${PYTHON} not found (Debian: apt-get install python3-torch)`;
  else {
    const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    availability = r.status === 0 ? undefined
      : `${PYTHON} has no torch module (Debian: apt-get install python3-torch): ${r.stderr.trim().split('\n').pop()}`;
  }
  return availability;
}

/** Runs torch_check.py with the arguments (and stdin); throws with its stderr when it fails. */
export function runTorch(args: string[], input?: string): string {
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, ...args], {
    input, encoding: 'utf8', maxBuffer: 256 * 2 ** 20, env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`torch_check.py ${args[0]} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Skips the running test, saying why in its title, when PyTorch cannot run here. */
export function skipWithoutTorch(ctx: Mocha.Context): void {
  const why = torchUnavailable();
  if (!why) return;
  if (ctx.test) ctx.test.title += ` (skipped: ${why})`;
  console.warn(`skipped: ${why}`);
  ctx.skip();
}
