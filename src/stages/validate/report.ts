// validate in the report: I-SPLIT against the retrained accuracies (the section that pairs the
// importance curve with the evaluations is this stage's: it is the one that pairs them).
import { arr, bool, log10OrNull, num, numArr, str, strArr } from '../../util/tolerant.js';
import type { StageReport, Stored } from '../report.js';
import type { ValidateMetrics } from './compute.js';

const ci = (v: Stored<readonly (number | null)[]> | null | undefined): [number | null, number | null] => {
  const a = numArr(v);
  return [a[0] ?? null, a[1] ?? null];
};

const report: StageReport<ValidateMetrics> = {
  part: {
    role: 'validation',
    read({ metrics: m }) {
      const cuts = strArr(m?.cuts);
      const fitX = numArr(m?.calibration?.fit?.log10Cui);
      const fitY = numArr(m?.calibration?.fit?.accuracy);
      return {
        isplitRank: num(m?.isplitRank),
        isplitBestOverall: str(m?.isplitBestOverall),
        cdeChoice: str(m?.regret?.cdeChoice),
        oracleCut: str(m?.regret?.oracleCut),
        regretPrecision: str(m?.regret?.precision),
        baselineLooMae: num(m?.calibration?.baselineLooMae),
        fit: fitX.flatMap((x, i) => (x !== null && fitY[i] !== null && fitY[i] !== undefined ? [{ log10Cui: x, accuracy: fitY[i]! }] : [])),
        spearman: { value: num(m?.spearman?.value), ci95: ci(m?.spearman?.ci95) },
        kendall: { value: num(m?.kendall?.value), ci95: ci(m?.kendall?.ci95) },
        isplitBest: str(m?.isplitBest),
        retrainedBest: str(m?.retrainedBest),
        hit: bool(m?.hit),
        regretIsplit: num(m?.regret?.isplit),
        regretCde: num(m?.regret?.cde),
        payloadBudgetBytes: num(m?.regret?.payloadBudgetBytes),
        looMae: num(m?.calibration?.looMae),
        calibration: arr(m?.calibration?.points).map((p, i) => ({
          cut: str(p?.cut) ?? cuts[i] ?? null,
          log10Cui: log10OrNull(num(p?.cui)),
          predicted: num(p?.predicted),
          actual: num(p?.actual),
        })),
      };
    },
  },
};

export default report;
