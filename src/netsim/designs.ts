// Candidate designs from evaluate results: every (evaluated split model × payload precision), plus
// the two baselines of the reference's use cases — local computing (the whole network on the
// device, nothing sent) and remote computing (the raw input sent, the whole network on the
// server) — and their end-to-end simulation on each (network, device, server).
import { endToEnd, type Percentiles, type StreamSpec } from './endtoend.js';
import type { DeviceProfile, NetworkProfile } from './profiles.js';
import type { SimulatorRunOptions } from './simulate.js';
import type { SimulatorName } from './types.js';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
export type DesignKind = 'split' | 'local' | 'remote';

/** Compute of one side, as measured on this machine at batch 1. */
export interface SideCompute {
  /** Median batch-1 time on the measuring machine (ms). */
  measuredMs: number;
  flops: number;
}

/** A design before any network is chosen. */
export interface DesignSpec {
  kind: DesignKind;
  cut: string;
  /** Payload precision of a split design; 'uint8' for the raw input, 'none' when nothing is sent. */
  precision: Precision | 'uint8' | 'none';
  /** The evaluate cell's coordinates other than cut, e.g. "ratio=8 seed=0". */
  variant: string;
  accuracy: number | null;
  payloadBytes: number;
  device: SideCompute | null;
  server: SideCompute | null;
  /** Memory the device needs: weights (fp32) + peak activation. */
  deviceMemoryBytes: number;
  evaluateCell?: string;
}

/** One simulated design: the shape of the simulate stage's `designs[]` (docs/ARCHITECTURE.md). */
export interface Design {
  id: string;
  kind: DesignKind;
  cut: string;
  precision: string;
  variant: string;
  network: string;
  device: string;
  server: string;
  accuracy: number | null;
  payloadBytes: number;
  deviceMs: number;
  transferMs: Percentiles;
  serverMs: number;
  endToEndMs: Percentiles;
  frameLossRate: number;
  packetsLost: number;
  retransmissions: number;
  deviceMemoryBytes: number;
  /** Device memory available in the device profile. */
  deviceMemoryLimitBytes: number;
  simulator: SimulatorName | null;
  evaluateCell?: string;
}

/**
 * A simulated design as the recommendation compares and carries it: every field simulate
 * declares of a design (src/stages/simulate/metrics.ts), without the packet counters.
 */
export type DesignSummary = Omit<Design, 'packetsLost' | 'retransmissions'>;

/** What simulate needs from an evaluate cell (docs/ARCHITECTURE.md, "evaluate"). */
export interface EvaluateLike {
  cellId: string;
  coords: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

function num(v: unknown, what: string, cell: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`evaluate cell ${cell}: metrics.${what} is missing or not a number`);
  return v;
}

function get(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The coordinates (other than the cut) that tell the gathered cells apart: those that vary. */
function varyingKeys(all: Record<string, unknown>[]): string[] {
  const keys = new Set(all.flatMap((c) => Object.keys(c)));
  keys.delete('cut');
  return [...keys].sort().filter((k) => new Set(all.map((c) => JSON.stringify(c[k]))).size > 1);
}

function variantOf(coords: Record<string, unknown>, keys: string[]): string {
  return keys.map((k) => `${k.replace(/^bottleneck\./, '')}=${typeof coords[k] === 'object' ? JSON.stringify(coords[k]) : String(coords[k])}`).join(' ');
}

export interface DesignSpecOptions {
  precisions: readonly Precision[];
  /** Bytes of one raw input frame (remote computing); the remote baseline is skipped without it. */
  inputBytes?: number;
  baselines?: boolean;
}

/** Split designs of every evaluate cell × precision, then the baselines. Notes say what was skipped. */
export function designSpecs(cells: EvaluateLike[], opts: DesignSpecOptions): { specs: DesignSpec[]; notes: string[] } {
  const specs: DesignSpec[] = [];
  const notes: string[] = [];
  let local: DesignSpec | undefined;
  let remote: DesignSpec | undefined;
  // Coordinates shared by every cell (e.g. the class subset of this simulate cell) name the
  // group, not the design: only the varying ones go into a design's label.
  const varying = varyingKeys(cells.map((c) => c.coords));
  for (const cell of cells) {
    const m = cell.metrics;
    const id = cell.cellId.slice(0, 12);
    const cut = String(m.cut ?? cell.coords.cut ?? '?');
    const device: SideCompute = { measuredMs: num(get(m, 'device.timeMs.p50'), 'device.timeMs.p50', id), flops: num(get(m, 'device.flops'), 'device.flops', id) };
    const server: SideCompute = { measuredMs: num(get(m, 'server.timeMs.p50'), 'server.timeMs.p50', id), flops: num(get(m, 'server.flops'), 'server.flops', id) };
    const deviceParams = num(get(m, 'device.params'), 'device.params', id);
    const serverParams = num(get(m, 'server.params'), 'server.params', id);
    const peak = num(get(m, 'device.peakActivationBytes'), 'device.peakActivationBytes', id);
    const variant = variantOf(cell.coords, varying);
    for (const precision of opts.precisions) {
      const accuracy = get(m, `quantizedAccuracy.${precision}`) ?? (precision === 'fp32' ? m.accuracy : undefined);
      specs.push({
        kind: 'split', cut, precision, variant,
        accuracy: num(accuracy, `quantizedAccuracy.${precision}`, id),
        payloadBytes: num(get(m, `payload.bytes.bottleneck.${precision}`), `payload.bytes.bottleneck.${precision}`, id),
        device, server, deviceMemoryBytes: deviceParams * 4 + peak, evaluateCell: cell.cellId,
      });
    }
    // The whole network's cost, estimated from the split model with the least compute (its
    // bottleneck adds the least on top of the unsplit network).
    const whole: SideCompute = { measuredMs: device.measuredMs + server.measuredMs, flops: device.flops + server.flops };
    const base = typeof m.baseAccuracy === 'number' ? m.baseAccuracy : null;
    if (!local || whole.flops < local.device!.flops) {
      local = { kind: 'local', cut: 'all-on-device', precision: 'none', variant: '', accuracy: base, payloadBytes: 0,
        device: whole, server: null, deviceMemoryBytes: (deviceParams + serverParams) * 4 + peak, evaluateCell: cell.cellId };
      if (opts.inputBytes !== undefined) {
        remote = { kind: 'remote', cut: 'all-on-server', precision: 'uint8', variant: '', accuracy: base, payloadBytes: opts.inputBytes,
          device: null, server: whole, deviceMemoryBytes: 0, evaluateCell: cell.cellId };
      }
    }
  }
  if (opts.baselines !== false && local) {
    if (local.accuracy === null) notes.push('the evaluate cells carry no baseAccuracy: the baselines have no accuracy');
    specs.push(local);
    if (remote) specs.push(remote);
    else notes.push('remote computing baseline skipped: the raw input size is unknown (give inputBytes or a dataset input)');
  }
  return { specs, notes };
}

/** Time of one side on a target profile: measured time scaled by relative speed, or FLOPs at the effective rate. */
export function scaledMs(side: SideCompute | null, profile: DeviceProfile): number {
  if (!side) return 0;
  const compute = profile.relativeSpeed !== undefined ? side.measuredMs / profile.relativeSpeed : (side.flops / (profile.effectiveGflops! * 1e9)) * 1e3;
  return compute + profile.overheadMs;
}

function designId(spec: DesignSpec, net: string, device: string, server: string): string {
  const what = spec.kind === 'split' ? `${spec.cut}${spec.variant ? `[${spec.variant}]` : ''}/${spec.precision}` : spec.kind;
  return `${what}@${device}>${net}>${server}`;
}

export async function simulateDesign(spec: DesignSpec, net: NetworkProfile, device: DeviceProfile, server: DeviceProfile, stream: StreamSpec, sim: SimulatorRunOptions): Promise<Design> {
  const deviceMs = scaledMs(spec.device, device);
  const serverMs = scaledMs(spec.server, server);
  const r = await endToEnd(net, { deviceMs, serverMs, payloadBytes: spec.payloadBytes }, stream, sim);
  return {
    id: designId(spec, net.name, device.name, server.name),
    kind: spec.kind, cut: spec.cut, precision: spec.precision, variant: spec.variant,
    network: net.name, device: device.name, server: server.name,
    accuracy: spec.accuracy, payloadBytes: spec.payloadBytes,
    deviceMs, transferMs: r.transferMs, serverMs, endToEndMs: r.endToEndMs,
    frameLossRate: r.frameLossRate, packetsLost: r.packetsLost, retransmissions: r.retransmissions,
    deviceMemoryBytes: spec.deviceMemoryBytes, deviceMemoryLimitBytes: device.memoryMB * 1024 * 1024,
    simulator: r.simulator,
    ...(spec.evaluateCell ? { evaluateCell: spec.evaluateCell } : {}),
  };
}
