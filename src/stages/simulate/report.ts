// simulate in the report: its designs give the latency columns of the cut table and the
// accuracy–latency figure.
import { num, objects, str } from '../../util/tolerant.js';
import type { DesignFacts, StageReport } from '../report.js';
import type { SimulateMetrics } from './metrics.js';

const report: StageReport<SimulateMetrics> = {
  part: {
    role: 'designs',
    read({ metrics: m }) {
      // A simulate cell may cover several networks and devices: each design names its own.
      const network = str(m?.network) ?? '?';
      const device = str(m?.device);
      const out: DesignFacts[] = [];
      for (const d of objects(m?.designs)) {
        const cut = str(d.cut);
        if (!cut) continue;
        const e = d.endToEndMs;
        out.push({
          id: str(d.id),
          kind: str(d.kind) ?? 'split',
          variant: str(d.variant) ?? '',
          network: str(d.network) ?? network,
          device: str(d.device) ?? device,
          cut,
          precision: str(d.precision) ?? '?',
          payloadBytes: num(d.payloadBytes),
          deviceMs: num(d.deviceMs),
          transferP50: num(d.transferMs?.p50),
          serverMs: num(d.serverMs),
          e2e: { p50: num(e?.p50), p95: num(e?.p95), p99: num(e?.p99), mean: num(e?.mean) },
          frameLossRate: num(d.frameLossRate),
          simulator: str(d.simulator),
          accuracy: num(d.accuracy),
        });
      }
      return out;
    },
  },
};

export default report;
