// Shared by the dataset tests: temp folders and a fixture cache (fixtures are written once per run).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixture, type FixtureOptions, type FixtureSummary } from '../../src/data/fixtures.js';
import type { DatasetKind } from '../../src/data/spec.js';

export function tempDir(prefix = 'sei-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const roots: string[] = [];
process.on('exit', () => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });

/** A fresh temp folder removed when the test process exits. */
export function scratch(prefix?: string): string {
  const d = tempDir(prefix);
  roots.push(d);
  return d;
}

const FOLDER: Record<string, string> = {
  'tiny-imagenet-200': 'tiny-imagenet-200', notmnist: 'notMNIST_small', 'chest-xray': 'chest_xray', idx: 'fashion', imagefolder: 'shapes',
};

/** Writes a fixture in a new temp folder under the published folder name. */
export async function fixture(kind: DatasetKind, opts: FixtureOptions = {}): Promise<FixtureSummary> {
  return writeFixture(kind, join(scratch(), FOLDER[kind]!), opts);
}

export const WORDNET_INSTALLED = (await import('node:fs')).existsSync('/usr/share/wordnet/data.noun');
export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
