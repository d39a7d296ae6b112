// What a checkpoint holds and how it maps onto the project's networks: `sei weights inspect`.
import { readCheckpoint } from './read.js';
import { describeArchitecture, matchCheckpoint, matchProblems, shapeText } from './match.js';
import { guessArchitecture, type TorchArchitecture } from './torchvision.js';
import { elementCount } from './tensors.js';

export interface InspectedTensor {
  name: string;
  dtype: string;
  shape: number[];
  elements: number;
  /** The project's layer/weight it loads into ('' when it has none, e.g. num_batches_tracked). */
  target: string;
  conversion: string;
}

export interface CheckpointInspection {
  path: string;
  format: 'pytorch' | 'safetensors';
  tensors: InspectedTensor[];
  /** Learned weights and biases (what PyTorch's parameters() counts). */
  parameters: number;
  /** Batch norm running statistics and counters. */
  buffers: number;
  /** The architecture the names and shapes match, or null. */
  architecture: TorchArchitecture | null;
  problems: string[];
}

const isBuffer = (name: string) => /\.(running_mean|running_var|num_batches_tracked)$/.test(name);

export function inspectCheckpoint(path: string): CheckpointInspection {
  const ckpt = readCheckpoint(path);
  const guess = guessArchitecture(new Map(ckpt.tensors.map((t) => [t.name, t.shape])));
  const match = guess ? matchCheckpoint(ckpt, guess) : null;
  const targets = new Map(match?.mapped.map(({ tensor, entry }) => [tensor.name, entry]) ?? []);
  const tensors = ckpt.tensors.map((t) => {
    const e = targets.get(t.name);
    return {
      name: t.name, dtype: t.dtype, shape: t.shape, elements: elementCount(t.shape),
      target: e && e.layer ? `${e.layer}/${e.weight}` : '', conversion: e?.conversion ?? '',
    };
  });
  const problems = match ? matchProblems(match) : [`the names match neither torchvision's vgg16 (features.0.weight … classifier.6.weight) nor resnet50 (conv1.weight, layer1.0.conv3.weight … fc.weight)`];
  return {
    path,
    format: ckpt.format,
    tensors,
    parameters: tensors.filter((t) => !isBuffer(t.name)).reduce((a, t) => a + t.elements, 0),
    buffers: tensors.filter((t) => isBuffer(t.name)).reduce((a, t) => a + t.elements, 0),
    architecture: problems.length ? null : guess,
    problems: problems.length && guess ? [`close to torchvision ${describeArchitecture(guess)}, but:`, ...problems] : problems,
  };
}

/** Plain-text listing for the terminal. */
export function formatInspection(r: CheckpointInspection): string {
  const lines: string[] = [`${r.path}: ${r.format === 'pytorch' ? 'PyTorch state_dict' : 'safetensors'}, ${r.tensors.length} tensors`];
  const nameWidth = Math.max(...r.tensors.map((t) => t.name.length), 6);
  for (const t of r.tensors) {
    const target = t.target ? `→ ${t.target}${t.conversion === 'vector' ? '' : ` (${t.conversion})`}` : t.conversion === 'ignored' ? '(ignored)' : '(no counterpart)';
    lines.push(`  ${t.name.padEnd(nameWidth)}  ${t.dtype.padEnd(8)} ${shapeText(t.shape).padEnd(20)} ${target}`);
  }
  lines.push(`parameters: ${r.parameters.toLocaleString('en-US')} (plus ${r.buffers.toLocaleString('en-US')} batch-norm statistics)`);
  lines.push(r.architecture
    ? `matches: torchvision ${describeArchitecture(r.architecture)} → model.arch ${r.architecture.arch}, model.width ${r.architecture.width}, classes ${r.architecture.classes}`
    : `matches: nothing loadable\n  ${r.problems.join('\n  ')}`);
  return lines.join('\n');
}
