// What the Slurm test files share: whether the real test cluster can run here, bringing it up
// (test/slurm/start-cluster.sh), and running the real CLI against it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..', '..');
export const SEI = join(ROOT, 'bin', 'sei.js');
const START = join(ROOT, 'test', 'slurm', 'start-cluster.sh');

/** Why the cluster tests cannot run here (they then skip, saying so), or undefined. */
export function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the test cluster\'s daemons run as root)';
  for (const bin of ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch']) {
    if (!existsSync(bin)) return `${bin} missing (apt-get install slurm-wlm munge)`;
  }
  return undefined;
}

export function sh(cmd: string, args: string[], timeout = 120_000): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout });
}

/** (Re)starts the cluster; with accounting, MariaDB and slurmdbd first: minutes on a busy machine. */
export function startCluster(accounting = false): void {
  sh(START, accounting ? ['--accounting'] : [], 180_000);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export function pipelineFile(dir: string, body: string, name = 'p.yaml'): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

export function sei(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 240_000) {
  return spawnSync(process.execPath, [SEI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
}

export function seiAsync(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [SEI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

/** The jobs Slurm still remembers under a job name (finished ones for MinJobAge, 300 s by default). */
export function jobsNamed(name: string): { id: string; state: string }[] {
  return sh('squeue', ['-h', '-r', '-t', 'all', `--name=${name}`, '-o', '%i|%T']).split('\n').filter(Boolean)
    .map((l) => { const [id, state] = l.trim().split('|'); return { id: id!, state: state! }; });
}

/** A pipeline of write-text cells (one per text) gathered by a concat, with an executor block. */
export const words = (texts: string[], sleepMs: number, executor: string, name = 'words') => `name: ${name}
executor:
${executor}
stages:
  words:
    stage: write-text
    params: { text: x, sleepMs: ${sleepMs} }
    sweep:
      grid: { text: [${texts.join(', ')}] }
  all:
    stage: concat
    inputs: { parts: { from: words, gather: [text] } }
`;

/** Cheap jobs for the test cluster's 2 CPUs, fast polling: an executor block (indented). */
export const FAST = '  kind: slurm\n  cpus: 1\n  mem: 300M\n  time: "10"\n  pollSec: 0.3\n  latencyWaitSec: 10';
