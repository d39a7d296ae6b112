// MaxPoolGrad for the wasm backend: each window sends its dy to the first position holding the
// window's maximum, as the cpu backend does (overlapping windows accumulate). The 2×2 stride-2
// pools of VGG take a dedicated SIMD kernel (assembly/pool.ts), other windows inside the input
// (ResNet's 3×3 stride 2 after explicit padding) a general one, when the channels come in fours;
// the rest loops in JavaScript. The shipped kernel is several times slower.
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { withScope, type BackendWasm } from './wasm-ops.js';
import { simdKernels } from './simd-module.js';

interface PoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The 2×2 stride-2 case tiling the input exactly: the first of the four positions holding the
 *  maximum gets dy. Zero-filling first (a memset) and then storing once per window is faster than
 *  storing all four positions per window: the four conditional stores cost more than the fill. */
function pool2x2Grad(x: Float32Array, g: Float32Array, out: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number): void {
  const row = w * c;
  out.fill(0);
  let gi = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      let p00 = (b * h + 2 * oy) * row;
      for (let ox = 0; ox < ow; ox++, p00 += 2 * c) {
        const end = p00 + c;
        for (let i00 = p00; i00 < end; i00++, gi++) {
          const i01 = i00 + c, i10 = i00 + row, i11 = i10 + c;
          const v00 = x[i00]!, v01 = x[i01]!, v10 = x[i10]!, v11 = x[i11]!;
          let best = v00, at = i00;
          if (v01 > best) { best = v01; at = i01; }
          if (v10 > best) { best = v10; at = i10; }
          if (v11 > best) at = i11;
          out[at] = g[gi]!;
        }
      }
    }
  }
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }: { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: BackendWasm; attrs: PoolGradAttrs }) => {
    const { dy, input } = inputs;
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
      attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow,
      filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
    const pt = info.padInfo.top, pl = info.padInfo.left;
    return withScope(backend, (s) => {
      if (input.dtype !== 'float32') {
        return s.run('MaxPoolGrad', { dy, input, output: inputs.output }, attrs);
      }
      const dx = s.alloc(input.shape);
      if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && pt === 0 && pl === 0 && 2 * oh <= h && 2 * ow <= w && c % 4 === 0) {
        simdKernels(backend).maxPoolGrad2x2(s.address(input), s.address(dy), s.address(dx), n, h, w, c, oh, ow);
        return dx;
      }
      if (pt === 0 && pl === 0 && (oh - 1) * sh + fh <= h && (ow - 1) * sw + fw <= w && c % 4 === 0) {
        // Every window inside the input: the general SIMD kernel.
        simdKernels(backend).maxPoolGrad(s.address(input), s.address(dy), s.address(dx), n, h, w, c, oh, ow, fh, fw, sh, sw);
        return dx;
      }
      const out = s.view(dx), x = s.view(input), g = s.view(dy);
      if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && pt === 0 && pl === 0 && 2 * oh === h && 2 * ow === w) {
        pool2x2Grad(x, g, out, n, h, w, c, oh, ow);
        return dx;
      }
      out.fill(0);
      const best = new Float32Array(c);
      const at = new Int32Array(c);
      for (let b = 0; b < n; b++) {
        for (let oy = 0; oy < oh; oy++) {
          const y0 = Math.max(0, oy * sh - pt), y1 = Math.min(h, oy * sh - pt + fh);
          for (let ox = 0; ox < ow; ox++) {
            const x0 = Math.max(0, ox * sw - pl), x1 = Math.min(w, ox * sw - pl + fw);
            const gBase = ((b * oh + oy) * ow + ox) * c;
            if (y1 <= y0 || x1 <= x0) continue;
            // Window positions in row-major order; the first maximum wins (strict >).
            const first = ((b * h + y0) * w + x0) * c;
            for (let k = 0; k < c; k++) { best[k] = x[first + k]!; at[k] = first + k; }
            for (let y = y0; y < y1; y++) {
              for (let xx = y === y0 ? x0 + 1 : x0; xx < x1; xx++) {
                const base = ((b * h + y) * w + xx) * c;
                for (let k = 0; k < c; k++) {
                  const v = x[base + k]!;
                  if (v > best[k]!) { best[k] = v; at[k] = base + k; }
                }
              }
            }
            for (let k = 0; k < c; k++) out[at[k]!] += g[gBase + k]!;
          }
        }
      }
      return dx;
    });
  }) as unknown as KernelFunc,
};
