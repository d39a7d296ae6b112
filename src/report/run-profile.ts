// Where a run's wall time went, from the attempt timings the store keeps: cell-seconds per stage,
// how busy the workers were, and the critical path — the chain of cells that decided when the
// run ended — so a speed-up is chosen from data (npm run bench:sweep).
import type { RunAttempt } from '../store/index.js';

export interface StageTime {
  stage: string; cells: number; attempts: number; seconds: number;
  /** CPU seconds of the attempts that recorded theirs, and how many did (older stores, crashed workers: none). */
  cpuSeconds: number; cpuAttempts: number;
}

export interface PathStep {
  cellId: string; instance: string; stage: string; coords: Record<string, unknown>;
  /** Seconds from the run's start. */
  start: number; end: number;
  /** Seconds between the step's inputs being ready (the previous step's end, or the run's start)
   *  and its start: waiting for a free worker, plus the dispatch to it. */
  wait: number;
}

export interface RunProfile {
  wallSeconds: number;
  jobs: number;
  cellSeconds: number;
  /** CPU seconds of the attempts that recorded theirs: less disturbed than cell-seconds by other load. */
  cpuSeconds: number;
  /** cellSeconds / (jobs × wallSeconds). */
  utilisation: number;
  stages: StageTime[];
  criticalPath: PathStep[];
  /** Seconds of the critical path spent running cells, and waiting to start (see PathStep.wait). */
  pathRunSeconds: number;
  pathWaitSeconds: number;
}

const ms = (iso: string) => Date.parse(iso);

/**
 * The profile of a run from its attempts. `startedAt`/`endedAt` bound the run (the wall time);
 * an attempt without an end (interrupted) counts up to the run's end.
 */
export function profileRun(attempts: RunAttempt[], run: { startedAt: string; endedAt: string; jobs: number }): RunProfile {
  const t0 = ms(run.startedAt), t1 = ms(run.endedAt);
  const sec = (t: number) => (t - t0) / 1000;
  const endOf = (a: RunAttempt) => (a.endedAt ? ms(a.endedAt) : t1);
  const stages = new Map<string, StageTime & { ids: Set<string> }>();
  let cellMs = 0, cpuMs = 0;
  for (const a of attempts) {
    const d = endOf(a) - ms(a.startedAt);
    cellMs += d;
    const s = stages.get(a.stage) ?? { stage: a.stage, cells: 0, attempts: 0, seconds: 0, cpuSeconds: 0, cpuAttempts: 0, ids: new Set<string>() };
    s.attempts++;
    s.seconds += d / 1000;
    if (a.cpuMs !== undefined) {
      cpuMs += a.cpuMs;
      s.cpuSeconds += a.cpuMs / 1000;
      s.cpuAttempts++;
    }
    s.ids.add(a.cellId);
    s.cells = s.ids.size;
    stages.set(a.stage, s);
  }
  // Each cell's last attempt decides when its outputs were ready.
  const last = new Map<string, RunAttempt>();
  for (const a of attempts) {
    const prev = last.get(a.cellId);
    if (!prev || a.n > prev.n) last.set(a.cellId, a);
  }
  const path: PathStep[] = [];
  let cur = [...last.values()].sort((a, b) => endOf(b) - endOf(a))[0];
  while (cur) {
    // The input that became ready last is the one this cell waited for (inputs cached before the
    // run were ready at its start).
    const gate = cur.upstream.map((id) => last.get(id)).filter((u): u is RunAttempt => u !== undefined)
      .sort((a, b) => endOf(b) - endOf(a))[0];
    const ready = gate ? endOf(gate) : t0;
    path.push({ cellId: cur.cellId, instance: cur.instance, stage: cur.stage, coords: cur.coords,
      start: sec(ms(cur.startedAt)), end: sec(endOf(cur)), wait: Math.max(0, ms(cur.startedAt) - ready) / 1000 });
    cur = gate;
  }
  path.reverse();
  const wallSeconds = (t1 - t0) / 1000;
  const cellSeconds = cellMs / 1000;
  return {
    wallSeconds, jobs: run.jobs, cellSeconds, cpuSeconds: cpuMs / 1000,
    utilisation: wallSeconds > 0 ? cellSeconds / (run.jobs * wallSeconds) : 0,
    stages: [...stages.values()].map(({ ids: _ids, ...s }) => s).sort((a, b) => b.seconds - a.seconds),
    criticalPath: path,
    pathRunSeconds: path.reduce((s, p) => s + (p.end - p.start), 0),
    pathWaitSeconds: path.reduce((s, p) => s + p.wait, 0),
  };
}

const f1 = (x: number) => x.toFixed(1);

/** The profile as text: stage table, utilisation, critical path. */
export function formatRunProfile(p: RunProfile): string {
  const lines: string[] = [];
  lines.push(`wall ${f1(p.wallSeconds)} s; ${f1(p.cellSeconds)} cell-seconds on ${p.jobs} worker(s): utilisation ${(p.utilisation * 100).toFixed(0)}%` +
    `; ${f1(p.cpuSeconds)} CPU-seconds in the cells`);
  lines.push('');
  // cpu-s: CPU time of the workers over the stage's cells (a machine shared with other work
  // stretches cell-seconds, less so these); '-' where no attempt recorded it.
  lines.push(`${'stage'.padEnd(18)} ${'cells'.padStart(5)} ${'cell-s'.padStart(8)} ${'share'.padStart(6)} ${'cpu-s'.padStart(8)}`);
  for (const s of p.stages) {
    const cpuText = s.cpuAttempts === 0 ? '-' : `${f1(s.cpuSeconds)}${s.cpuAttempts < s.attempts ? '*' : ''}`;
    lines.push(`${s.stage.padEnd(18)} ${String(s.cells).padStart(5)} ${f1(s.seconds).padStart(8)} ${`${((s.seconds / Math.max(p.cellSeconds, 1e-9)) * 100).toFixed(0)}%`.padStart(6)} ${cpuText.padStart(8)}`);
  }
  if (p.stages.some((s) => s.cpuAttempts > 0 && s.cpuAttempts < s.attempts)) lines.push('* some attempts of the stage recorded no CPU time (a worker that died)');
  lines.push('');
  lines.push(`critical path: ${p.criticalPath.length} cells, ${f1(p.pathRunSeconds)} s running + ${f1(p.pathWaitSeconds)} s waiting to start (a busy worker, dispatch), of ${f1(p.wallSeconds)} s wall`);
  lines.push(`${'start'.padStart(7)} ${'end'.padStart(7)} ${'run'.padStart(7)} ${'wait'.padStart(6)}  cell`);
  for (const s of p.criticalPath) {
    const coords = Object.entries(s.coords).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    lines.push(`${f1(s.start).padStart(7)} ${f1(s.end).padStart(7)} ${f1(s.end - s.start).padStart(7)} ${f1(s.wait).padStart(6)}  ${s.instance} (${s.stage}) ${s.cellId.slice(0, 12)}${coords ? ` [${coords.length > 70 ? coords.slice(0, 69) + '…' : coords}]` : ''}`);
  }
  return lines.join('\n');
}
