// Dropout whose masks come from the project's seeded generator (src/util/random.ts), so training
// is reproducible: the mask of training step k of a layer is the stream deriveSeed(seed, layer
// name, k), one uniform number per element of the whole batch in row-major order; an element is
// kept (and scaled by 1/(1 − rate)) when its number is ≥ rate. The training loop names the step
// and the rows a micro-batch holds (setDropoutStep), so micro-batches draw the rows of the full
// batch's mask and a run resumed from a checkpoint draws the masks an uninterrupted run would.
// Outside a named step the k-th training-mode call is step k. PyTorch's Dropout semantics; the
// identity in inference mode. Class name and config are tfjs' Dropout, so saved models are
// unchanged.
import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed } from '../../util/random.js';

type DropoutArgs = Parameters<typeof tf.layers.dropout>[0];
type LayerConstructor = new (args: DropoutArgs) => tf.layers.Layer;

/** tfjs-layers' Dropout class (not exported by name). */
const DropoutLayer = (tf.layers.dropout({ rate: 0.5 }) as unknown as { constructor: LayerConstructor }).constructor;

/** The keep mask (0 or 1/(1 − rate) per element) of one training-mode call. */
export function dropoutMask(seed: number, layer: string, call: number, size: number, rate: number): Float32Array {
  const rng = new Rng(deriveSeed(seed, layer, call));
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) mask[i] = rng.next() >= rate ? scale : 0;
  return mask;
}

/** The training step being computed and the rows of its batch the current call holds. */
interface DropoutStep { step: number; batchRows: number; rowOffset: number }
let current: DropoutStep | undefined;

/** Names the step (and micro-batch rows) the next training-mode calls belong to; undefined clears it. */
export function setDropoutStep(s: DropoutStep | undefined): void {
  current = s;
}

/** Rows [rowOffset, rowOffset + rows) of step `step`'s mask for a batch of `batchRows` rows. */
function stepMask(seed: number, layer: string, s: DropoutStep, rows: number, perRow: number, rate: number): Float32Array {
  const rng = new Rng(deriveSeed(seed, layer, s.step));
  for (let i = 0; i < s.rowOffset * perRow; i++) rng.next();
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(rows * perRow);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() >= rate ? scale : 0;
  return mask;
}

class SeededDropout extends DropoutLayer {
  static className = 'Dropout';
  seed = 0;
  /** Training-mode calls so far: each draws a fresh mask. */
  calls = 0;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const rate = (this as unknown as { rate: number }).rate;
    if (kwargs?.['training'] !== true || rate <= 0) return tf.clone(x);
    const rows = x.shape[0] ?? 1;
    const mask = current !== undefined
      ? stepMask(this.seed, this.name, current, rows, x.size / rows, rate)
      : dropoutMask(this.seed, this.name, this.calls++, x.size, rate);
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
  }
}

/** tf.layers.dropout with seeded masks (see above). */
export function seededDropout(args: DropoutArgs & { name: string; seed: number }): tf.layers.Layer {
  const { seed, ...rest } = args;
  const layer = new SeededDropout(rest);
  layer.seed = seed;
  return layer;
}
