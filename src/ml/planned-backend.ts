// The backend a run will compute on, known at plan time. A module of its own: it may load a
// backend, and nothing a stage imports may reach it (the stage's key would then cover every
// kernel of every backend).
import { createRequire } from 'node:module';
import { BACKEND_CHOICES, isBackendRequest, type BackendName } from './backend-names.js';

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/**
 * The backend a run will compute on, decided before it runs so that it can enter the cache
 * keys of the stages that compute on one (results are reproducible to the bit only on the same
 * backend). An explicit request is itself; `auto` without a native TensorFlow package installed
 * is wasm (a dependency of the project) without loading anything; with one installed, `auto`
 * is resolved by initialising it, as the run would. The run then asks for this backend by name,
 * so it never silently computes on another one.
 */
export async function plannedBackend(request: unknown): Promise<BackendName> {
  const wanted = request ?? 'auto';
  if (!isBackendRequest(wanted)) throw new Error(`unknown backend '${String(wanted)}': expected one of ${BACKEND_CHOICES.join(', ')}`);
  if (wanted !== 'auto') return wanted;
  const require = createRequire(import.meta.url);
  const native = NATIVE_PACKAGES.some((pkg) => {
    try { require.resolve(pkg); return true; } catch { return false; }
  });
  if (!native) return 'wasm';
  const { initBackend } = await import('./backend.js');
  const info = await initBackend('auto');
  return info.name as BackendName;
}
