// `sei gc` for the Slurm executor's files under <store>/slurm/ (layout in records.ts). What a run
// that is live or can be resumed needs stays: the folder of every cell a current pipeline plans
// (its checkpoint lets a failed training cell resume, its job.json feeds `sei status`), the
// folder of a cell whose job is still in the Slurm queue (a run started again re-attaches to it,
// and a running job must not lose its files), and every submission folder such a kept cell's job
// points into (a requeued job runs that folder's job.sh again). Everything else goes: cells no
// pipeline plans whose jobs are over, and the submission folders (scripts, cell lists, Slurm
// output) of runs that ended and that no kept cell refers to.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { SlurmTools } from './commands.js';
import { readJobRecord, slurmDir, type JobRecord } from './records.js';
import { folderBytes } from '../../util/disk-space.js';

export interface SlurmGcItem {
  path: string;
  bytes: number;
  why: string;
}

export interface SlurmGcResult {
  removed: SlurmGcItem[];
  bytes: number;
  /** Cell folders kept (a pipeline plans the cell, or its job is still queued). */
  keptCells: number;
  /** Submission folders kept (a kept cell's job points into them, or a job of the run is queued). */
  keptRuns: number;
  /** Set when squeue could not say which jobs live: every cell with an unfinished job was kept. */
  queueUnknown?: string;
}

/** Job states of a job that may still run (or run again). */
const LIVE = /^(PENDING|RUNNING|SUSPENDED|COMPLETING|CONFIGURING|REQUEUED|REQUEUE_HOLD|REQUEUE_FED|RESIZING|SIGNALING|STAGE_OUT|STOPPED|RESV_DEL_HOLD)$/;

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The jobs still in the queue among those named after `runIds`, id → name (one squeue call per
 * 100 names), or a reason why that is unknown (no Slurm tools here, controller down).
 */
async function liveJobs(runIds: string[], tools: SlurmTools): Promise<Map<string, string> | string> {
  const live = new Map<string, string>();
  for (let i = 0; i < runIds.length; i += 100) {
    let r;
    try {
      r = await tools.run('squeue', ['-h', '-r', `--name=${runIds.slice(i, i + 100).join(',')}`, '-o', '%i|%T|%j']);
    } catch (e) {
      return (e as Error).message;
    }
    if (r.code !== 0) return `squeue failed: ${(r.stderr || r.stdout).trim()}`;
    for (const line of r.stdout.split('\n')) {
      const [id, state, name] = line.trim().split('|');
      if (id && state && LIVE.test(state)) live.set(id, name ?? '');
    }
  }
  return live;
}

/**
 * What gc removes (or, with dryRun, would remove) under <store>/slurm/. `reachable`: the cache
 * keys the current pipelines plan. `liveRunId`: a run holding the store (never the case while
 * gc holds the lock; kept for callers that do not). The caller holds the store's run lock.
 */
export async function collectSlurmGarbage(storeDir: string, reachable: Set<string>, options: { dryRun: boolean; tools?: SlurmTools; liveRunId?: string }): Promise<SlurmGcResult> {
  const root = slurmDir(storeDir);
  const result: SlurmGcResult = { removed: [], bytes: 0, keptCells: 0, keptRuns: 0 };
  if (!existsSync(root)) return result;
  const cellsDir = join(root, 'cells');
  const runsDir = join(root, 'runs');
  const keys = existsSync(cellsDir) ? readdirSync(cellsDir).sort() : [];
  const runIds = existsSync(runsDir) ? readdirSync(runsDir).sort() : [];
  const records = new Map<string, JobRecord | undefined>(keys.map((k) => [k, readJobRecord(storeDir, k)]));

  // Only jobs the orchestrator has not taken the outcome of can still be in the queue: ask Slurm
  // only when there are such (a store whose runs all finished needs no cluster to be cleaned).
  const unfinished = [...records.values()].filter((r): r is JobRecord => r !== undefined && !r.final);
  let live: Map<string, string> | undefined;
  if (unfinished.length > 0) {
    const names = [...new Set([...unfinished.map((r) => r.jobName), ...runIds])];
    const answer = await liveJobs(names, options.tools ?? new SlurmTools());
    if (typeof answer === 'string') result.queueUnknown = answer;
    else live = answer;
  }
  const jobLive = (r: JobRecord): boolean => !r.final && (live === undefined || live.has(r.jobId));

  const remove = (path: string, why: string): void => {
    const item = { path, bytes: folderBytes(path), why };
    result.removed.push(item);
    result.bytes += item.bytes;
    if (!options.dryRun) rmSync(path, { recursive: true, force: true });
  };

  const keptBatchDirs: string[] = [];
  const removedKeys = new Set<string>();
  const removedRecords: JobRecord[] = [];
  for (const key of keys) {
    const rec = records.get(key);
    if (reachable.has(key) || (rec && jobLive(rec))) {
      result.keptCells++;
      if (rec) keptBatchDirs.push(rec.batchDir);
      continue;
    }
    removedKeys.add(key);
    if (rec) removedRecords.push(rec);
    remove(join(cellsDir, key), rec ? `cell ${rec.instance} (${rec.cellId}) no pipeline plans; its job ${rec.jobId} is over` : 'cell folder without a job no pipeline plans');
  }

  for (const runId of runIds) {
    const runDir = join(runsDir, runId);
    // Jobs of the run still queued, by their name (array elements included).
    const queued = live === undefined ? unfinished.some((r) => r.jobName === runId) : [...live.values()].includes(runId);
    if (runId === options.liveRunId || queued || keptBatchDirs.some((d) => isInside(d, runDir))) {
      result.keptRuns++;
      // In a kept run's folder, the Slurm output of the jobs of removed cells goes all the same.
      for (const rec of removedRecords) {
        for (const f of [rec.stdout, rec.stderr]) if (isInside(f, runDir) && existsSync(f)) remove(f, `output of job ${rec.jobId} (cell removed)`);
      }
      continue;
    }
    remove(runDir, `run ${runId} ended; none of its jobs is needed`);
  }

  // The submission log: the lines of removed cells go (the rest still audits duplicates).
  const log = join(root, 'submissions.log');
  if (removedKeys.size > 0 && existsSync(log) && !options.dryRun) {
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const kept = lines.filter((l) => !removedKeys.has(l.split('\t')[3] ?? ''));
    if (kept.length !== lines.length) writeFileAtomic(log, kept.map((l) => `${l}\n`).join(''));
  }
  return result;
}
