// importance in the report: the group's CUI curve (figure, and the cut table's CUI columns).
import { log10OrNull, num, numArr, objects, str, strArr } from '../../util/tolerant.js';
import type { PerClassCurve, StageReport } from '../report.js';
import type { ImportanceMetrics } from './metrics.js';

const report: StageReport<ImportanceMetrics> = {
  part: {
    role: 'importance',
    read({ metrics: m }) {
      const cutPoints = strArr(m?.cutPoints);
      const rawCui = numArr(m?.cui);
      const storedLog = numArr(m?.log10Cui);
      const cde = numArr(m?.cdeBytes);
      const perClass = objects(m?.perClass).map((p): PerClassCurve => ({
        class: str(p.class) ?? '?',
        log10Cui: cutPoints.map((_, i) => log10OrNull(numArr(p.cui)[i] ?? null)),
        candidates: strArr(p.candidates),
        best: str(p.best),
      }));
      return {
        cutPoints,
        log10Cui: cutPoints.map((_, i) => storedLog[i] ?? log10OrNull(rawCui[i] ?? null)),
        candidates: strArr(m?.candidates),
        best: str(m?.best),
        cdeBytes: cutPoints.map((_, i) => cde[i] ?? null),
        cdeCandidates: strArr(m?.cdeCandidates),
        target: str(m?.target),
        imagesPerClass: m?.imagesPerClass === 'all' ? 'all' : num(m?.imagesPerClass),
        split: str(m?.split),
        images: num(m?.images),
        // Results from before these options existed were made the one way there was.
        readPoint: str(m?.readPoint) ?? 'post-activation',
        candidateRule: str(m?.candidateRule) ?? 'strict',
        perClass,
      };
    },
  },
};

export default report;
