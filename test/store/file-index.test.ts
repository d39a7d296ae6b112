// The external-input index: an unchanged tree is served from the index (stat only); a changed
// file is re-read; a missing path is reported.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileIndex, MissingInputError } from '../../src/store/file-index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('external input file index', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'sei-index-test-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function makeTree(n: number): string {
    const root = join(dir, 'data');
    for (let i = 0; i < n; i++) {
      const sub = join(root, `class${i % 10}`);
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `img${i}.bin`), `content ${i}`);
    }
    return root;
  }

  it('re-reads only the files that changed, across index instances (persistent)', async () => {
    const root = makeTree(300);
    const cache = join(dir, 'store', 'cache');
    const hash = (): ReturnType<FileIndex['hashPath']> => {
      const index = new FileIndex(cache);
      try {
        const out = index.hashPath(root);
        index.flush();
        return out;
      } finally {
        index.close();
      }
    };
    const unflushed = new FileIndex(cache);
    unflushed.hashPath(root);
    unflushed.close();
    assert.ok(!existsSync(join(cache, 'file-index.sqlite')), 'nothing is written before flush()');
    const first = hash();
    assert.equal(first.files, 300);
    assert.equal(first.filesRead, 300);
    assert.ok(existsSync(join(cache, 'file-index.sqlite')));
    assert.deepEqual(readdirSync(cache), ['file-index.sqlite'], 'no -wal or -shm file left behind');
    // Entries hashed right after a write are "racily clean" and re-checked once; wait that out.
    await sleep(150);
    let r = hash();
    assert.equal(r.hash, first.hash);
    assert.ok(r.filesRead <= 300);
    await sleep(150);
    r = hash();
    assert.equal(r.filesRead, 0, 'an unchanged tree is not re-read');
    assert.equal(r.hash, first.hash);

    // Same size, new content: caught by mtime/ctime.
    writeFileSync(join(root, 'class3', 'img3.bin'), 'CONTENT 3');
    r = hash();
    assert.equal(r.filesRead, 1);
    assert.notEqual(r.hash, first.hash);
    const changed = r.hash;

    // A change that restores the old mtime is still caught (ctime moves).
    await sleep(150);
    const file = join(root, 'class5', 'img5.bin');
    writeFileSync(file, 'content X');
    utimesSync(file, new Date(2020, 0, 1), new Date(2020, 0, 1));
    r = hash();
    assert.ok(r.filesRead >= 1);
    assert.notEqual(r.hash, changed);
  });

  it('a single file is hashed by content', () => {
    const f = join(dir, 'weights.bin');
    writeFileSync(f, 'abc');
    const a = new FileIndex(join(dir, 'cache')).hashPath(f);
    assert.equal(a.kind, 'file');
    assert.equal(a.hash, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('a missing path is a clear error', () => {
    assert.throws(() => new FileIndex(join(dir, 'cache')).hashPath(join(dir, 'nope')), (e: unknown) => e instanceof MissingInputError && /nope does not exist/.test((e as Error).message));
  });

  it('without a store (persist=false) nothing is written', () => {
    const root = makeTree(5);
    const r = new FileIndex(join(dir, 'store', 'cache'), false).hashPath(root);
    assert.equal(r.files, 5);
    assert.ok(!existsSync(join(dir, 'store')));
  });
});
