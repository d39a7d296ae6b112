// A full disk for real: the store lives on a small tmpfs (mounting one needs root; the test
// is skipped, saying why, otherwise). A cell that finds no room stops the run with exit 3 and a
// message naming the folder and the space needed, no stack trace and a whole database; after
// the filesystem grows, the same command finishes without redoing finished cells.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DISK_FULL_EXIT_CODE } from '../../src/util/disk-space.js';
import { openStore } from '../../src/store/store.js';
import { FIXTURE_STAGES, readJournalSync, tempDir } from '../exec/helpers.js';
import { describeResult, running, sleep, startSei } from './sei-process.js';

const TEXT = 'abcdefghij';
// Cells of 50 kB, 1 MB and 20 kB, run one at a time in this order; the 1 MB one does not fit.
const PIPELINE = `name: full
stages:
  words:
    stage: write-text
    params: { text: ${TEXT} }
    sweep:
      grid: { repeat: [5000, 100000, 2000] }
  all:
    stage: concat
    inputs: { parts: { from: words, gather: [repeat] } }
`;

function mountTmpfs(at: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check;
  } finally {
    db.close();
  }
}

describe('a full disk', function () {
  this.timeout(120_000);
  let dir: string;
  let mnt: string;
  let mounted = false;
  beforeEach(function () {
    dir = tempDir('sei-full-');
    mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const why = mountTmpfs(mnt, '1m');
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    mounted = true;
  });
  afterEach(async () => {
    for (const child of running) child.kill('SIGKILL');
    await sleep(running.size > 0 ? 300 : 0);
    if (mounted) execFileSync('umount', ['-l', mnt]);
    mounted = false;
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops the run with exit 3, names the folder and the space needed, and resumes once there is room', async () => {
    writeFileSync(join(dir, 'p.yaml'), PIPELINE);
    const journal = join(dir, 'journal.jsonl');
    const env = { SEI_STAGE_PATH: FIXTURE_STAGES, SEI_TEST_JOURNAL: journal, SEI_DISK_RESERVE_BYTES: '0' };
    const store = join(mnt, 'st');
    const args = ['run', 'p.yaml', '--store', store, '--jobs', '1', '--no-progress'];

    const full = await startSei(args, env, dir).done;
    assert.equal(full.code, DISK_FULL_EXIT_CODE, describeResult(full));
    assert.match(full.stderr, new RegExp(`error: disk full: no room to write in ${store}/tmp, [0-9.]+ \\S+ free; (about|at least) [0-9.]+ \\S+ needed`));
    assert.doesNotMatch(full.stderr + full.stdout, /\n\s+at .*\(.*:\d+:\d+\)|SqliteError/, 'no stack trace, no raw SQLite error');
    console.log(`      disk-full run: exit ${full.code}; ${full.stderr.trim().split('\n').pop()}`);
    assert.equal(integrity(join(store, 'store.sqlite')), 'ok');
    let st = openStore(store, { readonly: true });
    const states = Object.fromEntries(st.listCells({ pipeline: 'full' }).map((c) => [String(c.coords.repeat ?? 'all'), c.state]));
    st.close();
    assert.deepEqual(states, { 5000: 'done', 100000: 'interrupted', 2000: 'pending', all: 'pending' });
    const started = (): number[] => readJournalSync(journal).filter((e) => e.event === 'start').map((e) => String(e.text).length);
    assert.equal(readJournalSync(journal).filter((e) => e.event === 'start').length, 2, 'no new cell was started after the disk filled');

    // The check before a run: not even started when the room kept free is not there.
    const refused = await startSei(args, { ...env, SEI_DISK_RESERVE_BYTES: String(64 * 2 ** 20) }, dir).done;
    assert.equal(refused.code, DISK_FULL_EXIT_CODE, describeResult(refused));
    assert.match(refused.stderr, new RegExp(`error: disk full: the run of full \\(3 cells to run\\) needs about 64 MiB in ${store}, but only .* is free`));
    assert.equal(started().length, 2, 'the refused run started nothing');

    // Room again: the same command finishes, without redoing the finished cell.
    execFileSync('mount', ['-o', 'remount,size=8m', mnt]);
    const resumed = await startSei(args, env, dir).done;
    assert.equal(resumed.code, 0, describeResult(resumed));
    st = openStore(store, { readonly: true });
    assert.ok(st.listCells({ pipeline: 'full' }).every((c) => c.state === 'done'));
    st.close();
    const done = readJournalSync(journal).filter((e) => e.stage === 'write-text' && e.event === 'done');
    assert.equal(done.length, 3, 'each write-text cell completed once');
    assert.equal(integrity(join(store, 'store.sqlite')), 'ok');
  });

  it('a full disk while planning (the file index) is the same clean failure', async () => {
    // The store exists (so the index is kept there), then the disk fills up.
    writeFileSync(join(dir, 'input.txt'), 'external input');
    writeFileSync(join(dir, 'p.yaml'), `name: read
stages:
  copy:
    stage: read-file
    params: { path: input.txt }
`);
    const env = { SEI_STAGE_PATH: FIXTURE_STAGES, SEI_DISK_RESERVE_BYTES: '0' };
    const store = join(mnt, 'st');
    mkdirSync(join(store, 'cache'), { recursive: true });
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=64k'], { stdio: 'pipe' });
    } catch { /* dd stops with "No space left on device", as intended */ }
    const r = await startSei(['run', 'p.yaml', '--store', store, '--no-progress'], env, dir).done;
    assert.equal(r.code, DISK_FULL_EXIT_CODE, describeResult(r));
    assert.match(r.stderr, /^error: disk full: no room to write in \S+cache/m);
    assert.doesNotMatch(r.stderr, /SqliteError|\n\s+at /);
    assert.ok(!existsSync(join(store, 'store.sqlite')) || integrity(join(store, 'store.sqlite')) === 'ok');
  });
});
