// Whether a run is still starting cells, and why it stopped. Every way a run ends early —
// cancellation, fail-fast, a takeover of the store, a full disk — goes through stop(), so the
// executor is asked to abort its cells exactly once and the scheduler sees one flag.
import { diskFullAt, isOutOfSpace, type DiskFullError } from '../util/disk-space.js';
import type { Executor } from './types.js';

export class RunControl {
  private stopped = false;
  private disk: DiskFullError | undefined;

  constructor(private readonly executor: Executor, private readonly storeDir: string) {}

  /** No new cell or attempt starts once this is true. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** The first full disk met: the message the run ends with. */
  get diskFull(): DiskFullError | undefined {
    return this.disk;
  }

  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.executor.abortAll(reason);
  }

  /** A full disk stops the scheduling of new cells; the first report of it is the one shown. */
  stopForDisk(e: DiskFullError): void {
    this.disk ??= e;
    this.stop('disk full');
  }

  /** A write to the database; a full disk stops the run instead of failing the engine. */
  record(write: () => void): boolean {
    try {
      write();
      return true;
    } catch (e) {
      if (!isOutOfSpace(e)) throw e;
      this.stopForDisk(diskFullAt(this.storeDir, undefined, (e as Error).message));
      return false;
    }
  }

  /** Stops the run when `signal` aborts (at once if it already has); returns the detach. */
  stopOn(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => undefined;
    const onAbort = (): void => this.stop('run cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) this.stop('run cancelled');
    return () => signal.removeEventListener('abort', onAbort);
  }
}
