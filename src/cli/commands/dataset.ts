// `sei dataset inspect <kind> <path>` and `sei dataset fixture <kind> <out>`.
import { InvalidArgumentError, type Command } from 'commander';

const KINDS = 'tiny-imagenet-200, notmnist, chest-xray, idx, imagefolder, synthetic';

function parseIntArg(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

export function register(program: Command): void {
  const dataset = program.command('dataset').description('Inspect dataset folders and write small fixture datasets');

  dataset
    .command('inspect <kind> [path]')
    .description(`Classes, counts per split and class, skipped files and why, image sizes and channels (kinds: ${KINDS})`)
    .option('--json', 'print the report as JSON')
    .action(async (kind: string, path: string | undefined, opts: { json?: boolean }) => {
      const { UsageError } = await import('../../util/errors.js');
      const { DATASET_KINDS } = await import('../../data/spec.js');
      const { isOneOf } = await import('../../util/choices.js');
      if (!isOneOf(DATASET_KINDS, kind)) throw new UsageError(`unknown dataset kind "${kind}" (kinds: ${KINDS})`);
      if (kind !== 'synthetic' && path === undefined) throw new UsageError(`dataset inspect ${kind} needs the path of the unpacked dataset folder`);
      const { resolve } = await import('node:path');
      const { inspectDataset, formatInspect } = await import('../../data/inspect.js');
      const tty = process.stderr.isTTY && !opts.json;
      const report = await inspectDataset(kind, path === undefined ? undefined : resolve(path), {
        onProgress: tty ? (done, total) => process.stderr.write(`\rdecoding ${done}/${total}`) : undefined,
      });
      if (tty) process.stderr.write('\r\x1b[K');
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspect(report)}\n`);
      // A folder without one readable image is not a dataset: say so, and fail like bad input.
      if (report.images.count === 0) {
        process.stderr.write(`error: no readable image in ${report.root ?? kind}${report.skippedCount > 0 ? ` (${report.skippedCount} file(s) skipped, reasons above)` : ''}\n`);
        process.exitCode = 2;
      }
    });

  dataset
    .command('fixture <kind> <out>')
    .description(`Write a small dataset in the published layout, real image bytes and a few archive traps (kinds: ${KINDS.replace(', synthetic', '')})`)
    .option('--per-class <n>', 'training images per class', parseIntArg('--per-class', 2), 6)
    .option('--seed <s>', 'seed of the drawings', parseIntArg('--seed', 0), 0)
    .option('--no-traps', 'leave out the archive traps (metadata files, truncated images …)')
    .action(async (kind: string, out: string, opts: { perClass: number; seed: number; traps: boolean }) => {
      const { resolve } = await import('node:path');
      const { existsSync, readdirSync } = await import('node:fs');
      const { UsageError } = await import('../../util/errors.js');
      const target = resolve(out);
      if (existsSync(target) && readdirSync(target).length > 0) throw new UsageError(`${target} exists and is not empty: choose a new folder for the fixture`);
      const { writeFixture } = await import('../../data/fixtures.js');
      const { DATASET_KINDS } = await import('../../data/spec.js');
      const { isOneOf } = await import('../../util/choices.js');
      if (!isOneOf(DATASET_KINDS, kind)) throw new UsageError(`unknown dataset kind "${kind}" (kinds: ${DATASET_KINDS.join(', ')})`);
      const s = await writeFixture(kind, target, { perClass: opts.perClass, seed: opts.seed, traps: opts.traps });
      process.stdout.write(`wrote ${s.kind} fixture to ${s.root}: ${s.images} images, ${s.traps.length} traps${s.converted.length ? `, ${s.converted.length} images needing conversion` : ''}\n`);
    });
}
