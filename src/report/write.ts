// Write a report folder from the report model. The whole folder is built beside the target
// (.<name>.tmp-<pid>-<random>) and swapped in with renames, so a crash leaves either the old
// report or the new one, never a half-written mix.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../util/errors.js';
import { fsyncDir } from '../util/atomic.js';
import { isProcessAlive } from '../store/index.js';
import { tidyTables, toCsv } from './csv.js';
import { buildDocument, type ReportDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderLatexMain, tableTex } from './latex.js';
import { renderMarkdown } from './markdown.js';
import type { ReportModel } from './model.js';
import { chromiumAvailable, chromiumMissingMessage, htmlFileToPdf } from './pdf.js';
import { canMakePdfFigures, renderSvg, svgToPdf, svgToPng } from './render-figure.js';

export const FORMATS = ['md', 'html', 'csv', 'tex', 'pdf'] as const;
export type Format = (typeof FORMATS)[number];
export const FIGURE_FORMATS = ['svg', 'png', 'pdf'] as const;
export type FigureFormat = (typeof FIGURE_FORMATS)[number];

/** The file that marks a folder as a report, so replacing it can never delete anything else. */
export const MARKER = '.sei-report';

export interface WriteOptions {
  outDir: string;
  formats: Format[];
  /** Image files written to figures/ next to the Markdown (default: svg). */
  figureFormats?: FigureFormat[];
}

export interface WriteResult {
  dir: string;
  /** Paths relative to dir, sorted. */
  files: string[];
  figures: number;
  tables: number;
}

export function parseList<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (bad.length) throw new UsageError(`unknown ${what} ${bad.map((b) => `'${b}'`).join(', ')} (expected a comma-separated list of: ${allowed.join(', ')})`);
  if (items.length === 0) throw new UsageError(`no ${what} given (expected a comma-separated list of: ${allowed.join(', ')})`);
  return [...new Set(items)] as T[];
}

/** Refuse to replace a folder that is not a report: the swap deletes the old folder. */
function checkTarget(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UsageError(`--out ${out} exists and is not a folder`);
  const entries = readdirSync(out);
  if (entries.length > 0 && !entries.includes(MARKER)) {
    throw new UsageError(`refusing to replace ${out}: it is not empty and was not written by 'sei report' (no ${MARKER} file); choose another --out`);
  }
}

/** Remove leftovers of earlier runs that crashed (their process is gone). */
function sweepLeftovers(out: string): void {
  const parent = dirname(out);
  if (!existsSync(parent)) return;
  const prefix = `.${basename(out)}.`;
  for (const name of readdirSync(parent)) {
    const m = name.startsWith(prefix) ? /^(tmp|old)-(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length)) : null;
    if (m && !isProcessAlive(Number(m[2]))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function write(root: string, rel: string, data: string | Uint8Array, files: string[]): void {
  const full = join(root, rel);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, data);
  files.push(rel);
}

async function fillFolder(root: string, model: ReportModel, doc: ReportDocument, opts: WriteOptions, files: string[]): Promise<void> {
  const svgs = new Map<string, string>();
  for (const f of doc.figures) svgs.set(f.id, await renderSvg(f.spec, f.id));
  const formats = new Set(opts.formats);

  if (formats.has('md')) {
    const figFormats = opts.figureFormats ?? ['svg'];
    for (const f of doc.figures) {
      const svg = svgs.get(f.id)!;
      if (figFormats.includes('svg')) write(root, `figures/${f.id}.svg`, svg, files);
      if (figFormats.includes('png')) write(root, `figures/${f.id}.png`, await svgToPng(svg), files);
      if (figFormats.includes('pdf')) write(root, `figures/${f.id}.pdf`, await svgToPdf(svg), files);
    }
    // Markdown shows the SVG when there is one, else the PNG.
    const ext = figFormats.includes('svg') ? 'svg' : figFormats.includes('png') ? 'png' : 'pdf';
    write(root, 'report.md', renderMarkdown(doc, (id) => `figures/${id}.${ext}`), files);
  }
  let html: string | undefined;
  if (formats.has('html') || formats.has('pdf')) html = renderHtml(doc, svgs);
  if (formats.has('html')) write(root, 'report.html', html!, files);
  if (formats.has('csv')) {
    for (const t of tidyTables(model)) write(root, `csv/${t.name}.csv`, toCsv(t), files);
  }
  if (formats.has('tex')) {
    // Figures as vector PDF when librsvg is installed, else PNG (pdflatex includes both).
    const vector = canMakePdfFigures();
    for (const f of doc.figures) {
      const svg = svgs.get(f.id)!;
      write(root, `latex/figures/${f.id}.${vector ? 'pdf' : 'png'}`, vector ? await svgToPdf(svg) : await svgToPng(svg, 200), files);
    }
    for (const t of doc.tables) write(root, `latex/tables/${t.id}.tex`, tableTex(t), files);
    write(root, 'latex/main.tex', renderLatexMain(doc, (id) => `figures/${id}.${vector ? 'pdf' : 'png'}`, (id) => `tables/${id}`), files);
  }
  if (formats.has('pdf')) {
    const htmlPath = join(root, formats.has('html') ? 'report.html' : '.print.html');
    if (!formats.has('html')) writeFileSync(htmlPath, html!);
    await htmlFileToPdf(htmlPath, join(root, 'report.pdf'));
    if (!formats.has('html')) rmSync(htmlPath);
    files.push('report.pdf');
  }
  write(root, MARKER, `Written by 'sei report' for pipeline ${JSON.stringify(model.pipeline.name)}; this folder is replaced as a whole on the next report.\n`, files);
}

export async function writeReport(model: ReportModel, opts: WriteOptions): Promise<WriteResult> {
  const out = resolve(opts.outDir);
  if (opts.formats.includes('pdf') && !chromiumAvailable()) throw new UsageError(chromiumMissingMessage());
  if (opts.formats.includes('md') && opts.figureFormats?.includes('pdf') && !canMakePdfFigures()) {
    throw new UsageError(`PDF figures need rsvg-convert (Debian: apt-get install librsvg2-bin); svg and png figures do not`);
  }
  checkTarget(out);
  mkdirSync(dirname(out), { recursive: true });
  sweepLeftovers(out);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${tag}`);
  const doc = buildDocument(model);
  const files: string[] = [];
  mkdirSync(tmp);
  try {
    await fillFolder(tmp, model, doc, opts, files);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fsyncDir(tmp);
  // Swap: the old report steps aside, the new one takes its name, then the old one goes.
  const old = join(dirname(out), `.${basename(out)}.old-${tag}`);
  const hadOld = existsSync(out);
  if (hadOld) renameSync(out, old);
  try {
    renameSync(tmp, out);
  } catch (e) {
    if (hadOld) renameSync(old, out);
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fsyncDir(dirname(out));
  if (hadOld) rmSync(old, { recursive: true, force: true });
  return { dir: out, files: files.sort(), figures: doc.figures.length, tables: doc.tables.length };
}
