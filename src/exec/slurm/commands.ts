// The Slurm command-line tools, as the executor calls them: one place that runs them, counts
// every call (the benchmark checks that status queries do not grow with the number of jobs),
// spaces out submissions, and turns a missing tool into an error that names the package.
import { execFile } from 'node:child_process';
import { UsageError } from '../../util/errors.js';

export type SlurmTool = 'sbatch' | 'squeue' | 'sacct' | 'scancel' | 'scontrol' | 'sinfo';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Slurm tool is not on the PATH of the submit host. */
export class SlurmMissingError extends UsageError {
  constructor(tool: string) {
    super(`${tool} is not on the PATH: the Slurm executor needs the Slurm client tools on this host ` +
      `(Debian/Ubuntu: apt-get install slurm-client; or run sei on the cluster's login node)`);
    this.name = 'SlurmMissingError';
  }
}

/** Messages of a controller that is busy or rate-limiting: try again later, do not fail the cell. */
const TRANSIENT = /temporarily|timed out|try again|socket|connection refused|unable to contact|rate limit|too many|slurm_persist_conn|EAGAIN|Resource temporarily unavailable|Zero Bytes were transmitted/i;

export function isTransient(r: ToolResult): boolean {
  return r.code !== 0 && TRANSIENT.test(r.stderr);
}

export class SlurmTools {
  /** Calls per tool so far. */
  readonly calls: Record<SlurmTool, number> = { sbatch: 0, squeue: 0, sacct: 0, scancel: 0, scontrol: 0, sinfo: 0 };
  /** Wall time of each sbatch submission (ms), and how many were retried because the controller was busy. */
  readonly submitMs: number[] = [];
  retriedSubmits = 0;
  private lastSubmit = 0;

  constructor(private readonly options: { env?: NodeJS.ProcessEnv; minSubmitGapMs?: number; timeoutMs?: number } = {}) {}

  run(tool: SlurmTool, args: string[]): Promise<ToolResult> {
    this.calls[tool]++;
    return new Promise((resolve, reject) => {
      execFile(tool, args, {
        env: { ...process.env, ...this.options.env },
        timeout: this.options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 2 ** 20,
        encoding: 'utf8',
      }, (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new SlurmMissingError(tool));
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code !== 0 && !stderr ? err.message : '') });
      });
    });
  }

  /** sbatch, spaced by minSubmitGapMs and retried with backoff while the controller is busy. */
  async submit(args: string[], attempts = 6): Promise<ToolResult> {
    let delay = 1000;
    for (let i = 1; ; i++) {
      const gap = (this.options.minSubmitGapMs ?? 100) - (Date.now() - this.lastSubmit);
      if (gap > 0) await sleep(gap);
      this.lastSubmit = Date.now();
      const r = await this.run('sbatch', args);
      this.submitMs.push(Date.now() - this.lastSubmit);
      if (r.code === 0 || !isTransient(r) || i >= attempts) return r;
      this.retriedSubmits++;
      await sleep(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
