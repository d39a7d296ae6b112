// What an aborted gradient pass leaves behind, freed. Its own module: only the importance stage's
// retry needs it, and a stage's cache key covers every module its code loads.
import * as tf from '@tensorflow/tfjs';

interface GradientTapeState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

/**
 * Frees what an aborted gradient pass left behind. tfjs keeps the tensors its tape saves for the
 * backward pass until that pass ends normally; when it throws (the heap ran out in the middle),
 * they stay kept, unreachable, and hold the heap — the whole forward's activations, gigabytes for
 * a full-size network, so that a retry with fewer images ran out too. Returns how many it freed.
 */
export function releaseAbandonedGradientTape(): number {
  // The tape lives in the engine's internal state (no public API reaches it).
  const state = (tf.engine() as unknown as { state: GradientTapeState }).state;
  if (state.gradientDepth !== 0 || state.activeTape === null) return 0;
  let freed = 0;
  for (const node of state.activeTape) {
    for (const t of node.saved ?? []) {
      if (!t.isDisposed) { t.dispose(); freed++; }
    }
  }
  state.activeTape = null;
  return freed;
}
