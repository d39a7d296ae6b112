// `sei report <pipeline>`: figures and tables of what the store holds for a pipeline, as
// Markdown, one self-contained HTML file, tidy CSV, LaTeX and PDF. Reads the store only.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_STORE } from '../progress/options.js';
import { requirePipelineOnStore } from '../known-pipeline.js';

interface ReportOpts { out?: string; format: string; store: string; figures: string; set?: string[] }

export function register(program: Command): void {
  program
    .command('report')
    .description('write paper-style figures and tables of a pipeline from the store (Markdown, HTML, CSV, LaTeX, PDF); recomputes nothing')
    .argument('<pipeline>', 'pipeline YAML file, or the name of a pipeline that ran on the store')
    .option('--out <dir>', 'output folder, replaced as a whole (default: reports/<pipeline-name>)')
    .option('--format <list>', 'comma-separated: md, html, csv, tex, pdf (pdf needs Chromium)', 'md,html,csv,tex')
    .option('--figures <list>', 'image files beside the Markdown: svg, png, pdf', 'svg')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .action(async (pipelineArg: string, opts: ReportOpts) => {
      const { UsageError } = await import('../../util/errors.js');
      const report = await import('../../report/index.js');
      const formats = report.parseList(opts.format, report.FORMATS, 'format');
      const figureFormats = report.parseList(opts.figures, report.FIGURE_FORMATS, 'figure format');
      const { openStore, storeExists } = await import('../../store/index.js');
      if (!storeExists(opts.store)) throw new UsageError(`no store at ${opts.store} (give --store DIR, or run the pipeline first)`);

      let name = pipelineArg;
      let file: string | undefined;
      if (/\.ya?ml$/i.test(pipelineArg) || (existsSync(pipelineArg) && statSync(pipelineArg).isFile())) {
        if (!existsSync(pipelineArg) || !statSync(pipelineArg).isFile()) throw new UsageError(`no pipeline file ${pipelineArg}`);
        const resolved = await pipelineName(pipelineArg);
        name = resolved.name;
        file = resolved.file;
      }
      const store = openStore(opts.store, { readonly: true });
      let model;
      try {
        if (!file) requirePipelineOnStore(store, name, '; give its YAML file or a known name');
        const cells = store.listCells({ pipeline: name });
        const run = store.listRuns(name, 1)[0];
        const info: import('../../report/index.js').PipelineInfo = { name, store: store.dir };
        if (file) info.file = file;
        if (run) {
          info.run = { id: run.id, state: run.state, startedAt: run.startedAt, host: run.host, total: run.total, cached: run.cached,
            done: run.done, failed: run.failed, planHash: run.planHash, file: run.file };
          if (run.endedAt) info.run.endedAt = run.endedAt;
        }
        model = report.buildReportModel(cells, info, await report.loadReports(cells));
      } finally {
        store.close();
      }
      const outDir = opts.out ?? join('reports', safeFolderName(name));
      const result = await report.writeReport(model, { outDir, formats, figureFormats });
      const status = model.empty ? 'no finished cells yet; the report says so' : `${result.figures} figure(s), ${result.tables} table(s)`;
      process.stdout.write(`report of '${name}' written to ${result.dir} (${formats.join(', ')}): ${status}\n`);
      for (const f of result.files.filter((x) => /^(report\.|latex\/main\.tex$)/.test(x))) process.stdout.write(`  ${join(result.dir, f)}\n`);
    });
}

/**
 * The pipeline's name from its file. The report needs nothing else from it, so when the full
 * load fails (a stage module or a config it names is broken) the file's own `name:` still lets
 * the user report what the store holds; the failure is printed, not hidden.
 */
async function pipelineName(path: string): Promise<{ name: string; file: string }> {
  const { resolve } = await import('node:path');
  try {
    const { loadPipeline } = await import('../../pipeline/load.js');
    const loaded = await loadPipeline(path);
    return { name: loaded.name, file: loaded.file };
  } catch (e) {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    let doc: unknown;
    try { doc = parse(readFileSync(path, 'utf8')); } catch { throw e; }
    const name = doc && typeof doc === 'object' ? (doc as { name?: unknown }).name : undefined;
    if (typeof name !== 'string' || name === '') throw e;
    const first = ((e as Error).message ?? String(e)).split('\n')[0];
    process.stderr.write(`note: ${path} did not load fully (${first}); reporting pipeline '${name}' from its name field\n`);
    return { name, file: resolve(path) };
  }
}

/** A pipeline name as one folder name: no separators, no leading dots. */
function safeFolderName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return s === '' ? 'pipeline' : s;
}
