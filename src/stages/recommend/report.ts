// recommend in the report: the recommendation per requirements block, and which simulated designs
// are on its Pareto front or chosen.
import { arr, num, obj, str } from '../../util/tolerant.js';
import { PERCENTILES, type DesignRef, type Percentile, type StageReport, type Stored } from '../report.js';
import type { RecommendMetrics } from './metrics.js';

/** A design as older results may hold it: a single end-to-end number, or `latencyMs`. */
type RecordedDesign = RecommendMetrics['feasible'][number] & { latencyMs?: number };
/** What the report reads of the params: the requirements' name and percentile. */
interface RecommendReadParams { requirements?: { name?: string; description?: string; latencyPercentile?: string } }

function designRef(d: Stored<RecordedDesign> | null | undefined): DesignRef {
  const e = d?.endToEndMs;
  return {
    id: str(d?.id), network: str(d?.network), cut: str(d?.cut), precision: str(d?.precision), variant: str(d?.variant),
    accuracy: num(d?.accuracy),
    e2e: { p50: num(e?.p50) ?? num(e) ?? num(d?.latencyMs), p95: num(e?.p95), p99: num(e?.p99), mean: num(e?.mean) },
  };
}

function percentileOf(requirements: { latencyPercentile?: unknown } | null | undefined): Percentile {
  const p = str(requirements?.latencyPercentile);
  return PERCENTILES.find((x) => x === p) ?? 'p95';
}

const report: StageReport<RecommendMetrics, RecommendReadParams> = {
  part: {
    role: 'recommendation',
    read({ metrics: m, params }) {
      const recorded = obj(m?.requirements);
      const requirements = recorded ?? obj(params?.requirements);
      // A front per network; anything else recorded there is no front.
      const fronts = obj(m?.pareto) ? m?.pareto ?? {} : {};
      return {
        name: str(params?.requirements?.name) ?? str(params?.requirements?.description)
          ?? str(recorded?.name) ?? str(recorded?.description),
        requirements,
        percentile: percentileOf(requirements),
        recordedPercentile: percentileOf(recorded),
        summary: str(m?.summary),
        chosen: obj(m?.chosen) ? designRef(m?.chosen) : null,
        binding: str(m?.binding),
        relax: arr(m?.bindingDetail).map((b) => ({
          constraint: str(b?.constraint) ?? '?', relaxTo: num(b?.relaxTo), admitsIfRelaxed: num(b?.admitsIfRelaxed),
        })),
        feasibleCount: m ? arr(m.feasible).length : null,
        rejected: arr(m?.rejected).map((r) => ({
          design: designRef(r?.design),
          violations: arr(r?.violations).map((v) => ({
            constraint: str(v?.constraint) ?? '?', limit: num(v?.limit), actual: num(v?.actual), by: num(v?.by),
          })),
        })),
        pareto: Object.fromEntries(Object.entries(fronts).map(([network, list]) => [network, arr(list).map(designRef)])),
      };
    },
  },
};

export default report;
