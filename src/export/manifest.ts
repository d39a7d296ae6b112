// The manifest written beside the exported halves: what a deployment needs to feed the head,
// ship the payload and read the tail's logits, what the study measured for this design, and where
// it came from.
import type { Normalize } from '../ml/spec.js';
import type { Precision } from '../ml/accounting.js';
import type { ExportKind } from './target.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'sei-export/1';

export interface TensorSpec {
  name: string;
  /** With the batch first: 'batch' where any size goes. */
  shape: (number | 'batch')[];
  dtype: 'float32' | 'float16' | 'int8' | 'uint8';
  layout?: 'NHWC';
}

export interface ExportManifest {
  format: typeof MANIFEST_FORMAT;
  kind: ExportKind;
  /** In words: the halves written, or why there is one model only. */
  summary: string;
  pipeline: string;
  design: { id: string; cut: string; precision: string; network: string; device: string; server: string } | null;
  cut: string | null;
  architecture: { arch: string; widthMultiplier: number; bottleneck: { ratio: number; expansion: number } | null };
  input: TensorSpec & {
    preprocessing: {
      resize: { height: number; width: number; fit: string; how: string };
      channels: number;
      channelOrder: string;
      /** x = (pixel / 255 − mean[c]) / std[c] */
      mean: number[];
      std: number[];
      formula: string;
    };
  };
  payload: null | {
    outputs: TensorSpec[];
    /** 'uint8': the raw image, sent by an all-on-server design. */
    precision: Precision | 'uint8';
    /** Bytes on the wire per frame (int8: the values plus one float32 scale). */
    bytesPerFrame: number;
    elements: number;
    quantisation: string;
  };
  output: TensorSpec & { classes: string[] };
  files: Record<string, string>;
  measured: {
    accuracy: number | null;
    baseAccuracy: number | null;
    testImages: number | null;
    /** Median batch-1 times the evaluate stage measured on its backend. */
    deviceMs: number | null;
    serverMs: number | null;
    backend: string | null;
    /** The times the simulation used for the design's device and server profiles, and its latency. */
    simulated: null | { deviceProfile: string; serverProfile: string; network: string; deviceMs: number; serverMs: number;
      transferMsP50: number | null; endToEndMsP50: number | null; endToEndMsP95: number | null };
  };
  /** The export's own check: the written files run on a seeded input against the project's model. */
  check?: { input: string; tolerance: number; onnxRelativeError: number | null; tfjsRelativeError: number | null };
  provenance: {
    modelCell: { id: string; key: string; stage: string; coords: Record<string, unknown> };
    evaluateCell: { id: string; key: string } | null;
    datasetCell: { id: string; key: string } | null;
    origin: string;
    exportedBy: string;
    opset: number;
  };
}

/** The preprocessing block of the manifest. */
export function preprocessing(height: number, width: number, channels: number, fit: string, norm: Normalize): ExportManifest['input']['preprocessing'] {
  return {
    resize: {
      height, width, fit,
      how: fit === 'cover' ? 'scale the shorter side to fit, centre-crop the rest' : 'stretch to height×width',
    },
    channels,
    channelOrder: channels === 3 ? 'RGB' : channels === 1 ? 'grey' : `${channels} channels in dataset order`,
    mean: norm.mean,
    std: norm.std,
    formula: 'x[h, w, c] = (pixel[h, w, c] / 255 − mean[c]) / std[c], float32, N×H×W×C',
  };
}
