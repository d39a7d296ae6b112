// The store's run lock, held for the whole run: taken (or taken over from a dead run), kept alive
// by a heartbeat, and given up when another run judged this one dead and took the store.
import { UsageError } from '../util/errors.js';
import { describeLock, type LockInfo, type Store } from '../store/store.js';

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 2_000;

/** Another live run holds the store. */
export class StoreBusyError extends UsageError {
  constructor(readonly holder: LockInfo, storeDir: string) {
    super(`the store ${storeDir} is in use by ${describeLock(holder)}; wait for it to finish, or use another --store`);
    this.name = 'StoreBusyError';
  }
}

export interface HeldLock {
  /** The dead run this one took over from, if any. */
  replaced: LockInfo | undefined;
  /** Another run took the store over: this one must stop and record nothing more. */
  lost(): boolean;
  /** Called once when the lock is lost. */
  onLost(stop: () => void): void;
  stopHeartbeat(): void;
}

/** Takes the lock (StoreBusyError when a live run holds it) and starts its heartbeat. */
export function holdLock(store: Store, info: Omit<LockInfo, 'heartbeatMs'>, options: { staleMs?: number; heartbeatMs?: number }): HeldLock {
  const lock = store.acquireLock(info, options.staleMs ?? DEFAULT_STALE_MS);
  if (!lock.ok) throw new StoreBusyError(lock.holder, store.dir);
  let lost = false;
  let onLost = (): void => undefined;
  const heartbeat = setInterval(() => {
    try {
      if (!lost && !store.heartbeat(info.runId)) {
        // Another run judged this one dead (its heartbeat stalled) and took over: stop at once.
        lost = true;
        onLost();
      }
    } catch { /* busy database: next beat */ }
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();
  return {
    replaced: lock.replaced,
    lost: () => lost,
    onLost: (stop) => { onLost = stop; },
    stopHeartbeat: () => clearInterval(heartbeat),
  };
}

/**
 * The pids of the workers busy with a cell, kept in the lock row: a run that takes over from a
 * dead one on the same host waits for them before it cleans tmp/ or starts cells.
 */
export class LockWorkers {
  private readonly busy = new Set<number>();

  constructor(private readonly store: Store, private readonly runId: string) {}

  add(pid: number): void {
    this.busy.add(pid);
    this.write();
  }

  delete(pid: number): void {
    this.busy.delete(pid);
    this.write();
  }

  private write(): void {
    try { this.store.setLockWorkers(this.runId, [...this.busy]); } catch { /* busy or full: next change */ }
  }
}
