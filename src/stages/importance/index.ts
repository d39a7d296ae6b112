// importance: the I-SPLIT cumulative importance curve (CUI) of the base network over its 18 cut
// points, overall and per class, its candidates and best cut; beside it the layer-size (CDE) curve.
import { Type, type Static } from '@sinclair/typebox';
import type { StageDefinition } from '../types.js';

const Params = Type.Object({
  target: Type.Union([Type.Literal('label'), Type.Literal('predicted')], {
    default: 'label', description: "the logit differentiated: the image's true class (the paper) or the predicted one (the reference code)",
  }),
  imagesPerClass: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('all')], {
    default: 32, description: "images scored per class (the first ones of the split, in order); 'all': the whole split (the reference code scores the whole test set)",
  }),
  readPoint: Type.Union([Type.Literal('post-activation'), Type.Literal('reference')], {
    default: 'post-activation',
    description: "the tensor read at each cut: the named layer's output after its activation, or where the reference code reads it (VGG convolutions before ReLU, ResNet conv1 as the raw convolution)",
  }),
  candidates: Type.Union([Type.Literal('strict'), Type.Literal('reference')], {
    default: 'strict',
    description: "strict local maxima of log10 CUI (end points excluded), or the reference code's rule (first point after a copy of itself, both edges of a plateau)",
  }),
  classes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1, uniqueItems: true, description: 'score only these classes (names of the dataset); default: all',
  })),
  split: Type.Union([Type.Literal('train'), Type.Literal('val'), Type.Literal('test')], {
    default: 'train', description: 'the images scored; train keeps the test split for judging the prediction',
  }),
  batchSize: Type.Integer({ minimum: 1, default: 16 }),
}, { additionalProperties: false });
export type ImportanceParams = Static<typeof Params>;

const stage: StageDefinition<ImportanceParams> = {
  name: 'importance',
  description: 'I-SPLIT importance curve (CUI) over the cut points, its candidates and best cut, and the layer-size (CDE) curve',
  params: Params,
  inputs: {
    dataset: { kind: 'one', description: 'the prepare-dataset cell the base was trained on' },
    base: { kind: 'one', description: 'a train-base cell' },
  },
  codeDeps: [],
  outputs: [
    'importance.json: CUI per cut point, candidates, best cut',
  ],
  async run(ctx) {
    const { runImportance } = await import('./run.js');
    return runImportance(ctx);
  },
};

export default stage;
