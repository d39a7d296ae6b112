// Procedural images for the synthetic dataset and the fixtures: each class is a shape or texture
// (disk, stripes, ring …) drawn at a random position, size, phase and colour over a random
// background with pixel noise. The class is visible in the shape, never in a single pixel, so a
// small CNN learns it in a few epochs while a linear probe on colour alone cannot.
import { gaussian, rng } from '../util/random.js';

export const PATTERNS = ['disk', 'square', 'triangle', 'hstripes', 'vstripes', 'diagonal', 'ring', 'plus', 'checker', 'halves', 'cross', 'frame'] as const;
const TINTS = ['', 'red', 'green', 'blue', 'yellow'] as const;

/** Name of synthetic class `c` (patterns first; past 12 classes the pattern gets a tint). */
export function patternName(c: number): string {
  const tint = TINTS[Math.floor(c / PATTERNS.length) % TINTS.length]!;
  return tint ? `${tint}-${PATTERNS[c % PATTERNS.length]}` : PATTERNS[c % PATTERNS.length]!;
}

function mask(kind: string, u: number, v: number, p: { cx: number; cy: number; r: number; period: number; phase: number }): number {
  const dx = u - p.cx;
  const dy = v - p.cy;
  const d = Math.sqrt(dx * dx + dy * dy);
  const m = Math.max(Math.abs(dx), Math.abs(dy));
  switch (kind) {
    case 'disk': return d < p.r ? 1 : 0;
    case 'square': return m < p.r * 0.85 ? 1 : 0;
    case 'triangle': return dy > -p.r && dy < p.r && Math.abs(dx) < (dy + p.r) * 0.55 ? 1 : 0;
    case 'hstripes': return Math.sin((2 * Math.PI * v) / p.period + p.phase) > 0 ? 1 : 0;
    case 'vstripes': return Math.sin((2 * Math.PI * u) / p.period + p.phase) > 0 ? 1 : 0;
    case 'diagonal': return Math.sin((2 * Math.PI * (u + v)) / (p.period * 1.4) + p.phase) > 0 ? 1 : 0;
    case 'ring': return d < p.r && d > p.r * 0.55 ? 1 : 0;
    case 'plus': return (Math.abs(dx) < p.r * 0.28 && Math.abs(dy) < p.r) || (Math.abs(dy) < p.r * 0.28 && Math.abs(dx) < p.r) ? 1 : 0;
    case 'checker': return (Math.floor(u / p.period + p.phase) + Math.floor(v / p.period + p.phase)) % 2 === 0 ? 1 : 0;
    case 'halves': return dx * Math.cos(p.phase) + dy * Math.sin(p.phase) > 0 ? 1 : 0;
    case 'cross': return m < p.r && (Math.abs(dx - dy) < p.r * 0.3 || Math.abs(dx + dy) < p.r * 0.3) ? 1 : 0;
    case 'frame': return m < p.r && m > p.r * 0.62 ? 1 : 0;
    default: throw new Error(`unknown pattern ${kind}`);
  }
}

const TINT_RGB: Record<string, [number, number, number]> = { red: [1, 0.25, 0.25], green: [0.25, 1, 0.25], blue: [0.25, 0.25, 1], yellow: [1, 1, 0.2] };

/** Draws one image of class `c` (uint8, HWC, `channels` 1 or 3); deterministic in `seed`. */
export function drawPattern(c: number, width: number, height: number, channels: number, seed: number, noise = 0.15): Uint8Array {
  const next = rng(seed);
  const normal = gaussian(next);
  const kind = PATTERNS[c % PATTERNS.length]!;
  const tint = TINT_RGB[TINTS[Math.floor(c / PATTERNS.length) % TINTS.length]!];
  const p = {
    cx: 0.4 + 0.2 * next(), cy: 0.4 + 0.2 * next(), r: 0.27 + 0.1 * next(),
    period: 0.14 + 0.1 * next(), phase: 2 * Math.PI * next(),
  };
  // Foreground and background intensities at least 0.35 apart, either one the brighter.
  let fg = next();
  let bg = next();
  while (Math.abs(fg - bg) < 0.35) { fg = next(); bg = next(); }
  const fgRgb = [0, 1, 2].map((k) => Math.min(1, Math.max(0, fg + 0.25 * (next() - 0.5)) * (tint ? tint[k]! : 1)));
  const bgRgb = [0, 1, 2].map(() => Math.min(1, Math.max(0, bg + 0.25 * (next() - 0.5))));
  const out = new Uint8Array(width * height * channels);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const v = (y + 0.5) / height;
    for (let x = 0; x < width; x++) {
      const m = mask(kind, (x + 0.5) / width, v, p);
      if (channels === 1) {
        const fgL = 0.299 * fgRgb[0]! + 0.587 * fgRgb[1]! + 0.114 * fgRgb[2]!;
        const bgL = 0.299 * bgRgb[0]! + 0.587 * bgRgb[1]! + 0.114 * bgRgb[2]!;
        out[o++] = clampByte(255 * (bgL + m * (fgL - bgL) + noise * normal()));
      } else {
        for (let k = 0; k < 3; k++) out[o++] = clampByte(255 * (bgRgb[k]! + m * (fgRgb[k]! - bgRgb[k]!) + noise * normal()));
      }
    }
  }
  return out;
}

function clampByte(x: number): number {
  return x <= 0 ? 0 : x >= 255 ? 255 : Math.round(x);
}
