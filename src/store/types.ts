// What the store gives readers (reports, status, recommend): one record per cell.
export type CellState = 'pending' | 'running' | 'done' | 'failed' | 'interrupted';

export interface CellRecord {
  id: string;
  key: string;
  pipeline: string;
  instance: string;
  stage: string;
  coords: Record<string, unknown>;
  params: unknown;
  state: CellState;
  /** Final artifact folder (absolute), when done. */
  dir?: string;
  metrics?: Record<string, unknown>;
  provenance?: Record<string, unknown>;
  error?: string;
  logPath?: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  attempts: number;
}
