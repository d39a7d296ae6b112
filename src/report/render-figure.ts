// Vega-Lite specification → SVG in Node (no browser), then PNG (sharp) or PDF (rsvg-convert).
// The SVG is made deterministic and safe to inline next to other figures: Vega numbers clip
// paths and gradients with a process-wide counter, so ids are renamed per figure in order.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export type VegaLiteSpec = Record<string, unknown>;

/**
 * Render one Vega-Lite specification to an SVG string. Compiler and runtime warnings go to
 * `warnings` when given (the tests require none), else to stderr.
 */
export async function renderSvg(spec: VegaLiteSpec, figureId: string, warnings?: string[]): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const say = (level: string) => (...args: unknown[]): void => {
    const text = `${figureId}: ${level}: ${args.map(String).join(' ')}`;
    if (warnings) warnings.push(text);
    else process.stderr.write(`${text}\n`);
  };
  const logger = {
    _level: 2,
    level(this: { _level: number }, l?: number) { if (l !== undefined) this._level = l; return l === undefined ? this._level : this; },
    error: say('error'), warn: say('warning'), info: () => undefined, debug: () => undefined,
  };
  // The one documented boundary for casts outside src/ml: specifications are assembled as plain
  // JSON (src/report/figures.ts) and the logger is duck-typed; vega's typings want their own
  // nominal spec and logger types, which the JSON cannot name.
  const compiled = vl.compile(spec as never, { logger: logger as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: logger as never });
  try {
    const svg = await view.toSVG();
    return scopeSvgIds(svg, figureId);
  } finally {
    view.finalize();
  }
}

/** Rename every id="x" (and its url(#x) / href="#x" uses) to a figure-scoped, ordinal name. */
export function scopeSvgIds(svg: string, figureId: string): string {
  const safe = figureId.replace(/[^A-Za-z0-9_-]/g, '_');
  const map = new Map<string, string>();
  let n = 0;
  const out = svg.replace(/\bid="([^"]+)"/g, (_m, id: string) => {
    let next = map.get(id);
    if (!next) { next = `${safe}-${++n}`; map.set(id, next); }
    return `id="${next}"`;
  });
  if (map.size === 0) return out;
  return out
    .replace(/url\(#([^)]+)\)/g, (m, id: string) => (map.has(id) ? `url(#${map.get(id)})` : m))
    .replace(/href="#([^"]+)"/g, (m, id: string) => (map.has(id) ? `href="#${map.get(id)}"` : m));
}

export async function svgToPng(svg: string, density = 144): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}

export const RSVG_CONVERT = '/usr/bin/rsvg-convert';

export function canMakePdfFigures(): boolean {
  return existsSync(RSVG_CONVERT);
}

/** SVG → PDF with librsvg's rsvg-convert (vector output, fonts embedded). */
export function svgToPdf(svg: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // SOURCE_DATE_EPOCH keeps cairo from stamping the current time into the PDF.
    const child = spawn(RSVG_CONVERT, ['--format=pdf'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SOURCE_DATE_EPOCH: '0' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`rsvg-convert exited with ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.end(svg);
  });
}
