// `sei bench`: training and inference throughput of the reference models on the chosen
// TensorFlow.js backend, with the protocol of the PyTorch reference script, optionally side by
// side with PyTorch itself.
import { InvalidArgumentError, type Command } from 'commander';
import type { BackendRequest } from '../../ml/backend-names.js';
import { backendOption } from '../progress/options.js';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be an integer ≥ 1, got "${value}"`);
    return n;
  };
}

interface BenchCliOptions {
  json?: boolean; backend: BackendRequest; torch?: boolean; python?: string; models: string;
  batch: number; batches: number; repeats: number; profile?: boolean; export?: string; input?: number; microBatch?: number; steps: number;
  rounds: number;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('Images/s of training and inference for the reference models (ref-cnn, vgg16-w0.25) on the active backend; --torch runs the PyTorch reference alongside')
    .option('--json', 'print the report as JSON')
    .addOption(backendOption('tfjs backend to measure', 'auto'))
    .option('--torch', 'also run the PyTorch CPU reference (single thread) in this session and print the ratios')
    .option('--python <path>', 'Python with torch for --torch', '/usr/bin/python3')
    .option('--models <list>', 'comma-separated reference models (ref-cnn, vgg16-w0.25), or with --input the full-size vgg16, resnet50', 'ref-cnn,vgg16-w0.25')
    .option('--input <px>', 'full-size paper networks at this resolution (with --models vgg16,resnet50): training and inference images/s and peak heap', positiveInt('--input'))
    .option('--micro-batch <n>', 'with --input: images per pass (default: the most the wasm heap holds)', positiveInt('--micro-batch'))
    .option('--steps <n>', 'with --input: timed training steps (more than 1 adds a warm-up step)', positiveInt('--steps'), 1)
    .option('--batch <n>', 'batch size (protocol: 64)', positiveInt('--batch'), 64)
    .option('--batches <n>', 'batches per epoch (protocol: 8)', positiveInt('--batches'), 8)
    .option('--repeats <n>', 'timed epochs, median taken (protocol: 3)', positiveInt('--repeats'), 3)
    .option('--rounds <n>', 'rounds of the measurement, each tfjs then (with --torch) PyTorch; figures and ratios are medians over them, for a machine whose speed drifts', positiveInt('--rounds'), 1)
    .option('--profile', 'also print the CPU time per kernel of one training step of each model')
    .option('--export <dir>', 'instead: time the head and tail a `sei export` wrote on ONNX Runtime, beside the device and server times of the study')
    .action(async (opts: BenchCliOptions) => {
      const { UsageError } = await import('../../util/errors.js');
      if (opts.rounds > 1 && (opts.export !== undefined || opts.input !== undefined)) {
        throw new UsageError(`--rounds applies to the reference models only, not to ${opts.export !== undefined ? '--export' : '--input'}`);
      }
      if (opts.export !== undefined) {
        const { benchExport, formatExportBench } = await import('../../export/bench.js');
        const report = await benchExport(opts.export, { warmup: 3, runs: Math.max(opts.repeats, 20) });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatExportBench(report)}\n`);
        return;
      }
      const { initBackend } = await import('../../ml/backend.js');
      const { REFERENCE_MODELS } = await import('../../ml/reference-models.js');
      const { isOneOf } = await import('../../util/choices.js');
      const names = opts.models.split(',').map((m) => m.trim()).filter((m) => m.length > 0);
      if (opts.input !== undefined) {
        const bench = await import('../../ml/bench.js');
        const fullSize = names.map((m) => {
          if (!isOneOf(bench.FULL_SIZE_MODELS, m)) throw new UsageError(`--input: unknown full-size model "${m}": expected ${bench.FULL_SIZE_MODELS.join(', ')}`);
          return m;
        });
        if (opts.torch) {
          const problem = await bench.checkTorch(opts.python ?? bench.DEFAULT_PYTHON);
          if (problem !== null) throw new UsageError(`--torch: ${problem}`);
        }
        const log = (m: string) => { if (!opts.json) process.stderr.write(`${m}\n`); };
        const backend = await initBackend(opts.backend, log);
        const report = await bench.runFullSizeBench(backend, {
          models: fullSize, input: opts.input, batch: opts.batch, microBatch: opts.microBatch, steps: opts.steps,
          torch: opts.torch === true, python: opts.python, log,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${bench.formatFullSizeBench(report)}\n`);
        return;
      }
      const models = names.map((m) => {
        if (!isOneOf(REFERENCE_MODELS, m)) throw new UsageError(`unknown reference model "${m}": expected ${REFERENCE_MODELS.join(', ')}`);
        return m;
      });
      const bench = await import('../../ml/bench.js');
      if (opts.torch) {
        const problem = await bench.checkTorch(opts.python ?? bench.DEFAULT_PYTHON);
        if (problem !== null) throw new UsageError(`--torch: ${problem}`);
      }
      const log = (m: string) => { if (!opts.json) process.stderr.write(`${m}\n`); };
      const backend = await initBackend(opts.backend, log);
      const report = await bench.runBench(backend, {
        protocol: { batch: opts.batch, batches: opts.batches, repeats: opts.repeats },
        models, torch: opts.torch === true, python: opts.python, rounds: opts.rounds, log,
      });
      const profiles: Record<string, { kernel: string; ms: number; calls: number }[]> = {};
      if (opts.profile) for (const m of models) profiles[m] = bench.profileTrainingStep(m, opts.batch, 2);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(opts.profile ? { ...report, profiles } : report, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${bench.formatBench(report)}\n`);
      for (const [m, rows] of Object.entries(profiles)) {
        process.stdout.write(`\nCPU ms per kernel, one training step of ${m} (batch ${opts.batch}):\n`);
        for (const row of rows.slice(0, 15)) process.stdout.write(`  ${row.kernel.padEnd(26)} ${row.ms.toFixed(2).padStart(8)}  ×${row.calls}\n`);
      }
    });
}
