// Resampling small uint8 HWC images in JavaScript. For images a few times the target size this is
// cheaper than a second libvips pipeline per image (the per-image overhead of sharp's resize
// halves throughput on 64×64 JPEGs); large images still go through sharp's shrink-on-load.
// Downscaling averages the source area under each target pixel (box filter, exact overlap
// weights: antialiased); upscaling interpolates bilinearly.

interface Taps { start: Int32Array; count: Int32Array; index: Int32Array; weight: Float32Array }

/** Per target index, the source indices and weights along one axis (source window o … o+len). */
function taps(o: number, len: number, target: number): Taps {
  const scale = len / target;
  const start = new Int32Array(target);
  const count = new Int32Array(target);
  const index: number[] = [];
  const weight: number[] = [];
  for (let j = 0; j < target; j++) {
    start[j] = index.length;
    if (scale >= 1) {
      const a = j * scale;
      const b = a + scale;
      for (let i = Math.floor(a); i < Math.ceil(b) && i < len; i++) {
        const w = Math.min(b, i + 1) - Math.max(a, i);
        if (w > 1e-9) { index.push(o + i); weight.push(w / scale); }
      }
    } else {
      const x = Math.min(len - 1, Math.max(0, (j + 0.5) * scale - 0.5));
      const i0 = Math.floor(x);
      const f = x - i0;
      index.push(o + i0); weight.push(1 - f);
      if (f > 0 && i0 + 1 < len) { index.push(o + i0 + 1); weight.push(f); }
    }
    count[j] = index.length - start[j]!;
  }
  return { start, count, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/**
 * Resizes `src` (w×h×c) to tw×th×c. `fit` 'fill' stretches; 'cover' crops the centre of the
 * source to the target's aspect ratio first.
 */
export function resample(src: Uint8Array, w: number, h: number, c: number, tw: number, th: number, fit: 'fill' | 'cover'): Uint8Array {
  if (w === tw && h === th) return src;
  let [ox, oy, cw, ch] = [0, 0, w, h];
  if (fit === 'cover') {
    if (w * th > h * tw) { cw = Math.max(1, Math.round((h * tw) / th)); ox = Math.floor((w - cw) / 2); }
    else { ch = Math.max(1, Math.round((w * th) / tw)); oy = Math.floor((h - ch) / 2); }
  }
  const tx = taps(ox, cw, tw);
  const ty = taps(oy, ch, th);
  // Horizontal pass over the rows the vertical pass needs, then the vertical pass.
  const rowStride = tw * c;
  const tmp = new Float32Array(h * rowStride);
  for (let y = oy; y < oy + ch; y++) {
    const srow = y * w * c;
    const trow = y * rowStride;
    for (let j = 0; j < tw; j++) {
      const s = tx.start[j]!;
      const n = tx.count[j]!;
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let t = 0; t < n; t++) acc += tx.weight[s + t]! * src[srow + tx.index[s + t]! * c + k]!;
        tmp[trow + j * c + k] = acc;
      }
    }
  }
  const out = new Uint8Array(th * rowStride);
  for (let j = 0; j < th; j++) {
    const s = ty.start[j]!;
    const n = ty.count[j]!;
    const orow = j * rowStride;
    for (let x = 0; x < rowStride; x++) {
      let acc = 0;
      for (let t = 0; t < n; t++) acc += ty.weight[s + t]! * tmp[ty.index[s + t]! * rowStride + x]!;
      out[orow + x] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
    }
  }
  return out;
}
