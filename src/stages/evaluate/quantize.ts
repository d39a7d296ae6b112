// What the transmitted tensor looks like after the wire: FP16 (IEEE half, round to nearest even)
// and INT8 (symmetric, one FP32 scale per image = max|x| / 127), each decoded back to float32 so
// the server side can run on it. Payload bytes per precision follow the split-computing benchmark
// convention (SC2): 4, 2 and 1 byte per value, plus the 4-byte scale for INT8.

export type Precision = 'fp32' | 'fp16' | 'int8';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8'];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a float32 value, rounded to nearest, ties to even. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    const shift = 14 - e;
    if (shift > 24) return sign;
    const m = mant | 0x800000;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return half;
}

/** The float value of binary16 bits. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Quantise then dequantise a batch of codes (N images of `perImage` values each), in place. */
export function roundTrip(values: Float32Array, perImage: number, precision: Precision): Float32Array {
  if (precision === 'fp32') return values;
  if (precision === 'fp16') {
    for (let i = 0; i < values.length; i++) values[i] = fromHalfBits(toHalfBits(values[i]!));
    return values;
  }
  for (let start = 0; start < values.length; start += perImage) {
    let max = 0;
    for (let i = start; i < start + perImage; i++) max = Math.max(max, Math.abs(values[i]!));
    const scale = Math.fround(max / 127);
    for (let i = start; i < start + perImage; i++) {
      values[i] = scale === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(values[i]! / scale))) * scale;
    }
  }
  return values;
}

/** Bytes sent per image for `elements` values at a precision. */
export function payloadBytes(elements: number, precision: Precision): number {
  return precision === 'fp32' ? elements * 4 : precision === 'fp16' ? elements * 2 : elements + 4;
}
