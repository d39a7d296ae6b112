// Workers of a dead run: a run taking over the store waits until they are gone (they kill
// themselves within moments of losing their orchestrator), so no stray process writes into
// tmp/ or the cache while the new run cleans and uses them.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isProcessAlive } from '../store/store.js';
import { WORKER_SCRIPT } from './local.js';

/** Whether `pid` is (still) a sei worker process; false when the pid is gone or reused. */
function isSeiWorker(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000');
    return cmdline.some((arg) => arg.endsWith(basename(WORKER_SCRIPT)) && arg.includes('exec'));
  } catch {
    // No /proc (not Linux): trust the pid.
    return true;
  }
}

/**
 * Wait until the worker processes `pids` have exited; after `timeoutMs`, kill the ones still
 * running (SIGKILL) and wait for those. Returns how many had to be killed.
 */
export async function awaitOrphanedWorkers(pids: number[], timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isSeiWorker);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    alive = alive.filter(isSeiWorker);
  }
  for (const pid of alive) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
  const killDeadline = Date.now() + 2000;
  while (alive.some(isProcessAlive) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 25));
  return alive.length;
}
