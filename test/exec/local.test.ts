// The local executor on its own: worker reuse, retirement of bloated workers, stage errors.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalExecutor } from '../../src/exec/local.js';
import type { CellSpec } from '../../src/exec/types.js';
import { FIXTURE_STAGES, readJournalSync, tempDir, WRITE_TEXT_DEFAULTS } from './helpers.js';

describe('local executor', function () {
  this.timeout(30_000);
  let dir: string;
  let journal: string;
  beforeEach(() => {
    dir = tempDir('sei-local-');
    journal = join(dir, 'journal.jsonl');
    mkdirSync(join(dir, 'logs'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spec = (text: string, stage = 'write-text'): CellSpec => ({
    cellId: `id-${text}`, key: `key-${text}`, stage, instance: 'w', params: { ...WRITE_TEXT_DEFAULTS, text }, coords: { text },
    inputs: {}, outDir: join(dir, 'tmp', text), cacheDir: join(dir, 'cache'), logPath: join(dir, 'logs', `${text}.log`),
    settings: {}, attempt: 1, provenance: { git: { commit: null, dirty: null } },
  });

  it('reuses a worker for consecutive cells, and retires one over its memory limit', async () => {
    const env = { SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal };
    const reuse = new LocalExecutor({ jobs: 1, env });
    const r1 = await reuse.submit(spec('a'));
    const r2 = await reuse.submit(spec('b'));
    await reuse.close();
    assert.ok(r1.ok && r2.ok);
    const retire = new LocalExecutor({ jobs: 1, env, maxRssBytes: 1 });
    await retire.submit(spec('c'));
    await retire.submit(spec('d'));
    await retire.close();
    const pid = (t: string) => readJournalSync(journal).find((e) => e.text === t && e.event === 'start')!.pid;
    assert.equal(pid('a'), pid('b'));
    assert.notEqual(pid('c'), pid('d'));
    if (r1.ok) {
      assert.deepEqual(r1.manifest.map((m) => m.path), ['result.json', 'text.txt']);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'tmp', 'a', 'result.json'), 'utf8')).metrics, r1.metrics);
    }
  });

  it('reports an unknown stage as the cell\'s error, in its log too', async () => {
    const ex = new LocalExecutor({ jobs: 1, env: { SEI_STAGE_PATH: FIXTURE_STAGES } });
    const r = await ex.submit(spec('z', 'no-such-stage'));
    await ex.close();
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.failure, 'error');
      assert.match(r.error, /unknown stage "no-such-stage"/);
    }
    assert.match(readFileSync(join(dir, 'logs', 'z.log'), 'utf8'), /failed: .*unknown stage/);
  });
});
