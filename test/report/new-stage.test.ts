// How much a new stage needs to reach the report: the tally fixture stage (test/fixtures/stages/
// tally: index.ts with params, metrics schema and run; report.ts with its table) is registered
// through SEI_STAGE_PATH, run by `sei run` on a real store and reported by `sei report`, with
// no edit anywhere in src/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SEI = resolve(here, '..', '..', '..', 'bin', 'sei.js');
const STAGES = resolve(here, '..', 'fixtures', 'stages');
/** The stage's own sources, to count what it took. */
const SOURCES = resolve(here, '..', '..', '..', 'test', 'fixtures', 'stages', 'tally');

function sei(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SEI, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, SEI_STAGE_PATH: STAGES } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Lines of code: neither blank nor comment-only. */
function codeLines(file: string): number {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//')).length;
}

describe('a new stage reaches the report', function () {
  this.timeout(240_000);
  let tmp: string;
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'sei-new-stage-')); });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('runs in a pipeline on a real store and its table appears in the generated report', function () {
    writeFileSync(join(tmp, 'words.yaml'), [
      'name: words',
      'stages:',
      '  tally:',
      '    stage: tally',
      '    params: { words: [split] }',
      '    sweep:',
      '      zip: { words: [[split, et, impera], [divide, and, rule, everything]] }',
      '',
    ].join('\n'));
    const store = join(tmp, 'artifacts');
    const run = sei(['run', 'words.yaml', '--store', store, '--no-progress', '-j', '1'], tmp);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const rep = sei(['report', 'words.yaml', '--store', store, '--format', 'md,csv', '--out', join(tmp, 'report')], tmp);
    assert.equal(rep.status, 0, rep.stderr + rep.stdout);
    const md = readFileSync(join(tmp, 'report', 'report.md'), 'utf8');
    assert.match(md, /## Word tally/);
    assert.match(md, /\| Words \| Longest \|/);
    assert.match(md, /\| 3 \| impera \|/);
    assert.match(md, /\| 4 \| everything \|/);
  });

  it('takes two small files: the stage (params, schema, run) and its report contribution', () => {
    const stage = codeLines(join(SOURCES, 'index.ts'));
    const report = codeLines(join(SOURCES, 'report.ts'));
    console.log(`      lines of code: stage ${stage}, report contribution ${report}`);
    assert.ok(report <= 12, `report.ts: ${report} lines`);
    assert.ok(stage + report <= 40, `${stage + report} lines`);
  });
});
