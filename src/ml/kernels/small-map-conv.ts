// Convolutions over maps of at most 2×2 pixels (VGG16's last block at 32 px, a ResNet's last stage
// at small inputs) as matrix products over the whole batch, one per (input pixel, output pixel) pair
// that a filter tap joins:
//   y[:, op, :] = Σ_ip x[:, ip, :] · w[tap(ip, op)],   dw[tap] = Σ_(ip, op) x[:, ip, :]ᵀ · dy[:, op, :],
// each on the SIMD GEMM with its operands read in place through their strides. On a 2×2 map with a
// 3×3 'same' filter that is 16 products of Ci × Co per image, where Winograd F(4×4, 3×3) spends 36
// on the one tile that covers the map (and pads a copy first). The input gradient of a stride-1
// convolution reaches here as the forward convolution of the flipped filter.
import { type TensorInfo } from '@tensorflow/tfjs';
import type { ConvGeometry } from './conv-geometry.js';
import { type Epilogue, type Scope } from './wasm-ops.js';
import { matMulOptions } from './batch-mat-mul.js';
import { simdKernels } from './simd-module.js';

export const smallMapOptions = {
  // Largest input and output map (pixels) taken as one product; 0 switches the path off.
  maxPixels: 4,
};

/** For every (input pixel, output pixel) pair the filter tap that joins them, or −1. */
function tapGrid(g: ConvGeometry): Int32Array {
  const inPix = g.inH * g.inW, outPix = g.outH * g.outW;
  const taps = new Int32Array(inPix * outPix).fill(-1);
  for (let oy = 0; oy < g.outH; oy++) {
    for (let ox = 0; ox < g.outW; ox++) {
      for (let kh = 0; kh < g.fh; kh++) {
        const iy = oy * g.strideH + kh * g.dilationH - g.padTop;
        if (iy < 0 || iy >= g.inH) continue;
        for (let kw = 0; kw < g.fw; kw++) {
          const ix = ox * g.strideW + kw * g.dilationW - g.padLeft;
          if (ix < 0 || ix >= g.inW) continue;
          taps[(iy * g.inW + ix) * outPix + oy * g.outW + ox] = kh * g.fw + kw;
        }
      }
    }
  }
  return taps;
}

/**
 * Whether the convolution takes the products per pixel pair: both maps small, channel counts the
 * SIMD product takes (the input gradient's products have Ci columns), a filter larger than 1×1
 * (those are the pointwise path's), and a tap for every output pixel (an output that only sees
 * padding would need its bias written alone).
 */
export function smallMap(g: ConvGeometry): boolean {
  if (!matMulOptions.simd || g.inH * g.inW > smallMapOptions.maxPixels || g.outH * g.outW > smallMapOptions.maxPixels) return false;
  if (g.inC % 4 !== 0 || g.outC % 4 !== 0 || g.fh * g.fw === 1) return false;
  const taps = tapGrid(g);
  const outPix = g.outH * g.outW;
  for (let op = 0; op < outPix; op++) {
    let reached = false;
    for (let ip = 0; ip < g.inH * g.inW && !reached; ip++) reached = taps[ip * outPix + op]! >= 0;
    if (!reached) return false;
  }
  return true;
}

/**
 * y [n, oh, ow, Co] = x ⊛ w (+ bias, then ReLU, as the epilogue asks): for each output pixel, the
 * sum over its (input pixel, tap) pairs of x[:, ip, :] · w[tap], one product per pair on the SIMD
 * GEMM reading x, w and y in place; the last pair of each output pixel applies the epilogue.
 */
export function smallMapConv(s: Scope, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, epilogue: Epilogue): TensorInfo {
  const { inC: ci, outC: co } = g, inPix = g.inH * g.inW, outPix = g.outH * g.outW;
  const y = s.alloc([g.batch, g.outH, g.outW, co]);
  const pack = s.alloc([8 * ci]);
  const kernels = simdKernels(s.backend);
  const taps = tapGrid(g);
  const xBase = s.address(x), wBase = s.address(filter), yBase = s.address(y);
  const bias = epilogue.bias === undefined ? 0 : s.address(epilogue.bias), relu = epilogue.relu ? 1 : 0;
  for (let op = 0; op < outPix; op++) {
    const inputs: number[] = [];
    for (let ip = 0; ip < inPix; ip++) if (taps[ip * outPix + op]! >= 0) inputs.push(ip);
    inputs.forEach((ip, i) => {
      const end = i === inputs.length - 1;
      kernels.gemm(xBase + 4 * ip * ci, 4 * inPix * ci, 4, wBase + 4 * taps[ip * outPix + op]! * ci * co, co, yBase + 4 * op * co, outPix * co,
        g.batch, ci, co, end ? bias : 0, end ? relu : 0, s.address(pack), i === 0 ? 0 : 1);
    });
  }
  return y;
}

/**
 * dw [fh, fw, Ci, Co] = Σ over the (input pixel, output pixel) pairs of each tap of x[:, ip, :]ᵀ ·
 * dy[:, op, :]: one product per pair on the SIMD GEMM, reading both operands in place through their
 * strides (the batch is the reduction) and adding into the tap's block after its first pair.
 */
export function smallMapFilterGrad(s: Scope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const { inC: ci, outC: co } = g, inPix = g.inH * g.inW, outPix = g.outH * g.outW;
  const dw = s.alloc([g.fh, g.fw, ci, co]);
  const pack = s.alloc([8 * g.batch]);
  const kernels = simdKernels(s.backend);
  const taps = tapGrid(g);
  const seen = new Uint8Array(g.fh * g.fw);
  const xBase = s.address(x), dyBase = s.address(dy), dwBase = s.address(dw);
  for (let ip = 0; ip < inPix; ip++) {
    for (let op = 0; op < outPix; op++) {
      const tap = taps[ip * outPix + op]!;
      if (tap < 0) continue;
      // a = x[:, ip, :]ᵀ: element (c, image) at c·4 + image·(inPix·Ci·4) bytes; b = dy[:, op, :].
      kernels.gemm(xBase + 4 * ip * ci, 4, 4 * inPix * ci, dyBase + 4 * op * co, outPix * co,
        dwBase + 4 * tap * ci * co, co, ci, g.batch, co, 0, 0, s.address(pack), seen[tap]!);
      seen[tap] = 1;
    }
  }
  // Taps no pair reaches (the filter hangs over the map on every output) get no gradient.
  const out = s.view(dw);
  for (let t = 0; t < seen.length; t++) if (!seen[t]) out.fill(0, t * ci * co, (t + 1) * ci * co);
  return dw;
}
