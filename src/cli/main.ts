// The `sei` command line. Each file of ./commands registers one command; heavy modules are
// imported inside each command's action so that `sei --help` answers at once.
import { Command } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDiskFullError } from '../util/disk-space.js';
import { isUsageError } from '../util/errors.js';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildProgram(): Promise<Command> {
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  const program = new Command('sei')
    .description('split-et-impera: design split-computing deployments of deep networks and validate I-SPLIT\'s predictions')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  const dir = join(here, 'commands');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { register?: (p: Command) => void };
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return 2;
    if (isDiskFullError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    if (isUsageError(e)) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
