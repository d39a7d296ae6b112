// Two executors behind one: cells of cheap stages run in the local process pool on the submit
// host, the others go to the cluster.
import type { CellResult, CellSpec, Executor, SubmitHooks } from '../types.js';

export class RoutingExecutor implements Executor {
  readonly concurrency: number;

  constructor(private readonly local: Executor, private readonly remote: Executor, private readonly isLocal: (spec: CellSpec) => boolean) {
    this.concurrency = remote.concurrency;
  }

  async begin(run: { runId: string; storeDir: string; startedAt: string }): Promise<void> {
    await this.local.begin?.(run);
    await this.remote.begin?.(run);
  }

  submit(spec: CellSpec, hooks?: SubmitHooks): Promise<CellResult> {
    return (this.isLocal(spec) ? this.local : this.remote).submit(spec, hooks);
  }

  abortAll(reason: string): void {
    this.local.abortAll(reason);
    this.remote.abortAll(reason);
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.remote.close()]);
  }
}
