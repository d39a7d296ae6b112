// `sei store rebuild`: the database is an index over the artifact folders; rebuild it from them
// (after the database or its WAL was lost, or damaged).
import type { Command } from 'commander';
import { DEFAULT_STORE } from '../progress/options.js';

interface RebuildOpts { store: string; verify?: boolean; json?: boolean }

export function register(program: Command): void {
  const store = program.command('store').description('maintain the artifact store');
  store
    .command('rebuild')
    .description('rebuild the store database from its artifact folders (objects/*/<key>/cell.json): after the database, or its -wal file, was lost or damaged')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .option('--verify', 're-hash every artifact file instead of trusting unchanged sizes and times')
    .option('--json', 'machine-readable output')
    .action(async (opts: RebuildOpts) => {
      const { existsSync, renameSync } = await import('node:fs');
      const { join, resolve } = await import('node:path');
      const { hostname } = await import('node:os');
      const { UsageError } = await import('../../util/errors.js');
      const { openStore, describeLock, DB_FILE, StoreError } = await import('../../store/store.js');
      const { rebuildIndex } = await import('../../store/rebuild.js');
      const dir = resolve(opts.store);
      if (!existsSync(join(dir, 'objects'))) throw new UsageError(`${dir} has no objects/ folder: nothing to rebuild a store from`);
      const moveAside = (why: string): void => {
        const aside = join(dir, `${DB_FILE}.damaged-${new Date().toISOString().replace(/[-:.]/g, '')}`);
        for (const suffix of ['', '-wal', '-shm']) {
          if (existsSync(join(dir, DB_FILE + suffix))) renameSync(join(dir, DB_FILE + suffix), aside + suffix);
        }
        process.stderr.write(`note: the database was damaged (${why}); moved it to ${aside} and rebuilt a new one\n`);
      };
      let st;
      try {
        st = openStore(dir);
        const check = st.quickCheck();
        if (check !== 'ok') {
          st.close();
          st = undefined;
          moveAside(check.slice(0, 200));
        }
      } catch (e) {
        // A database SQLite cannot read at all (not a database, malformed) is replaced; anything
        // else (a folder that is not a store, a newer schema) stops here.
        if (!(e instanceof StoreError) || !/malformed|not a database|corrupt/i.test(e.message)) throw e;
        moveAside(e.message);
      }
      st ??= openStore(dir);
      const runId = `rebuild-${process.pid}-${Date.now()}`;
      try {
        const lock = st.acquireLock({ runId, pid: process.pid, host: hostname(), pipeline: '(store rebuild)', startedAt: new Date().toISOString() }, 30_000);
        if (!lock.ok) throw new UsageError(`the store ${st.dir} is in use by ${describeLock(lock.holder)}; rebuild waits for it to finish`);
        try {
          const result = await rebuildIndex(st, { verify: opts.verify === true });
          if (opts.json) {
            process.stdout.write(JSON.stringify({ store: st.dir, ...result }, null, 2) + '\n');
            return;
          }
          process.stdout.write(`store ${st.dir}: ${result.folders} artifact folder(s); indexed ${result.indexed}, ${result.known} already indexed, ${result.skipped.length} left alone, in ${Math.round(result.durationMs)} ms\n`);
          for (const s of result.skipped.slice(0, 20)) process.stdout.write(`  left alone ${s.dir}: ${s.reason}\n`);
          if (result.skipped.length > 20) process.stdout.write(`  … and ${result.skipped.length - 20} more\n`);
          if (result.skipped.length > 0) process.stdout.write('(a folder left alone is removed by `sei gc`, or replaced when its cell runs again)\n');
        } finally {
          st.releaseLock(runId);
        }
      } finally {
        st.close();
      }
    });
}
