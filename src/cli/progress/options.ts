// Option parsing shared by the engine's commands (run, plan, status, explain, gc).
import { InvalidArgumentError, Option } from 'commander';
import { BACKEND_CHOICES } from '../../ml/backend-names.js';

export const DEFAULT_STORE = './artifacts';

/** Repeatable option: `--set a=1 --set b=2` → ['a=1', 'b=2']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${value}'`);
  return n;
}

/** `--backend <name>`, checked against the known backends when the command line is parsed. */
export function backendOption(description: string, defaultValue?: string): Option {
  const option = new Option('--backend <name>', description).choices([...BACKEND_CHOICES]);
  return defaultValue === undefined ? option : option.default(defaultValue);
}
