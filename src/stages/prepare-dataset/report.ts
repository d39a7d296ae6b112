// prepare-dataset in the report: the data a group of cells was trained on (its name and classes).
import { arr, num, str, strArr } from '../../util/tolerant.js';
import type { StageReport, Stored } from '../report.js';
import type { PrepareDatasetMetrics } from './metrics.js';

/** What the report reads of the params: the dataset's name and how its classes were chosen. */
interface DatasetParams {
  dataset: {
    name?: string; id?: string; kind?: string; resolution?: number;
    classes?: { names?: string[]; wordnetAncestor?: string; count?: number; seed?: number };
  };
}

function subsetLabel(spec: Stored<DatasetParams['dataset']['classes']> | null | undefined): string | null {
  if (!spec || typeof spec !== 'object') return null;
  const ancestor = str(spec.wordnetAncestor);
  if (ancestor) return `classes under WordNet ${ancestor}`;
  const count = num(spec.count);
  if (count !== null) return `${count} random classes (seed ${num(spec.seed) ?? 0})`;
  const names = arr(spec.names);
  return names.length ? `subset of ${names.length} classes` : null;
}

const report: StageReport<PrepareDatasetMetrics, DatasetParams> = {
  part: {
    role: 'dataset',
    read({ metrics, params }) {
      const d = params?.dataset;
      const kind = str(d?.kind);
      const res = num(d?.resolution);
      const label = str(d?.name) || str(d?.id) || (kind ? (res !== null ? `${kind} ${res}px` : kind) : null);
      const classes = strArr(metrics?.classes);
      // An explicit list of names says nothing the class list does not.
      const subset = classes.length && arr(d?.classes?.names).length ? null : subsetLabel(d?.classes);
      return { label, classes: classes.length ? classes : null, subset };
    },
  },
};

export default report;
