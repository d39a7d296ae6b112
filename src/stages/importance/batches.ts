// Scoring in batches that fit the wasm heap. The first batch size comes from the cost model, which
// can only estimate what a full-size network's gradient pass holds at once; when the heap still
// runs out, the same images are scored again in halves (the CUI of an image does not depend on the
// images beside it: the network runs in inference mode), and the run says so. Only running out at
// one image is an error.
import { OutOfMemoryError } from '../../ml/heap.js';
import { releaseAbandonedGradientTape } from '../../ml/gradient-tape.js';

export interface BatchScorer {
  /** Scores these images (indices into the split) and keeps their values; may throw OutOfMemoryError. */
  score(indices: Int32Array, done: number, total: number): Promise<void>;
  log(message: string): void;
}

/** Scores `chosen` in consecutive batches of at most `batchSize`; returns the batch size it ended with. */
export async function scoreInBatches(chosen: readonly number[], batchSize: number, scorer: BatchScorer): Promise<number> {
  let size = batchSize;
  let start = 0;
  while (start < chosen.length) {
    const indices = Int32Array.from(chosen.slice(start, start + size));
    try {
      await scorer.score(indices, start, chosen.length);
    } catch (e) {
      if (e instanceof OutOfMemoryError) releaseAbandonedGradientTape();
      if (!(e instanceof OutOfMemoryError) || size === 1) throw e;
      const smaller = Math.max(1, Math.floor(size / 2));
      scorer.log(`importance: a batch of ${size} images did not fit the wasm heap (${e.message.split(';')[0]}); ` +
        `scoring in batches of ${smaller} from here (the values do not depend on it)`);
      size = smaller;
      continue;
    }
    start += indices.length;
  }
  return size;
}
