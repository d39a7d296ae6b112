// evaluate in the report: an evaluated design of a cut — accuracy (per payload precision), payload
// bytes and compute times in the cut table, and the base accuracy when train-base's is missing.
import { num, str } from '../../util/tolerant.js';
import type { StageReport } from '../report.js';
import type { EvaluateMetrics } from './metrics.js';

/** What the report reads of the params (an evaluation names its cut through its model's cell). */
interface EvaluateReadParams { cut?: string; seed?: number }

const report: StageReport<EvaluateMetrics, EvaluateReadParams> = {
  part: {
    role: 'evaluation',
    read({ metrics: m, params }) {
      const bytes = m?.payload?.bytes;
      const q = m?.quantizedAccuracy;
      return {
        cut: str(m?.cut) ?? str(params?.cut),
        seed: num(params?.seed),
        accuracy: num(m?.accuracy),
        quantized: { fp32: num(q?.fp32), fp16: num(q?.fp16), int8: num(q?.int8) },
        bytes: { raw: num(bytes?.raw?.fp32), fp32: num(bytes?.bottleneck?.fp32), fp16: num(bytes?.bottleneck?.fp16), int8: num(bytes?.bottleneck?.int8) },
        deviceMs: num(m?.device?.timeMs?.p50),
        serverMs: num(m?.server?.timeMs?.p50),
        baseAccuracy: num(m?.baseAccuracy),
      };
    },
  },
};

export default report;
