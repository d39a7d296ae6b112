// Test helpers for the config and pipeline tests: temporary projects (package.json, configs/,
// pipeline files) and the fixture stages on SEI_STAGE_PATH.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';
import { loadPipeline, type LoadOptions } from '../../src/pipeline/load.js';
import { buildPlan } from '../../src/pipeline/plan.js';
import type { Plan } from '../../src/pipeline/types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/fixtures/stages: the compiled fixture stages. */
export const fixtureStages = resolve(here, '..', 'fixtures', 'stages');
/** The YAML fixtures live in the source tree (they are not compiled). */
export const fixturePipelines = resolve(here, '..', '..', '..', 'test', 'fixtures', 'pipelines');

/** Puts the fixture stages on SEI_STAGE_PATH for the enclosing describe block. */
export function useFixtureStages(): void {
  let previous: string | undefined;
  before(() => {
    previous = process.env.SEI_STAGE_PATH;
    process.env.SEI_STAGE_PATH = fixtureStages;
  });
  after(() => {
    if (previous === undefined) delete process.env.SEI_STAGE_PATH;
    else process.env.SEI_STAGE_PATH = previous;
  });
}

export class TempProject {
  readonly root: string;
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'sei-config-test-'));
    writeFileSync(join(this.root, 'package.json'), '{"name":"tmp","type":"module"}\n');
  }
  /** Writes a file relative to the project root; returns its absolute path. */
  write(rel: string, text: string): string {
    const file = join(this.root, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }
  path(rel: string): string {
    return join(this.root, rel);
  }
  load(rel: string, opts: LoadOptions = {}) {
    return loadPipeline(this.path(rel), { projectRoot: this.root, ...opts });
  }
  async plan(rel: string, opts: LoadOptions = {}): Promise<Plan> {
    return buildPlan(await this.load(rel, opts), { storeDir: this.path('store') });
  }
  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Expects a ConfigError whose message matches every pattern; returns it. */
export async function expectConfigError(p: Promise<unknown>, ...patterns: (RegExp | string)[]): Promise<ConfigError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err instanceof Error ? err.stack : String(err)}`);
  assert.equal(err.exitCode, 2);
  for (const pattern of patterns) {
    if (typeof pattern === 'string') assert.ok(err.message.includes(pattern), `message lacks ${JSON.stringify(pattern)}:\n${err.message}`);
    else assert.match(err.message, pattern);
  }
  return err;
}
