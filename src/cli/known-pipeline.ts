// One message for a pipeline name the store holds no run of, shared by the commands that read a
// pipeline's results from the store (status, report, recommend, export).
import type { Store } from '../store/store.js';
import { UsageError } from '../util/errors.js';

/** Throws a usage error naming the store and the pipelines it knows unless `name` ran on it. */
export function requirePipelineOnStore(store: Store, name: string, hint = ''): void {
  const known = store.pipelines();
  if (known.includes(name)) return;
  throw new UsageError(`pipeline '${name}' has never run on the store ${store.dir} (known: ${known.join(', ') || 'none'})${hint}`);
}
