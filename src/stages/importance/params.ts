// The params of the importance stage: their schema, type and the helpers that resolve their values.
// A module of their own: the stage's definition (index.ts) and its run (run.ts) both read them.
import { Type, type Static } from '@sinclair/typebox';

export const Params = Type.Object({
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
