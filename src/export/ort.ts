// ONNX Runtime for Node, as the exporter and `sei bench --export` use it: one thread per session
// (its pool spins while waiting, which costs a shared machine more than it gains at batch 1).
import type * as ortTypes from 'onnxruntime-node';

export type OrtTensor = ortTypes.Tensor;

export async function loadOrt(): Promise<typeof ortTypes> {
  return await import('onnxruntime-node');
}

export async function ortSession(model: Uint8Array | string): Promise<ortTypes.InferenceSession> {
  const ort = await loadOrt();
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  return typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
}

export async function runOnnx(model: Uint8Array | string, feeds: Record<string, ortTypes.Tensor>): Promise<Record<string, ortTypes.Tensor>> {
  const session = await ortSession(model);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** max |a − b| / max |b|. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: ${a.length} values against ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}
