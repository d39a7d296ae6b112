// Provenance known once per run (the worker adds host, pid, backend and timings per cell):
// the project's git commit and whether the tree was dirty, and the versions of what ran.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

function versionOf(pkg: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export interface RunProvenance extends Record<string, unknown> {
  git: { commit: string | null; dirty: boolean | null };
  packages: Record<string, string | null>;
  host: string;
}

/** Git state of `projectRoot` and the versions of sei, node and the libraries cells run on. */
export function runProvenance(projectRoot: string): RunProvenance {
  const commit = git(['rev-parse', 'HEAD'], projectRoot);
  const status = commit === undefined ? undefined : git(['status', '--porcelain', '--untracked-files=no'], projectRoot);
  const packages: Record<string, string | null> = {
    'split-et-impera': (() => {
      try {
        return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
      } catch {
        return null;
      }
    })(),
    node: process.version,
  };
  for (const pkg of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', 'sharp', 'better-sqlite3']) {
    packages[pkg] = versionOf(pkg) ?? null;
  }
  return {
    git: { commit: commit ?? null, dirty: status === undefined ? null : status.length > 0 },
    packages,
    host: hostname(),
  };
}
