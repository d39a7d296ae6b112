/** Whether `value` is one of `choices`, narrowing it to their union (a command-line word, a setting). */
export function isOneOf<T extends string>(choices: readonly T[], value: string): value is T {
  return (choices as readonly string[]).includes(value);
}
