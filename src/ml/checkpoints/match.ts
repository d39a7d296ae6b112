// Compare a checkpoint's tensors with torchvision's layout of an architecture: which tensor maps
// to which layer, and what is missing, extra or of the wrong shape. No TensorFlow.js here: this
// is what `sei weights inspect` reports and what the loader checks before it assigns anything.
import { torchvisionLayout, type TorchArchitecture, type TorchEntry } from './torchvision.js';
import type { Checkpoint, StoredTensor } from './tensors.js';

export interface CheckpointMatch {
  architecture: TorchArchitecture;
  /** Tensors with their place in the architecture, in file order. */
  mapped: { tensor: StoredTensor; entry: TorchEntry }[];
  missing: TorchEntry[];
  extra: StoredTensor[];
  wrongShape: { tensor: StoredTensor; entry: TorchEntry }[];
}

export function matchCheckpoint(ckpt: Checkpoint, architecture: TorchArchitecture): CheckpointMatch {
  const layout = torchvisionLayout(architecture);
  const byName = new Map(layout.map((e) => [e.torchName, e]));
  const present = new Set(ckpt.tensors.map((t) => t.name));
  const mapped: CheckpointMatch['mapped'] = [];
  const extra: StoredTensor[] = [];
  const wrongShape: CheckpointMatch['wrongShape'] = [];
  for (const tensor of ckpt.tensors) {
    const entry = byName.get(tensor.name);
    if (!entry) { extra.push(tensor); continue; }
    mapped.push({ tensor, entry });
    const sameShape = entry.conversion === 'ignored' ? true
      : tensor.shape.length === entry.torchShape.length && tensor.shape.every((d, i) => d === entry.torchShape[i]);
    if (!sameShape) wrongShape.push({ tensor, entry });
  }
  // num_batches_tracked is optional: it has no counterpart.
  const missing = layout.filter((e) => !present.has(e.torchName) && e.conversion !== 'ignored');
  return { architecture, mapped, missing, extra, wrongShape };
}

export const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

export function describeArchitecture(a: TorchArchitecture): string {
  return `${a.arch} width ${a.width} (${a.classes} classes, ${a.inputChannels} input channels)`;
}

/** One message per problem, naming the tensor and the expected and found shapes; excluded layers are not checked. */
export function matchProblems(m: CheckpointMatch, exclude: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  const list = (xs: string[]) => xs.slice(0, 6).join(', ') + (xs.length > 6 ? `, … (${xs.length} in all)` : '');
  const missing = m.missing.filter((e) => !exclude.has(e.layer));
  if (missing.length) out.push(`missing tensor${missing.length > 1 ? 's' : ''} ${list(missing.map((e) => `${e.torchName} ${shapeText(e.torchShape)}`))}`);
  if (m.extra.length) out.push(`unexpected tensor${m.extra.length > 1 ? 's' : ''} ${list(m.extra.map((t) => `${t.name} ${shapeText(t.shape)}`))}`);
  for (const { tensor, entry } of m.wrongShape.filter((w) => !exclude.has(w.entry.layer)).slice(0, 6)) {
    out.push(`tensor ${tensor.name} (layer ${entry.layer}): expected shape ${shapeText(entry.torchShape)}, found ${shapeText(tensor.shape)}`);
  }
  return out;
}
