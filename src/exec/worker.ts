// A worker process (`node dist/src/exec/worker.js`, forked with an IPC channel). It runs one cell
// at a time: loads the stage, calls run() with the cell's context, writes result.json last,
// fsyncs the folder and reports its manifest. It never touches the database; the orchestrator
// moves the folder into the store and records the result.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StageDefinition, StageContext, ProgressEvent } from '../stages/types.js';
import { checkMetrics } from '../stages/metrics.js';
import { takeManifest } from '../store/manifest.js';
import { fsyncDir } from '../util/atomic.js';
import { RESULT_FILE, type CellSpec, type FromWorker, type ToWorker } from './types.js';

watchParent();

function send(msg: FromWorker): void {
  process.send?.(msg);
}

let current: { key: string; controller: AbortController } | undefined;
let logFd: number | undefined;

// Everything the stage's JavaScript prints goes into the current cell's log, not the terminal.
const realStdout = process.stdout.write.bind(process.stdout);
const realStderr = process.stderr.write.bind(process.stderr);
function redirect(stream: NodeJS.WriteStream, real: typeof realStdout): void {
  stream.write = ((chunk: string | Uint8Array, encodingOrCb?: unknown, cb?: unknown): boolean => {
    if (logFd === undefined) return (real as (...args: unknown[]) => boolean)(chunk, encodingOrCb, cb);
    try {
      if (typeof chunk === 'string') writeSync(logFd, chunk);
      else writeSync(logFd, chunk);
    } catch {
      // A log write failure must not fail the cell.
    }
    const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    if (typeof done === 'function') (done as () => void)();
    return true;
  }) as typeof stream.write;
}
redirect(process.stdout, realStdout);
redirect(process.stderr, realStderr);

function logLine(message: string): void {
  if (logFd === undefined) return;
  try {
    writeSync(logFd, `[${new Date().toISOString()}] ${message}\n`);
  } catch {
    // ignore
  }
}

function fsyncTree(dir: string, files: string[]): void {
  const folders = new Set<string>([dir]);
  for (const rel of files) {
    const parts = rel.split('/');
    const fd = openSync(join(dir, ...parts), 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    for (let i = 1; i < parts.length; i++) folders.add(join(dir, ...parts.slice(0, i)));
  }
  for (const folder of folders) fsyncDir(folder);
}

async function loadStageDefinition(name: string): Promise<StageDefinition> {
  const registry = (await import('../pipeline/registry.js')) as { loadStage(name: string): Promise<StageDefinition> | StageDefinition };
  return await registry.loadStage(name);
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

async function runCell(spec: CellSpec): Promise<void> {
  const controller = new AbortController();
  current = { key: spec.key, controller };
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  // CPU time, beside wall time: a machine shared with other work stretches the one, not the other.
  const cpuAtStart = process.cpuUsage();
  const cpuSince = (): number => {
    const d = process.cpuUsage(cpuAtStart);
    return Math.round((d.user + d.system) / 1000);
  };
  mkdirSync(spec.outDir, { recursive: true });
  logFd = openSync(spec.logPath, 'a');
  logLine(`cell ${spec.cellId.slice(0, 12)} ${spec.instance} (${spec.stage}) attempt ${spec.attempt} on pid ${process.pid}`);
  const stageProvenance: Record<string, unknown> = {};
  try {
    const stage = await loadStageDefinition(spec.stage);
    const ctx: StageContext = {
      params: spec.params,
      inputs: spec.inputs,
      outDir: spec.outDir,
      cacheDir: spec.cacheDir,
      log: (message: string) => logLine(message),
      progress: (event: ProgressEvent) => send({ type: 'progress', key: spec.key, event }),
      setProvenance: (fields: Record<string, unknown>) => Object.assign(stageProvenance, fields),
      signal: controller.signal,
      settings: spec.settings,
      ...(spec.checkpointDir !== undefined ? { checkpointDir: spec.checkpointDir } : {}),
    };
    const output = await stage.run(ctx);
    if (controller.signal.aborted) throw new Error(`aborted: ${String(controller.signal.reason)}`);
    // What the stage declared it returns, checked before anything is written as its result.
    checkMetrics(stage.name, stage.metrics, output?.metrics);
    const metrics: Record<string, unknown> = { ...(output?.metrics ?? {}) };
    const ended = Date.now();
    // Read once with `ended`: result.json and the store record the same figure.
    const cpuMs = cpuSince();
    const provenance: Record<string, unknown> = {
      ...spec.provenance,
      host: hostname(),
      pid: process.pid,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      ...stageProvenance,
      startedAt,
      endedAt: new Date(ended).toISOString(),
      durationMs: ended - started,
      cpuMs,
    };
    // result.json last: a folder holding it is a complete artifact.
    const resultPath = join(spec.outDir, RESULT_FILE);
    const fd = openSync(resultPath, 'w');
    try {
      writeSync(fd, JSON.stringify({ metrics, provenance }, null, 2) + '\n');
    } finally {
      closeSync(fd);
    }
    const manifest = await takeManifest(spec.outDir);
    // Every file on disk before the orchestrator renames the folder and records it done.
    fsyncTree(spec.outDir, manifest.map((m) => m.path));
    logLine(`done in ${ended - started} ms`);
    send({ type: 'done', key: spec.key, metrics, provenance, manifest, startedAt, endedAt: new Date(ended).toISOString(), durationMs: ended - started, cpuMs, rssBytes: process.memoryUsage.rss() });
  } catch (e) {
    const ended = Date.now();
    const text = describeError(e);
    logLine(`failed: ${text}`);
    send({ type: 'error', key: spec.key, error: e instanceof Error ? e.message : String(e), startedAt, endedAt: new Date(ended).toISOString(), durationMs: ended - started, cpuMs: cpuSince(), rssBytes: process.memoryUsage.rss() });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
    logFd = undefined;
    current = undefined;
  }
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'run' && current) {
    const t = new Date().toISOString();
    send({ type: 'error', key: msg.spec.key, error: `worker ${process.pid} is busy with another cell`, startedAt: t, endedAt: t, durationMs: 0, cpuMs: 0, rssBytes: process.memoryUsage.rss() });
  } else if (msg.type === 'run') void runCell(msg.spec);
  else if (msg.type === 'abort' && current) current.controller.abort(msg.reason);
});
// The orchestrator gone (crashed, killed): nothing left to report to, so stop.
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the orchestrator decides what stops (it asks the
// stage to abort, then kills the worker), so a worker must not die on its own and look crashed.
process.on('SIGINT', () => undefined);
send({ type: 'ready' });

/**
 * A stage busy in a long synchronous computation (a tfjs kernel) does not get to see the IPC
 * channel close, so a thread of its own watches the parent: once this process has been
 * re-parented (the orchestrator died, even by kill -9), it kills the process at once, before a
 * resumed run could meet a worker still writing into the store.
 */
function watchParent(): void {
  // The pid the orchestrator gave at fork: a worker that was still starting when its
  // orchestrator died is already re-parented when it gets here.
  const given = Number(process.env.SEI_ORCHESTRATOR_PID);
  const parent = Number.isInteger(given) && given > 0 ? given : process.ppid;
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
  const watcher = new Worker(
    `const { workerData } = require('node:worker_threads');
     setInterval(() => { if (process.ppid !== workerData.parent) process.kill(workerData.self, 'SIGKILL'); }, workerData.everyMs);`,
    { eval: true, workerData: { parent, self: process.pid, everyMs: 50 }, resourceLimits: { maxOldGenerationSizeMb: 16 } },
  );
  watcher.unref();
}
