// The TensorFlow.js backends a user may ask for, in a module without tfjs so that the config
// schema and the command line can check a name without loading an engine.
export type BackendRequest = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendRequest[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export function isBackendRequest(v: unknown): v is BackendRequest {
  return typeof v === 'string' && (BACKEND_CHOICES as readonly string[]).includes(v);
}

/** A backend a computation actually runs on (what `auto` turns into). */
export type BackendName = Exclude<BackendRequest, 'auto'>;

/** A backend setting as given (pipeline settings, command line): absent is 'auto'; anything unknown is refused. */
export function backendRequest(value: unknown): BackendRequest {
  if (value === undefined) return 'auto';
  if (!isBackendRequest(value)) throw new Error(`unknown backend '${String(value)}': expected one of ${BACKEND_CHOICES.join(', ')}`);
  return value;
}
