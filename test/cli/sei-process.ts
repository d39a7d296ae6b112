// Running `sei` as a real child process from a test: start it, wait for it, find its workers.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SEI = resolve(here, '..', '..', '..', 'bin', 'sei.js');

export interface SeiResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
export interface SeiProcess { child: ChildProcess; done: Promise<SeiResult>; result?: SeiResult }

/** Every sei started here and still running (a test's afterEach kills them). */
export const running = new Set<ChildProcess>();

export function startSei(args: string[], env: NodeJS.ProcessEnv, cwd: string): SeiProcess {
  const child = spawn(process.execPath, [SEI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  running.add(child);
  const proc: SeiProcess = { child, done: undefined as unknown as Promise<SeiResult> };
  proc.done = new Promise<SeiResult>((res) => child.on('close', (code, signal) => {
    running.delete(child);
    proc.result = { code, signal, stdout, stderr };
    res(proc.result);
  }));
  return proc;
}

export function describeResult(r: SeiResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** Pids of the live processes whose parent is `pid` (read from /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces, so split after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(Number(entry));
    } catch { /* exited while listing */ }
  }
  return out;
}

/** Whether `pid` runs and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
