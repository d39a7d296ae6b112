// What the Slurm executor keeps on the shared store folder, beside the database it never needs:
//   slurm/cells/<key>/job.json      the cell's job: id, state, node, output files (the executor writes it)
//   slurm/cells/<key>/spec.json     the cell spec the job runs
//   slurm/cells/<key>/out/          the job's artifact folder (moved into the store when verified)
//   slurm/cells/<key>/checkpoint/   per-epoch training state, kept across requeues and retries
//   slurm/cells/<key>/outcome.json  the job's result, written last by the job
//   slurm/cells/<key>/starts.jsonl  one line each time a job started running the cell
//   slurm/runs/<run>/b<n>/          one submission (job or array): its cell list and Slurm output
//   slurm/submissions.log           one line per submitted job id (to audit duplicates)
// `sei status` and `sei explain` read job.json; the job reads spec.json and writes the rest.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';

export const SLURM_DIR = 'slurm';

export interface JobRecord {
  jobId: string;
  /** The job name: the run id of the run that submitted it. */
  jobName: string;
  key: string;
  cellId: string;
  instance: string;
  stage: string;
  attempt: number;
  state: string;
  node?: string;
  /** Slurm's reason for a pending job (e.g. Resources, ReqNodeNotAvail). */
  reason?: string;
  stdout: string;
  stderr: string;
  batchDir: string;
  submittedAt: string;
  updatedAt: string;
  requeues: number;
  /** The orchestrator has taken the job's outcome (nothing left to re-attach to). */
  final: boolean;
  /** Earlier jobs of this cell (failed attempts), oldest first. */
  previous: { jobId: string; state: string; node?: string }[];
}

export function slurmDir(storeDir: string): string {
  return join(storeDir, SLURM_DIR);
}

export function cellDirOf(storeDir: string, key: string): string {
  return join(storeDir, SLURM_DIR, 'cells', key);
}

export function readJobRecord(storeDir: string, key: string): JobRecord | undefined {
  const file = join(cellDirOf(storeDir, key), 'job.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JobRecord;
  } catch {
    return undefined; // being replaced: the rename is atomic, so this is a vanishing race only
  }
}

export function writeJobRecord(storeDir: string, rec: JobRecord): void {
  writeFileAtomic(join(cellDirOf(storeDir, rec.key), 'job.json'), JSON.stringify(rec, null, 2) + '\n');
}

export function logSubmission(storeDir: string, line: { jobId: string; key: string; runId: string; instance: string }): void {
  appendFileSync(join(slurmDir(storeDir), 'submissions.log'), `${new Date().toISOString()}\t${line.jobId}\t${line.runId}\t${line.key}\t${line.instance}\n`);
}

/** The submitted job ids, in order (slurm/submissions.log). */
export function readSubmissions(storeDir: string): { jobId: string; runId: string; key: string; instance: string }[] {
  const file = join(slurmDir(storeDir), 'submissions.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [, jobId, runId, key, instance] = l.split('\t');
    return { jobId: jobId!, runId: runId!, key: key!, instance: instance! };
  });
}

/** One line of a job's own account: where and when it started running the cell. */
export interface JobStart {
  jobId: string;
  restart: number;
  host: string;
  at: string;
}

export function readStarts(storeDir: string, key: string): JobStart[] {
  const file = join(cellDirOf(storeDir, key), 'starts.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as JobStart);
}

/** One line for `sei status` / `sei explain`. */
export function describeJob(rec: JobRecord): string {
  const where = rec.node && rec.node !== '(null)' && rec.node !== 'None assigned' ? ` on ${rec.node}` : '';
  const why = rec.reason && rec.reason !== 'None' && !/^(RUNNING|COMPLETED|COMPLETING)$/.test(rec.state) ? ` (${rec.reason})` : '';
  const rq = rec.requeues > 0 ? `, requeued ${rec.requeues}×` : '';
  return `Slurm job ${rec.jobId} ${rec.state}${where}${why}${rq}`;
}
