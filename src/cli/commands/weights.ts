// `sei weights inspect FILE [--json]`: list a PyTorch state_dict or .safetensors checkpoint's
// tensors and how they map onto the project's VGG16 / ResNet-50. Exit 2 when it maps onto neither.
import type { Command } from 'commander';

export function register(program: Command): void {
  const weights = program.command('weights').description('inspect weight files for model.pretrained');
  weights
    .command('inspect')
    .description("list a checkpoint's tensors (PyTorch .pth/.pt or .safetensors), its parameter count, and the architecture, width and classes it matches")
    .argument('<file>', 'the checkpoint')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { inspectCheckpoint, formatInspection } = await import('../../ml/checkpoints/inspect.js');
      const report = inspectCheckpoint(file);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspection(report)}\n`);
      if (!report.architecture) {
        process.stderr.write(`error: ${file} maps onto no architecture of this project (see above)\n`);
        process.exitCode = 2;
      }
    });
}
