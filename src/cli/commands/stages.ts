// `sei stages [name]`: the stages a pipeline can use, and for one stage its inputs, params and
// outputs — the reference for writing pipelines.
import type { Command } from 'commander';

interface StagesOpts { json?: boolean }

export function register(program: Command): void {
  program
    .command('stages')
    .description('list the stages a pipeline can use; with a name, its inputs, params (types, defaults) and outputs')
    .argument('[name]', 'a stage name, e.g. split-retrain')
    .option('--json', 'machine-readable output (the params as JSON Schema)')
    .action(async (name: string | undefined, opts: StagesOpts) => {
      const { loadStage, stageNames } = await import('../../pipeline/registry.js');
      const { describeStage } = await import('../stages-help/describe.js');
      const names = name === undefined ? stageNames() : [name];
      const defs = await Promise.all(names.map((n) => loadStage(n)));
      if (opts.json) {
        const json = defs.map((d) => ({ name: d.name, description: d.description, inputs: d.inputs, params: d.params, outputs: d.outputs ?? [] }));
        process.stdout.write(JSON.stringify(name === undefined ? json : json[0], null, 2) + '\n');
      } else if (name === undefined) {
        const width = Math.max(...defs.map((d) => d.name.length));
        for (const d of defs) process.stdout.write(`${d.name.padEnd(width)}  ${d.description}\n`);
        process.stdout.write('\nsei stages <name> shows a stage\'s inputs, params and outputs.\n');
      } else {
        process.stdout.write(describeStage(defs[0]!));
      }
    });
}
