// Matching an application's QoS requirements (stage 3 of Split-Et-Impera). Pure functions over a
// list of simulated designs: the feasibility filter with, for every rejected design, each
// constraint it breaks and by how much; the objective with tie-breaks; the Pareto front of
// accuracy against latency per network; and, when nothing is feasible, the binding constraint.
import { Type, type Static } from '@sinclair/typebox';
import type { DesignSummary } from './designs.js';

const closed = { additionalProperties: false } as const;
const Percentile = Type.Union([Type.Literal('p50'), Type.Literal('p95'), Type.Literal('p99'), Type.Literal('mean')]);
const Criterion = Type.Union([Type.Literal('latency'), Type.Literal('accuracy'), Type.Literal('bytes'), Type.Literal('deviceMs')]);

export const RequirementsSchema = Type.Object({
  description: Type.Optional(Type.String()),
  minAccuracy: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'accuracy floor (fraction)' })),
  maxLatencyMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'end-to-end latency ceiling (ms) at latencyPercentile' })),
  latencyPercentile: Type.Optional(Percentile),
  maxPayloadBytes: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'bytes sent per frame' })),
  maxDeviceMemoryMB: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'device memory ceiling (MiB) on top of the device profile\'s own limit' })),
  maxFrameLossRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  objective: Type.Optional(Type.Union([Type.Literal('latency'), Type.Literal('accuracy'), Type.Literal('bytes')])),
  tieBreak: Type.Optional(Type.Array(Criterion, { description: 'criteria applied in order when the objective ties' })),
  networks: Type.Optional(Type.Array(Type.String(), { description: 'only consider these networks' })),
}, closed);
export type RequirementsInput = Static<typeof RequirementsSchema>;

export type Criterion = Static<typeof Criterion>;
export type Objective = 'latency' | 'accuracy' | 'bytes';
export type PercentileName = Static<typeof Percentile>;

export interface Requirements {
  minAccuracy?: number;
  maxLatencyMs?: number;
  latencyPercentile: PercentileName;
  maxPayloadBytes?: number;
  maxDeviceMemoryMB?: number;
  maxFrameLossRate?: number;
  objective: Objective;
  tieBreak: Criterion[];
  networks?: string[];
}

export function normalizeRequirements(r: RequirementsInput = {}): Requirements {
  const out: Requirements = {
    latencyPercentile: r.latencyPercentile ?? 'p95',
    objective: r.objective ?? 'latency',
    tieBreak: r.tieBreak ?? ['accuracy', 'latency', 'bytes'],
  };
  // Only the limits that are set: an absent limit is no constraint (never `undefined` in the result).
  if (r.minAccuracy !== undefined) out.minAccuracy = r.minAccuracy;
  if (r.maxLatencyMs !== undefined) out.maxLatencyMs = r.maxLatencyMs;
  if (r.maxPayloadBytes !== undefined) out.maxPayloadBytes = r.maxPayloadBytes;
  if (r.maxDeviceMemoryMB !== undefined) out.maxDeviceMemoryMB = r.maxDeviceMemoryMB;
  if (r.maxFrameLossRate !== undefined) out.maxFrameLossRate = r.maxFrameLossRate;
  if (r.networks !== undefined) out.networks = r.networks;
  return out;
}

export type ConstraintName = 'min-accuracy' | 'max-latency' | 'max-payload' | 'max-device-memory' | 'device-memory-limit' | 'max-frame-loss';

export interface Violation {
  constraint: ConstraintName;
  limit: number;
  /** null when the design has no value (no accuracy known, or every frame lost). */
  actual: number | null;
  /** How far beyond the limit (always positive, in the constraint's unit); null when unknown. */
  by: number | null;
}

export interface BindingConstraint {
  constraint: ConstraintName;
  /** Designs that become feasible when this constraint alone is dropped. */
  admitsIfRelaxed: number;
  /** The nearest limit that admits at least one design (null when relaxing it alone admits none). */
  relaxTo: number | null;
  /** |relaxTo − limit|. */
  relaxBy: number | null;
  /** Designs that break this constraint. */
  violatedBy: number;
}

export interface Recommendation {
  requirements: Requirements;
  chosen: DesignSummary | null;
  feasible: DesignSummary[];
  pareto: Record<string, DesignSummary[]>;
  rejected: { design: DesignSummary; violations: Violation[] }[];
  binding?: ConstraintName;
  bindingDetail?: BindingConstraint[];
  /** One sentence for people. */
  summary: string;
}

/** The latency a requirement looks at; Infinity when every frame was lost. */
export function latencyOf(d: DesignSummary, pct: PercentileName): number {
  const v = d.endToEndMs[pct];
  return v === null || v === undefined ? Infinity : v;
}

const MB = 1024 * 1024;

export function violations(d: DesignSummary, r: Requirements): Violation[] {
  const out: Violation[] = [];
  const above = (constraint: ConstraintName, actual: number | null, limit: number | undefined) => {
    if (limit === undefined) return;
    if (actual === null || !Number.isFinite(actual)) out.push({ constraint, limit, actual: null, by: null });
    else if (actual > limit) out.push({ constraint, limit, actual, by: actual - limit });
  };
  if (r.minAccuracy !== undefined) {
    if (d.accuracy === null) out.push({ constraint: 'min-accuracy', limit: r.minAccuracy, actual: null, by: null });
    else if (d.accuracy < r.minAccuracy) out.push({ constraint: 'min-accuracy', limit: r.minAccuracy, actual: d.accuracy, by: r.minAccuracy - d.accuracy });
  }
  above('max-latency', latencyOf(d, r.latencyPercentile), r.maxLatencyMs);
  above('max-payload', d.payloadBytes, r.maxPayloadBytes);
  above('max-device-memory', d.deviceMemoryBytes, r.maxDeviceMemoryMB === undefined ? undefined : r.maxDeviceMemoryMB * MB);
  above('device-memory-limit', d.deviceMemoryBytes, d.deviceMemoryLimitBytes);
  above('max-frame-loss', d.frameLossRate, r.maxFrameLossRate);
  return out;
}

function criterionValue(d: DesignSummary, c: Criterion, r: Requirements): number {
  switch (c) {
    case 'latency': return latencyOf(d, r.latencyPercentile);
    case 'accuracy': return -(d.accuracy ?? -Infinity); // higher is better: sort ascending on the negation
    case 'bytes': return d.payloadBytes;
    case 'deviceMs': return d.deviceMs;
  }
}

/** Orders designs best first by the objective, then the tie-breaks, then id (deterministic). */
export function rank(designs: DesignSummary[], r: Requirements): DesignSummary[] {
  const order: Criterion[] = [r.objective, ...r.tieBreak.filter((c) => c !== r.objective)];
  return [...designs].sort((a, b) => {
    for (const c of order) {
      const x = criterionValue(a, c, r);
      const y = criterionValue(b, c, r);
      if (x !== y) return x < y ? -1 : 1;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** Designs no other design beats on both accuracy (higher) and latency (lower), by latency. */
export function paretoFront(designs: DesignSummary[], pct: PercentileName): DesignSummary[] {
  const known = designs.filter((d) => d.accuracy !== null && Number.isFinite(latencyOf(d, pct)));
  const front = known.filter((d) => !known.some((o) => o !== d
    && o.accuracy! >= d.accuracy! && latencyOf(o, pct) <= latencyOf(d, pct)
    && (o.accuracy! > d.accuracy! || latencyOf(o, pct) < latencyOf(d, pct))));
  // Equal points appear once.
  const seen = new Set<string>();
  return front
    .sort((a, b) => latencyOf(a, pct) - latencyOf(b, pct) || b.accuracy! - a.accuracy! || (a.id < b.id ? -1 : 1))
    .filter((d) => {
      const key = `${d.accuracy}|${latencyOf(d, pct)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/**
 * Which constraint holds everything back: the one whose relaxation alone admits the most designs;
 * ties go to the smallest relative relaxation. Every constraint that some design breaks is listed.
 */
export function bindingConstraints(rejected: { design: DesignSummary; violations: Violation[] }[]): BindingConstraint[] {
  const names = [...new Set(rejected.flatMap((r) => r.violations.map((v) => v.constraint)))];
  const out = names.map((constraint): BindingConstraint & { relative: number } => {
    const alone = rejected.filter((r) => r.violations.length === 1 && r.violations[0].constraint === constraint);
    const viol = alone.map((r) => r.violations[0]).filter((v) => v.by !== null);
    const best = viol.sort((a, b) => a.by! - b.by!)[0];
    const relaxTo = best ? (constraint === 'min-accuracy' ? best.actual! : best.actual!) : null;
    return {
      constraint,
      admitsIfRelaxed: alone.length,
      relaxTo,
      relaxBy: best ? best.by : null,
      violatedBy: rejected.filter((r) => r.violations.some((v) => v.constraint === constraint)).length,
      relative: best && best.limit !== 0 ? best.by! / Math.abs(best.limit) : Infinity,
    };
  });
  out.sort((a, b) => b.admitsIfRelaxed - a.admitsIfRelaxed || a.relative - b.relative || b.violatedBy - a.violatedBy || (a.constraint < b.constraint ? -1 : 1));
  return out.map(({ relative: _r, ...rest }) => rest);
}

export function recommend(all: DesignSummary[], input: Requirements | RequirementsInput = {}): Recommendation {
  const r = 'objective' in input && 'tieBreak' in input && 'latencyPercentile' in input ? (input as Requirements) : normalizeRequirements(input as RequirementsInput);
  const designs = r.networks ? all.filter((d) => r.networks!.includes(d.network)) : all;
  const feasible: DesignSummary[] = [];
  const rejected: { design: DesignSummary; violations: Violation[] }[] = [];
  for (const d of designs) {
    const v = violations(d, r);
    if (v.length === 0) feasible.push(d);
    else rejected.push({ design: d, violations: v });
  }
  const ranked = rank(feasible, r);
  const pareto: Record<string, DesignSummary[]> = {};
  for (const net of [...new Set(designs.map((d) => d.network))].sort()) {
    pareto[net] = paretoFront(designs.filter((d) => d.network === net), r.latencyPercentile);
  }
  const result: Recommendation = { requirements: r, chosen: ranked[0] ?? null, feasible: ranked, pareto, rejected, summary: '' };
  if (designs.length === 0) {
    result.summary = r.networks ? `no simulated design on ${r.networks.join(', ')}` : 'no simulated design';
  } else if (ranked.length === 0) {
    const detail = bindingConstraints(rejected);
    result.binding = detail[0]?.constraint;
    result.bindingDetail = detail;
    const b = detail[0];
    result.summary = `none of ${designs.length} designs meets the requirements; binding constraint: ${b.constraint}` +
      (b.admitsIfRelaxed > 0 ? ` (relaxing it to ${fmt(b.relaxTo)} admits a design; dropping it admits ${b.admitsIfRelaxed})` : ' (no single relaxation admits a design)');
  } else {
    result.summary = `${ranked.length} of ${designs.length} designs feasible; chosen ${ranked[0].id} (objective ${r.objective})`;
  }
  return result;
}

function fmt(v: number | null): string {
  if (v === null) return '?';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(4)).toString();
}
