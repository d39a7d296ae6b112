// Option parsing shared by the engine's commands (run, plan, status, explain, gc).
import { InvalidArgumentError } from 'commander';

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
