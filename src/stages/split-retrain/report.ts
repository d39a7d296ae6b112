// split-retrain in the report: a retrained design of a cut (its state counts in the cut table).
import { num, str } from '../../util/tolerant.js';
import type { StageReport } from '../report.js';
import type { SplitRetrainMetrics } from './metrics.js';
import type { SplitRetrainParams } from './params.js';

const report: StageReport<SplitRetrainMetrics, SplitRetrainParams> = {
  part: {
    role: 'retrain',
    read: ({ metrics, params }) => ({ cut: str(metrics?.cut) ?? str(params?.cut), seed: num(params?.seed) }),
  },
};

export default report;
