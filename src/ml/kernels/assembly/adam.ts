// One Adam update of a variable in a single pass (the optimizer's dozen element-wise kernels per
// variable, each a pass and a kernel dispatch, become one). The arithmetic is the same float32
// operations, in the same order, as the sequence of tfjs ops it replaces, so the results are
// identical to the bit. Part of the SIMD kernel module on the wasm backend's memory.

/**
 * m' = m·β1 + g·(1 − β1); s' = s·β2 + g²·(1 − β2); w' = w − ((m'/c1) / (√(s'/c2) + ε))·lr,
 * over n values, written to wOut, mOut, sOut.
 */
export function adamUpdate(w: usize, g: usize, m: usize, s: usize, n: i32, wOut: usize, mOut: usize, sOut: usize,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, c1: f32, c2: f32, eps: f32, lr: f32): void {
  const vb1 = f32x4.splat(beta1), vob1 = f32x4.splat(oneMinusBeta1), vb2 = f32x4.splat(beta2), vob2 = f32x4.splat(oneMinusBeta2);
  const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), veps = f32x4.splat(eps), vlr = f32x4.splat(lr);
  const n4 = <usize>(n & ~3) << 2;
  let i: usize = 0;
  for (; i < n4; i += 16) {
    const gv = v128.load(g + i);
    const m2 = f32x4.add(f32x4.mul(v128.load(m + i), vb1), f32x4.mul(gv, vob1));
    const s2 = f32x4.add(f32x4.mul(v128.load(s + i), vb2), f32x4.mul(f32x4.mul(gv, gv), vob2));
    const update = f32x4.div(f32x4.div(m2, vc1), f32x4.add(f32x4.sqrt(f32x4.div(s2, vc2)), veps));
    v128.store(mOut + i, m2);
    v128.store(sOut + i, s2);
    v128.store(wOut + i, f32x4.sub(v128.load(w + i), f32x4.mul(update, vlr)));
  }
  for (; i < <usize>n << 2; i += 4) {
    const gv = load<f32>(g + i);
    const m2 = load<f32>(m + i) * beta1 + gv * oneMinusBeta1;
    const s2 = load<f32>(s + i) * beta2 + (gv * gv) * oneMinusBeta2;
    const update = (m2 / c1) / (sqrt<f32>(s2 / c2) + eps);
    store<f32>(mOut + i, m2);
    store<f32>(sOut + i, s2);
    store<f32>(wOut + i, load<f32>(w + i) - update * lr);
  }
}
