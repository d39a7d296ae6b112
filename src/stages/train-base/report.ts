// train-base in the report: the model a group of cells splits, its accuracy and its cut points.
import { num, str, strArr } from '../../util/tolerant.js';
import type { StageReport } from '../report.js';
import type { TrainBaseMetrics } from './metrics.js';

/** What the report reads of the params: the model's name, or its architecture and width. */
interface ModelParams { model: { name?: string; id?: string; arch?: string; width?: number } }

const report: StageReport<TrainBaseMetrics, ModelParams> = {
  part: {
    role: 'model',
    read({ metrics, params }) {
      const m = params?.model;
      const arch = str(m?.arch) ?? str(metrics?.arch);
      const width = num(m?.width);
      const label = str(m?.name) || str(m?.id) || (arch ? (width !== null && width !== 1 ? `${arch} ×${width}` : arch) : null);
      return { label, testAccuracy: num(metrics?.testAccuracy), cutPoints: strArr(metrics?.cutPoints) };
    },
  },
};

export default report;
