// The built-in stages' report contributions, loaded statically so that a report model can be
// built synchronously from cells alone (tests, `buildReportModel(cells, info)`). `sei report`
// loads contributions through the registry instead (src/pipeline/registry.ts loadStageReport),
// which also finds stages on SEI_STAGE_PATH; test/report/contributions.test.ts checks that this
// list and the stage folders holding a report.ts agree.
import type { ReportingStage } from './report.js';
import compareSubsets from './compare-subsets/report.js';
import { CompareSubsetsMetrics } from './compare-subsets/metrics.js';
import evaluate from './evaluate/report.js';
import { EvaluateMetrics } from './evaluate/metrics.js';
import importance from './importance/report.js';
import { ImportanceMetrics } from './importance/metrics.js';
import prepareDataset from './prepare-dataset/report.js';
import { PrepareDatasetMetrics } from './prepare-dataset/metrics.js';
import recommend from './recommend/report.js';
import { RecommendMetrics } from './recommend/metrics.js';
import simulate from './simulate/report.js';
import { SimulateMetrics } from './simulate/metrics.js';
import splitRetrain from './split-retrain/report.js';
import { SplitRetrainMetrics } from './split-retrain/metrics.js';
import trainBase from './train-base/report.js';
import { TrainBaseMetrics } from './train-base/metrics.js';
import validate from './validate/report.js';
import { ValidateMetricsSchema } from './validate/metrics.js';

export const BUILTIN_REPORTS: readonly ReportingStage[] = [
  { name: 'prepare-dataset', metrics: PrepareDatasetMetrics, report: prepareDataset },
  { name: 'train-base', metrics: TrainBaseMetrics, report: trainBase },
  { name: 'importance', metrics: ImportanceMetrics, report: importance },
  { name: 'split-retrain', metrics: SplitRetrainMetrics, report: splitRetrain },
  { name: 'evaluate', metrics: EvaluateMetrics, report: evaluate },
  { name: 'validate', metrics: ValidateMetricsSchema, report: validate },
  { name: 'compare-subsets', metrics: CompareSubsetsMetrics, report: compareSubsets },
  { name: 'simulate', metrics: SimulateMetrics, report: simulate },
  { name: 'recommend', metrics: RecommendMetrics, report: recommend },
];
