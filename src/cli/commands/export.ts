// `sei export <pipeline>`: the device half and the server half of a design (the recommended one
// by default), as ONNX and TF.js models with a manifest, checked against the project's model.
import type { Command } from 'commander';
import { DEFAULT_STORE, backendOption, collect } from '../progress/options.js';
import type { BackendRequest } from '../../ml/backend-names.js';
import type { ExportFormat } from '../../export/write.js';
import type { Precision } from '../../ml/accounting.js';
import { requirePipelineOnStore } from '../known-pipeline.js';

interface ExportOpts {
  design?: string;
  cell?: string;
  out: string;
  format: string;
  precision?: string;
  force?: boolean;
  json?: boolean;
  store: string;
  set?: string[];
  backend: BackendRequest;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write the head (device) and tail (server) of a design as ONNX and TF.js models, with a manifest')
    .argument('<pipeline>', 'the pipeline YAML file (or its name, when it has run on the store)')
    .option('--design <id>', 'a simulated design id (default: the recommended design)')
    .option('--cell <id>', 'a split-retrain, evaluate or train-base cell id (or unique prefix)')
    .option('--precision <p>', 'payload precision for --cell: fp32, fp16 or int8 (default fp32)')
    .requiredOption('--out <dir>', 'output folder (must not exist or be empty, unless --force)')
    .option('--format <list>', 'comma-separated: onnx, tfjs', 'onnx,tfjs')
    .option('--force', 'replace a non-empty output folder')
    .option('--set <path=value>', 'override a pipeline value (repeatable)', collect)
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .addOption(backendOption('tfjs backend for loading and checking the model', 'cpu'))
    .option('--json', 'print the manifest as JSON')
    .action(async (pipelineArg: string, opts: ExportOpts) => {
      const { UsageError } = await import('../../util/errors.js');
      const { existsSync, readFileSync } = await import('node:fs');
      const { dirname, join, resolve } = await import('node:path');
      const { fileURLToPath } = await import('node:url');
      const { openStore, storeExists } = await import('../../store/store.js');
      const { resolveTarget } = await import('../../export/target.js');
      const { EXPORT_FORMATS, checkDestination, writeExport } = await import('../../export/write.js');
      const { PRECISIONS } = await import('../../ml/accounting.js');

      const isFormat = (f: string): f is ExportFormat => (EXPORT_FORMATS as string[]).includes(f);
      const isPrecision = (p: string): p is Precision => (PRECISIONS as string[]).includes(p);
      const formats: ExportFormat[] = [];
      for (const f of opts.format.split(',').map((x) => x.trim()).filter(Boolean)) {
        if (!isFormat(f)) throw new UsageError(`--format: unknown format '${f}'; expected ${EXPORT_FORMATS.join(', ')}`);
        formats.push(f);
      }
      if (formats.length === 0) throw new UsageError(`--format: give at least one of ${EXPORT_FORMATS.join(', ')}`);
      if (opts.precision !== undefined && !isPrecision(opts.precision)) {
        throw new UsageError(`--precision: expected ${PRECISIONS.join(', ')} (got '${opts.precision}')`);
      }
      const precision = opts.precision;
      checkDestination(resolve(opts.out), opts.force === true);
      let name = pipelineArg;
      if (/\.ya?ml$/i.test(pipelineArg) || existsSync(pipelineArg)) {
        if (!existsSync(pipelineArg)) throw new UsageError(`no pipeline file ${pipelineArg}`);
        const { loadPipeline } = await import('../../pipeline/load.js');
        name = (await loadPipeline(pipelineArg, { sets: opts.set ?? [] })).name;
      }
      if (!storeExists(opts.store)) throw new UsageError(`no store at ${opts.store} (run the pipeline first, or give --store)`);
      const store = openStore(opts.store, { readonly: true });
      let target;
      try {
        requirePipelineOnStore(store, name);
        target = resolveTarget(store, name, { design: opts.design, cell: opts.cell, precision });
      } finally {
        store.close();
      }
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const { initBackend } = await import('../../ml/backend.js');
      await initBackend(opts.backend, opts.json ? () => {} : log);
      const here = dirname(fileURLToPath(import.meta.url));
      const version = (JSON.parse(readFileSync(join(here, '..', '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
      if (!opts.json) log(`exporting ${target.origin} …`);
      const result = await writeExport(target, { pipeline: name, out: opts.out, formats, force: opts.force === true, version, log: opts.json ? undefined : log });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result.manifest, null, 2)}\n`);
        return;
      }
      const m = result.manifest;
      const L = [`${m.summary}`];
      if (m.kind !== 'split') L.push(`one model exported (the design does not split the network)`);
      for (const [k, f] of Object.entries(m.files)) L.push(`  ${k.padEnd(10)} ${join(result.out, f)}`);
      L.push(`  manifest   ${join(result.out, 'manifest.json')}`);
      if (m.payload) L.push(`payload: ${m.payload.outputs.map((o) => `${o.name} ${o.dtype} [${o.shape.join('×')}]`).join(' + ')}, ${m.payload.bytesPerFrame} B per frame`);
      const fmt = (v: number | null) => (v === null ? 'n/a' : v.toExponential(1));
      L.push(`checked against the project's model: relative error of the logits ONNX ${fmt(result.check.onnxRelativeError)}, TF.js ${fmt(result.check.tfjsRelativeError)}`);
      process.stdout.write(`${L.join('\n')}\n`);
    });
}
