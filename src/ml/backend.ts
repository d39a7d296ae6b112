// Chooses and initialises the TensorFlow.js backend. `auto` prefers native TensorFlow with a GPU,
// then native TensorFlow on the CPU, then WebAssembly with the project's fast training kernels,
// then the pure-JS cpu backend. An explicitly requested backend that cannot be loaded is a usage
// error, never silently replaced by another.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../util/errors.js';
import { registerFastWasmKernels } from './kernels/index.js';
import { activeKernelBuild } from './kernels/simd-module.js';
import { installHeapGuard } from './heap.js';

import { BACKEND_CHOICES, isBackendRequest, type BackendRequest } from './backend-names.js';

export { BACKEND_CHOICES, isBackendRequest, type BackendRequest } from './backend-names.js';

export interface BackendInfo {
  /** 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' */
  name: string;
  /** What was taken and, for `auto`, why the preferred ones were skipped. */
  detail: string;
}

const PACKAGES: Record<'tensorflow-gpu' | 'tensorflow' | 'wasm', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
};

const require = createRequire(import.meta.url);
let active: BackendInfo | undefined;
const attempts = new Map<BackendRequest, Promise<BackendInfo>>();

/** The backend taken by the last successful `initBackend`, for provenance records. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

/** Short name of the active backend ('wasm', 'cpu', ...), or undefined before `initBackend`. */
export function activeBackendName(): string | undefined {
  return active?.name;
}

class Unavailable extends Error {}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const first = String(err.message ?? e).split('\n')[0] ?? '';
  return err.code ? `${err.code}: ${first}` : first;
}

async function loadPackage(pkg: string): Promise<void> {
  try {
    require.resolve(pkg);
  } catch {
    throw new Unavailable(`package ${pkg} is not installed`);
  }
  try {
    await import(pkg);
  } catch (e) {
    throw new Unavailable(`package ${pkg} is installed but failed to load (${describe(e)})`);
  }
}

async function tryTensorflow(gpu: boolean): Promise<BackendInfo> {
  let via = gpu ? PACKAGES['tensorflow-gpu'] : PACKAGES.tensorflow;
  try {
    await loadPackage(via);
  } catch (e) {
    // The GPU package also runs native TensorFlow on the CPU when it finds no GPU: if it is
    // already loaded, the CPU request is served by it rather than refused.
    if (gpu || !(e instanceof Unavailable) || tf.findBackendFactory('tensorflow') === null) throw e;
    via = PACKAGES['tensorflow-gpu'];
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Unavailable('the tensorflow backend failed to initialise');
  await tf.ready();
  const usingGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
  if (gpu && !usingGpu) throw new Unavailable(`${PACKAGES['tensorflow-gpu']} loaded but found no GPU`);
  return gpu
    ? { name: 'tensorflow-gpu', detail: `native TensorFlow with a GPU (${via})` }
    : { name: 'tensorflow', detail: `native TensorFlow on the CPU (${via})` };
}

async function tryWasm(): Promise<BackendInfo> {
  await loadPackage(PACKAGES.wasm);
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
  // In Node the .wasm binaries are read from the package's dist folder by file path.
  const dist = dirname(require.resolve(PACKAGES.wasm));
  wasm.setWasmPaths(`${dist}/`);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    throw new Unavailable(`the wasm backend failed to initialise (${describe(e)})`);
  }
  if (!ok) throw new Unavailable('the wasm backend failed to initialise');
  await tf.ready();
  installHeapGuard(tf.backend());
  const kernels = registerFastWasmKernels();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? wasm.getThreadsCount() : 1;
  const products = activeKernelBuild() === 'fma' ? 'fused multiply-add' : 'SIMD128 multiply then add';
  return {
    name: 'wasm',
    detail: `WebAssembly (SIMD ${simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'}) with fast kernels (${products}): ${kernels.join(', ')}`,
  };
}

async function tryCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new Unavailable('the cpu backend failed to initialise');
  await tf.ready();
  return { name: 'cpu', detail: 'pure JavaScript cpu backend (slow: training large models is impractical)' };
}

const TRY: Record<Exclude<BackendRequest, 'auto'>, () => Promise<BackendInfo>> = {
  'tensorflow-gpu': () => tryTensorflow(true),
  tensorflow: () => tryTensorflow(false),
  wasm: tryWasm,
  cpu: tryCpu,
};

async function resolve(requested: BackendRequest, log: (m: string) => void): Promise<BackendInfo> {
  if (requested !== 'auto') {
    const previous = tf.getBackend();
    try {
      return await TRY[requested]();
    } catch (e) {
      // A failed attempt may have switched the engine (e.g. a GPU package without a GPU).
      if (previous !== undefined && tf.getBackend() !== previous) await tf.setBackend(previous);
      if (e instanceof Unavailable) {
        const hint = requested === 'cpu' ? '' : requested === 'wasm'
          ? '' : ` (install it with: npm install ${PACKAGES[requested]})`;
        throw new UsageError(`backend '${requested}' was requested but is not available: ${e.message}${hint}`);
      }
      throw e;
    }
  }
  const skipped: string[] = [];
  for (const name of ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const) {
    try {
      const info = await TRY[name]();
      const why = skipped.length > 0 ? `; skipped ${skipped.join('; ')}` : '';
      return { name: info.name, detail: `auto chose ${info.name}: ${info.detail}${why}` };
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      skipped.push(`${name} (${e.message})`);
      log(`backend ${name} skipped: ${e.message}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${skipped.join('; ')}`);
}

/**
 * Initialises the requested backend and makes it the active one. Idempotent within a process:
 * repeating a request returns the first answer (and makes that backend active again).
 */
export async function initBackend(requested: BackendRequest = 'auto', log: (m: string) => void = () => {}): Promise<BackendInfo> {
  if (!isBackendRequest(requested)) {
    throw new UsageError(`unknown backend '${String(requested)}': expected one of ${BACKEND_CHOICES.join(', ')}`);
  }
  let p = attempts.get(requested);
  const first = p === undefined;
  if (p === undefined) {
    p = resolve(requested, log);
    attempts.set(requested, p);
    p.catch(() => attempts.delete(requested));
  }
  const info = await p;
  const tfName = info.name === 'tensorflow-gpu' ? 'tensorflow' : info.name;
  if (tf.getBackend() !== tfName) await tf.setBackend(tfName);
  if (first) log(`backend: ${info.detail}`);
  active = info;
  return info;
}
