// The project's own SIMD kernels (sources in ./assembly, AssemblyScript compiled by `npm run
// build:wasm`), instantiated once on the wasm backend's own memory: every argument is a byte
// offset into the backend's heap, so tensors are read and written in place, with no copies.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { BackendWasm } from './wasm-ops.js';

export interface SimdKernels {
  padImages(x: number, n: number, h: number, w: number, c: number, padTop: number, padLeft: number, ph: number, pw: number, out: number): void;
  inputTransform(xp: number, n: number, c: number, tilesY: number, tilesX: number, out: number, kStride: number, scratch: number): void;
  gradTransform(dyp: number, n: number, c: number, tilesY: number, tilesX: number, out: number, kStride: number, scratch: number): void;
  filterTransform(w: number, ci: number, co: number, out: number, uStride: number, scratch: number): void;
  filterGradTransform(du: number, duStride: number, ci: number, co: number, dw: number, accumulate: number, scratch: number): void;
  filterGradProducts(v: number, dm: number, t: number, ci: number, co: number, vStride: number, dmStride: number, du: number, duStride: number, pack: number): void;
  gradProductScratchFloats(ci: number, co: number): number;
  forwardScratchFloats(ci: number, co: number): number;
  winogradForward(xp: number, n: number, ci: number, co: number, tilesY: number, tilesX: number, u: number,
    uStride: number, y: number, oh: number, ow: number, bias: number, relu: number, scratch: number): void;
  directConvFilterGrad(xp: number, n: number, ph: number, pw: number, ci: number, dy: number, fh: number, fw: number, co: number,
    stride: number, oh: number, ow: number, dw: number): void;
  gemm(a: number, aRow: number, aCol: number, b: number, ldb: number, c: number, ldc: number,
    m: number, k: number, n: number, bias: number, relu: number, pack: number, accumulate: number): void;
  gatherStrided(x: number, n: number, h: number, w: number, c: number, sh: number, sw: number, oh: number, ow: number, out: number): void;
  adamUpdate(w: number, g: number, m: number, s: number, n: number, wOut: number, mOut: number, sOut: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, c1: number, c2: number, eps: number, lr: number): void;
  cropImages(x: number, n: number, h: number, w: number, c: number, top: number, left: number, oh: number, ow: number, out: number): void;
  batchNormTrain(x: number, p: number, c: number, gamma: number, beta: number, epsilon: number,
    y: number, mean: number, variance: number, invStd: number): void;
  batchNormTrainGrad(dy: number, x: number, p: number, c: number, gamma: number, mean: number, invStd: number,
    dx: number, dgamma: number, dbeta: number): void;
  reluBiasGrad(dy: number, y: number, p: number, c: number, dx: number, db: number, partial: number): void;
  col2im(cols: number, n: number, oh: number, ow: number, fh: number, fw: number, sh: number, sw: number, padTop: number, padLeft: number,
    dx: number, h: number, w: number, c: number): void;
  scaleShift(x: number, p: number, c: number, a: number, b: number, y: number): void;
  spatialMean(x: number, n: number, p: number, c: number, out: number): void;
  flipFilter(w: number, taps: number, ci: number, co: number, out: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number): void;
  maxPoolGrad(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number): void;
  directConv(xp: number, n: number, ph: number, pw: number, ci: number, w: number, fh: number, fw: number, co: number,
    stride: number, oh: number, ow: number, y: number, bias: number, relu: number): void;
}

/** The two builds of the module (package.json `build:wasm`): plain SIMD128, and relaxed SIMD, whose
 *  multiply-adds V8 compiles to fused multiply-add instructions (one rounding instead of two). */
export type KernelBuild = 'simd128' | 'fma';

const MODULE_URLS: Record<KernelBuild, URL> = {
  simd128: new URL('./assembly/kernels.wasm', import.meta.url),
  fma: new URL('./assembly/kernels-fma.wasm', import.meta.url),
};

/** The V8 flag that turns relaxed SIMD on where it is not on by default (Node 20's V8 11.3). */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/**
 * Whether the fused build is used when it validates (default: yes; SEI_WASM_FMA=0 keeps every
 * product on SIMD128). Benchmarks and tests switch it to compare both builds in one process.
 */
export const kernelBuildOptions = { fma: process.env.SEI_WASM_FMA !== '0' };

let cached: { memory: WebAssembly.Memory; instances: Partial<Record<KernelBuild, SimdKernels>> } | undefined;
let fmaSupport: boolean | undefined;

/** The kernel module, instantiated once per build on the backend's memory. */
export function simdKernels(backend: BackendWasm): SimdKernels {
  const memory = (backend as unknown as { wasm: { asm: { memory?: WebAssembly.Memory } } }).wasm.asm.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('the wasm backend does not expose its memory; the SIMD kernels need it');
  if (cached?.memory !== memory) cached = { memory, instances: {} };
  const build = activeKernelBuild();
  let kernels = cached.instances[build];
  if (kernels === undefined) {
    const bytes = readModule(build);
    assertNoOwnMemory(bytes);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernels = cached.instances[build] = instance.exports as unknown as SimdKernels;
  }
  return kernels;
}

/** The build the kernels run on now: 'fma' when asked for and the running V8 accepts it. */
export function activeKernelBuild(): KernelBuild {
  return kernelBuildOptions.fma && fusedMultiplyAddSupported() ? 'fma' : 'simd128';
}

/**
 * Whether this V8 validates the relaxed-SIMD build, turning the feature on first where it sits
 * behind RELAXED_SIMD_FLAG (Node 20; worker processes also get the flag on their command line,
 * see src/exec/local.ts). Checked once per process.
 */
export function fusedMultiplyAddSupported(): boolean {
  if (fmaSupport === undefined) {
    const bytes = readModule('fma');
    fmaSupport = WebAssembly.validate(bytes);
    if (!fmaSupport && relaxedSimdBehindFlag()) {
      setFlagsFromString(RELAXED_SIMD_FLAG);
      fmaSupport = WebAssembly.validate(bytes);
    }
  }
  return fmaSupport;
}

/** Whether relaxed SIMD sits behind RELAXED_SIMD_FLAG in this V8: before 11.4 (Node 20), where it
 *  shipped on by default. */
export function relaxedSimdBehindFlag(): boolean {
  const [major, minor] = process.versions.v8.split('.').map(Number) as [number, number];
  return major < 11 || (major === 11 && minor < 4);
}

function readModule(build: KernelBuild) {
  try {
    return readFileSync(MODULE_URLS[build]);
  } catch {
    throw new Error(`${MODULE_URLS[build].pathname} is missing: run \`npm run build\` (it compiles the SIMD kernels)`);
  }
}

/** The compiled modules' paths (for tests). */
export const simdModulePath = MODULE_URLS.simd128;
export const fmaModulePath = MODULE_URLS.fma;

/**
 * The module shares the backend's heap, so data segments of its own would overwrite the backend's
 * memory at instantiation: refuse a build that has any.
 */
export function assertNoOwnMemory(bytes: Uint8Array): void {
  let p = 8;   // magic and version
  while (p < bytes.length) {
    const id = bytes[p++]!;
    let size = 0, shift = 0, b: number;
    do { b = bytes[p++]!; size |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    if (id === 11 || id === 12) throw new Error('the SIMD kernel module has data segments; it must use only the memory it is given');
    p += size;
  }
}
