// compare-subsets in the report: how the best cut moves between class subsets.
import { arr, bool, num, str } from '../../util/tolerant.js';
import type { StageReport } from '../report.js';
import type { CompareSubsetsMetrics } from './metrics.js';

const report: StageReport<CompareSubsetsMetrics> = {
  part: {
    role: 'subset-comparison',
    read: ({ metrics: m }) => ({
      subsets: arr(m?.subsets).map((x) => ({
        label: str(x?.label) ?? '?', isplitBest: str(x?.isplitBest), retrainedBest: str(x?.retrainedBest),
        hit: bool(x?.hit), spearman: num(x?.spearman),
      })),
      isplitBestMoves: bool(m?.isplitBestMoves),
      retrainedBestMoves: bool(m?.retrainedBestMoves),
      moveAgreement: num(m?.moveAgreement),
      hitRate: num(m?.hitRate),
    }),
  },
};

export default report;
