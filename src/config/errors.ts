// Config errors: every problem names where the offending value was written (file:line:col, or the
// --set argument it came from), the field path and what was expected. All problems found are
// reported together so a user fixes a config in one pass.
import { relative, isAbsolute } from 'node:path';
import { UsageError } from '../util/errors.js';

/** Where a value was written. */
export type Origin =
  | { file: string; line: number; col: number }
  | { set: string };

export interface ConfigProblem {
  origin?: Origin;
  /** Field path, e.g. ['stages', 'retrain', 'params', 'training', 'epochs']. */
  path: (string | number)[];
  message: string;
}

/** `stages.retrain.sweep.grid."bottleneck.ratio"[1]` */
export function displayPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `${out === '' ? '' : '.'}${JSON.stringify(seg)}`;
  }
  return out;
}

export function displayFile(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function formatOrigin(origin: Origin | undefined): string {
  if (!origin) return '';
  if ('set' in origin) return `--set ${origin.set}`;
  return `${displayFile(origin.file)}:${origin.line}:${origin.col}`;
}

export function formatProblem(p: ConfigProblem): string {
  const where = formatOrigin(p.origin);
  const path = displayPath(p.path);
  return [where, path, p.message].filter((s) => s !== '').join(': ');
}

function sortKey(p: ConfigProblem): [number, string, number, number] {
  const o = p.origin;
  if (!o) return [2, '', 0, 0];
  if ('set' in o) return [1, o.set, 0, 0];
  return [0, o.file, o.line, o.col];
}

/** A config or pipeline the user wrote is wrong. Exit code 2 (it is a UsageError). */
export class ConfigError extends UsageError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    const sorted = [...problems].sort((a, b) => {
      const ka = sortKey(a);
      const kb = sortKey(b);
      for (let i = 0; i < ka.length; i++) {
        if (ka[i] < kb[i]) return -1;
        if (ka[i] > kb[i]) return 1;
      }
      return 0;
    });
    const lines = [...new Set(sorted.map(formatProblem))];
    super(lines.length === 1 ? lines[0] : `${lines.length} problems in the pipeline config:\n  ${lines.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = sorted;
  }
}

/** Collects problems during one phase; `throwIfAny` ends the phase. */
export class Problems {
  readonly list: ConfigProblem[] = [];
  add(origin: Origin | undefined, path: (string | number)[], message: string): void {
    this.list.push({ origin, path: [...path], message });
  }
  get size(): number { return this.list.length; }
  throwIfAny(): void {
    if (this.list.length) throw new ConfigError(this.list);
  }
}
