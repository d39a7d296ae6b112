// meta.json of a prepared dataset: written by prepare.ts, read by prepared.ts.
export const PREPARED_FORMAT = 'sei-prepared-dataset/1';
export type SplitName = 'train' | 'val' | 'test';

export interface PreparedSplitMeta {
  count: number;
  perClass: number[];
  /** File names inside the prepared folder. */
  images: string;
  labels: string;
}

export interface PreparedMeta {
  format: typeof PREPARED_FORMAT;
  kind: string;
  source: string | null;
  classes: string[];
  classIds: string[];
  height: number;
  width: number;
  channels: number;
  fit: string;
  layout: string;
  splits: Partial<Record<SplitName, PreparedSplitMeta>>;
  skippedCount: number;
  skippedByReason: { reason: string; count: number }[];
  splitProtocol: string;
}
