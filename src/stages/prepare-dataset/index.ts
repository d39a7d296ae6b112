// prepare-dataset: reads a dataset in its published layout (or draws the synthetic one), chooses
// classes and splits, and stores it as compact uint8 tensors that later stages read lazily
// with openPrepared() (src/data/prepared.ts).
import { Type, type Static } from '@sinclair/typebox';
import type { StageDefinition } from '../types.js';
import { PrepareDatasetMetrics } from './metrics.js';
import { checkSpec, datasetPath, DatasetSpecSchema } from '../../data/spec.js';
import { checkClassSubset } from '../../data/subset.js';
import { wordnetDataFile } from '../../data/wordnet.js';

export const PrepareDatasetParams = Type.Object({
  dataset: DatasetSpecSchema,
}, { additionalProperties: false });
export type PrepareDatasetParams = Static<typeof PrepareDatasetParams>;

const stage: StageDefinition<PrepareDatasetParams, PrepareDatasetMetrics> = {
  name: 'prepare-dataset',
  description: 'Decode, resize and split a dataset (Tiny-ImageNet-200, notMNIST, Chest X-Ray, IDX, image folder or synthetic) into uint8 tensors',
  params: PrepareDatasetParams,
  metrics: PrepareDatasetMetrics,
  inputs: {},
  codeDeps: [],
  outputs: [
    '{train,val,test}.images.u8: N×H×W×C uint8 tensors (NHWC; val only with a validation split)',
    '{train,val,test}.labels.i32: int32 labels',
    'meta.json: classes, size, splits, split protocol',
    'skipped.json: unreadable files and why',
  ],
  externalInputs(params) {
    const paths: string[] = [];
    const path = datasetPath(params.dataset);
    if (path !== undefined) paths.push(path);
    // The WordNet database decides which classes an ancestor subset holds.
    if (params.dataset.classes && 'wordnetAncestor' in params.dataset.classes) paths.push(wordnetDataFile());
    return paths;
  },
  missingInputHint(path, params) {
    if (path === wordnetDataFile()) return 'WordNet 3.0 for dataset.classes.wordnetAncestor: install Debian\'s wordnet-base package or set WNSEARCHDIR';
    return path === datasetPath(params.dataset) ? `expected the unpacked ${params.dataset.kind} folder` : undefined;
  },
  // The dataset folder and the WordNet file are external inputs: the planner checks that they
  // exist (a missing one stops `sei run` and marks the cells blocked in `sei plan`). A class
  // subset naming unknown classes, or drawing more than there are, is refused here, before any
  // cell runs (checkClassSubset reads folder listings and small text files, no image).
  validate(params) {
    const errors = checkSpec(params.dataset);
    return errors.length > 0 ? errors : checkClassSubset(params.dataset);
  },
  async run(ctx) {
    const { prepareDataset } = await import('../../data/prepare.js');
    const { UsageError } = await import('../../util/errors.js');
    const errors = checkSpec(ctx.params.dataset);
    if (errors.length > 0) throw new UsageError(errors.join('\n'));
    const sharp = (await import('sharp')).default;
    ctx.setProvenance({ sharp: sharp.versions.sharp, vips: sharp.versions.vips });
    const metrics = await prepareDataset(ctx.params.dataset, ctx.outDir, {
      log: (m) => ctx.log(m),
      progress: (e) => ctx.progress(e),
      signal: ctx.signal,
    });
    return { metrics };
  },
};

export default stage;
