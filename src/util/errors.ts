/** An error caused by the user's input (config, arguments): exit code 2, no stack trace. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isUsageError(e: unknown): e is UsageError {
  return e instanceof Error && (e as { exitCode?: unknown }).exitCode === 2;
}
