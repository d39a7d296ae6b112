// The ns-3 simulator: compiles the project's C++ scenario (src/netsim/ns3/scenario.cc) once per
// (source, flags) into `<cache>/ns3/<hash>/`, runs it as a child process per stream of frames and
// reads per-frame latency and losses back as JSON.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../util/hash.js';
import { checkFrames } from './analytic.js';
import { udpDatagramPayload, type NetworkProfile } from './profiles.js';
import type { FrameIn, FrameOut, SimulateOptions, SimulationResult } from './types.js';

/** ns-3 is missing, or its scenario failed to build or run. */
export class Ns3Error extends Error {
  constructor(message: string, readonly output = '') {
    super(message);
    this.name = 'Ns3Error';
  }
}

/** The project root: this file is dist/src/netsim/ns3.js once compiled. */
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The C++ source is read from the project tree (never from dist/). */
export function scenarioSourcePath(): string {
  return process.env.SEI_NS3_SCENARIO ?? join(projectRoot, 'src', 'netsim', 'ns3', 'scenario.cc');
}

const NS3_LIBS = ['core', 'network', 'internet', 'point-to-point', 'applications', 'traffic-control', 'stats', 'bridge'];
const INCLUDE_DIRS = ['/usr/include', '/usr/local/include'];

export function compileFlags(): string[] {
  const extra = (process.env.SEI_NS3_CXXFLAGS ?? '').split(/\s+/).filter((s) => s !== '');
  return ['-O1', '-std=c++17', ...extra, ...NS3_LIBS.map((m) => `-lns3-${m}`)];
}

function compiler(): string {
  return process.env.CXX ?? 'g++';
}

export interface Ns3Status {
  available: boolean;
  /** Why not, when unavailable. */
  reason?: string;
  includeDir?: string;
}

/** Whether ns-3's headers are installed (libns3-dev) and a C++ compiler is on PATH. */
export function ns3Status(): Ns3Status {
  if (process.env.SEI_NS3_DISABLE === '1') return { available: false, reason: 'disabled by SEI_NS3_DISABLE=1' };
  const includeDir = INCLUDE_DIRS.find((d) => existsSync(join(d, 'ns3', 'core-module.h')));
  if (!includeDir) return { available: false, reason: `ns-3 headers not found (looked for ns3/core-module.h in ${INCLUDE_DIRS.join(', ')}; install libns3-dev)` };
  const cxx = compiler();
  const found = (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, cxx)));
  if (!cxx.includes('/') && !found) return { available: false, reason: `C++ compiler "${cxx}" not found on PATH (install g++)` };
  return { available: true, includeDir };
}

function run(cmd: string, args: string[], opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024, signal: opts.signal, timeout: opts.timeoutMs ?? 0 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === null ? `\n${err.message}` : '') });
    });
  });
}

const compiling = new Map<string, Promise<string>>();

/**
 * Path of the compiled scenario, building it on first use. Concurrent callers (in this process
 * or others) are safe: each builds in a private folder and renames it into place.
 */
export function ensureScenario(cacheDir: string, log: (m: string) => void = () => {}): Promise<string> {
  const source = readFileSync(scenarioSourcePath(), 'utf8');
  const flags = compileFlags();
  const hash = sha256(source, compiler(), flags.join(' ')).slice(0, 16);
  const dir = join(cacheDir, 'ns3', hash);
  const binary = join(dir, 'scenario');
  if (existsSync(binary)) return Promise.resolve(binary);
  let p = compiling.get(binary);
  if (!p) {
    p = build(source, flags, dir, binary, log).finally(() => compiling.delete(binary));
    compiling.set(binary, p);
  }
  return p;
}

async function build(source: string, flags: string[], dir: string, binary: string, log: (m: string) => void): Promise<string> {
  const status = ns3Status();
  if (!status.available) throw new Ns3Error(`ns-3 is not available: ${status.reason}`);
  mkdirSync(dirname(dir), { recursive: true });
  const work = mkdtempSync(join(dirname(dir), '.build-'));
  try {
    const src = join(work, 'scenario.cc');
    writeFileSync(src, source);
    const args = [src, '-o', join(work, 'scenario'), ...flags];
    log(`ns-3: compiling the scenario: ${compiler()} ${args.join(' ')}`);
    const started = Date.now();
    const r = await run(compiler(), args);
    const output = (r.stdout + r.stderr).trim();
    if (r.code !== 0) {
      log(`ns-3: compiler output:\n${output}`);
      throw new Ns3Error(`ns-3 scenario failed to compile (${compiler()} exit ${r.code}); compiler output:\n${output}`, output);
    }
    if (output) log(`ns-3: compiler output:\n${output}`);
    writeFileSync(join(work, 'flags.txt'), `${compiler()} ${flags.join(' ')}\n`);
    try {
      renameSync(work, dir);
    } catch (e) {
      // Another process finished first: use its build.
      if (!existsSync(binary)) throw e;
    }
    log(`ns-3: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s into ${dir}`);
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface Ns3Options extends SimulateOptions {
  cacheDir: string;
  log?: (m: string) => void;
  signal?: AbortSignal;
}

interface ScenarioOutput {
  handshakeNs: number | null;
  frames: { sentNs: number; receivedNs: number | null; packetsLost: number; retransmissions: number }[];
}

export async function simulateNs3(net: NetworkProfile, frames: FrameIn[], opts: Ns3Options): Promise<SimulationResult> {
  checkFrames(frames);
  const binary = await ensureScenario(opts.cacheDir, opts.log);
  const work = mkdtempSync(join(tmpdir(), 'sei-ns3-'));
  try {
    const framesFile = join(work, 'frames.txt');
    writeFileSync(framesFile, frames.map((f) => `${f.bytes} ${Math.round(f.readyAtMs * 1e6)}\n`).join(''));
    const args = [
      `--rate=${Math.round(net.bandwidthMbps * 1e6)}bps`,
      `--delayUs=${net.delayMs * 1000}`,
      `--loss=${net.lossRate}`,
      `--mtu=${net.mtu}`,
      `--transport=${net.transport}`,
      `--chunk=${net.transport === 'udp' ? udpDatagramPayload(net) : net.chunkBytes}`,
      `--rtoMs=${net.tcp.rtoMs}`,
      `--initialCwnd=${net.tcp.initialCwnd}`,
      `--seed=${Math.max(1, Math.floor(opts.seed ?? 1))}`,
      `--connectNs=${Math.round((opts.connectAtMs ?? 0) * 1e6)}`,
      `--frames=${framesFile}`,
    ];
    const r = await run(binary, args, { signal: opts.signal });
    if (r.code !== 0) {
      opts.log?.(`ns-3: scenario ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr}`);
      throw new Ns3Error(`ns-3 scenario exited with ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`, r.stderr);
    }
    let parsed: ScenarioOutput;
    try {
      parsed = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as ScenarioOutput;
    } catch {
      throw new Ns3Error(`ns-3 scenario printed no JSON result: ${r.stdout.slice(0, 500)}`, r.stdout);
    }
    if (parsed.frames.length !== frames.length) throw new Ns3Error(`ns-3 scenario returned ${parsed.frames.length} frames for ${frames.length}`);
    const out: FrameOut[] = parsed.frames.map((f, i) => {
      const sentMs = frames[i].readyAtMs;
      const receivedMs = f.receivedNs === null ? null : f.receivedNs / 1e6;
      return { sentMs, receivedMs, latencyMs: receivedMs === null ? null : receivedMs - sentMs, packetsLost: f.packetsLost, retransmissions: f.retransmissions };
    });
    return { simulator: 'ns3', frames: out, handshakeMs: parsed.handshakeNs === null ? null : parsed.handshakeNs / 1e6 };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
