// Plain-text rendering of a recommendation (used by `sei recommend` and the recommend stage).
import type { DesignSummary } from './designs.js';
import { latencyOf, type Recommendation, type Violation } from './recommend.js';

function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function pct(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}

function bytes(v: number): string {
  if (v === 0) return '0 B';
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${(v / 1024 / 1024).toFixed(2)} MiB`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

/** A constraint's value in its unit: percent, ms or bytes. */
function valueOf(constraint: Violation['constraint'], x: number | null): string {
  if (x === null) return 'unknown';
  switch (constraint) {
    case 'min-accuracy': return pct(x);
    case 'max-latency': return `${ms(x)} ms`;
    case 'max-payload': return bytes(x);
    case 'max-device-memory': case 'device-memory-limit': return bytes(x);
    case 'max-frame-loss': return pct(x);
  }
}

export function describeViolation(v: Violation): string {
  const val = (x: number | null) => valueOf(v.constraint, x);
  // Shortfalls of fractions are in percentage points.
  const pp = v.constraint === 'min-accuracy' || v.constraint === 'max-frame-loss';
  const by = v.by === null ? '' : ` (by ${pp ? `${(v.by * 100).toFixed(1)} pp` : val(v.by)})`;
  const rel = v.constraint === 'min-accuracy' ? 'below' : 'above';
  return `${v.constraint}: ${val(v.actual)} ${rel} ${val(v.limit)}${by}`;
}

function designRows(designs: DesignSummary[], r: Recommendation): string[] {
  const p = r.requirements.latencyPercentile;
  const rows = [['design', 'accuracy', `e2e ${p} ms`, 'device ms', `transfer ${p} ms`, 'server ms', 'payload', 'frame loss']];
  for (const d of designs) {
    rows.push([d.id, pct(d.accuracy), ms(latencyOf(d, p)), ms(d.deviceMs), ms(d.transferMs[p]), ms(d.serverMs), bytes(d.payloadBytes), pct(d.frameLossRate)]);
  }
  return table(rows).map((l) => `  ${l}`);
}

export function formatRecommendation(r: Recommendation): string {
  const q = r.requirements;
  const req = [
    q.minAccuracy !== undefined ? `accuracy >= ${pct(q.minAccuracy)}` : '',
    q.maxLatencyMs !== undefined ? `${q.latencyPercentile} latency <= ${q.maxLatencyMs} ms` : '',
    q.maxPayloadBytes !== undefined ? `payload <= ${bytes(q.maxPayloadBytes)}` : '',
    q.maxDeviceMemoryMB !== undefined ? `device memory <= ${q.maxDeviceMemoryMB} MiB` : '',
    q.maxFrameLossRate !== undefined ? `frame loss <= ${pct(q.maxFrameLossRate)}` : '',
    q.networks ? `networks: ${q.networks.join(', ')}` : '',
  ].filter((s) => s !== '');
  const lines: string[] = [];
  lines.push(`requirements: ${req.length ? req.join(', ') : 'none'}; objective: ${q.objective} (tie-breaks: ${q.tieBreak.join(', ')})`);
  lines.push('');
  lines.push(r.chosen ? `chosen: ${r.chosen.id}` : 'chosen: none');
  lines.push(r.summary);
  if (r.bindingDetail?.length) {
    lines.push('', 'binding constraints (relaxing one alone):');
    for (const b of r.bindingDetail) {
      lines.push(`  ${b.constraint}: broken by ${b.violatedBy} designs; relaxing it alone admits ${b.admitsIfRelaxed}` +
        (b.relaxTo !== null ? `; nearest limit that admits one: ${valueOf(b.constraint, b.relaxTo)}` : ''));
    }
  }
  lines.push('', `feasible designs (${r.feasible.length}, best first):`);
  lines.push(...(r.feasible.length ? designRows(r.feasible, r) : ['  none']));
  for (const [net, front] of Object.entries(r.pareto)) {
    lines.push('', `Pareto front on ${net} (accuracy vs ${q.latencyPercentile} latency):`);
    lines.push(...(front.length ? designRows(front, r) : ['  none']));
  }
  lines.push('', `rejected designs (${r.rejected.length}):`);
  for (const x of r.rejected) lines.push(`  ${x.design.id}: ${x.violations.map(describeViolation).join('; ')}`);
  return lines.join('\n') + '\n';
}
