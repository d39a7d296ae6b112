// `sei explain <cell>`: everything about one cell: params, coordinates, inputs, key parts,
// state, log, attempts, provenance, and why it ran (or why the pipeline's latest plan differs).
import type { Command } from 'commander';
import { DEFAULT_STORE } from '../progress/options.js';

interface ExplainOpts { store: string; json?: boolean }

export function register(program: Command): void {
  program
    .command('explain')
    .description('show one cell: params, coordinates, inputs, cache key parts, state, log path, attempts and why it (re-)ran')
    .argument('<cell>', 'cell id or cache key, or a unique prefix of one (at least 4 hex digits)')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .option('--json', 'machine-readable output')
    .action(async (cellArg: string, opts: ExplainOpts) => {
      const { openStore } = await import('../../store/store.js');
      const { readJobRecord, describeJob } = await import('../../exec/slurm/records.js');
      const { UsageError } = await import('../../util/errors.js');
      const store = openStore(opts.store, { readonly: true });
      try {
        const cell = store.getCell(cellArg);
        if (!cell) throw new UsageError(`no cell matches '${cellArg}' in the store ${store.dir}`);
        const { compareKeyParts, reasonFormatter } = await import('../../exec/assess.js');
        const format = reasonFormatter();
        // Is this key still the one its pipeline's latest run planned for the slot?
        const slot = store.slotsOf(cell.pipeline).get(cell.slot);
        const superseded = slot && slot.key !== cell.key
          ? { by: slot.key, changes: compareKeyParts(cell.keyParts, slot.keyParts) }
          : undefined;
        const inputs = Object.fromEntries(Object.entries(cell.inputs).map(([name, input]) => [name, {
          from: input.from,
          kind: input.kind,
          cells: input.cellIds.map((id) => {
            const up = store.getCell(id);
            return { id, state: up?.state ?? 'unknown', coords: up?.coords ?? {}, dir: up?.dir ?? null };
          }),
        }]));
        const history = store.keysOfCell(cell.id);
        const slurmJob = readJobRecord(store.dir, cell.key) ?? null;
        if (opts.json) {
          process.stdout.write(JSON.stringify({ ...cell, inputs, reasonsText: (cell.reasons ?? []).map(format), superseded: superseded ?? null, keyHistory: history, slurmJob }, null, 2) + '\n');
          return;
        }
        const { formatCoords } = await import('../progress/view.js');
        const L: string[] = [];
        L.push(`cell ${cell.id}`);
        L.push(`  key        ${cell.key}`);
        L.push(`  pipeline   ${cell.pipeline}`);
        L.push(`  instance   ${cell.instance} (stage ${cell.stage})`);
        L.push(`  coords     ${formatCoords(cell.coords) || '(none)'}`);
        L.push(`  state      ${cell.state}${cell.attempts ? `, ${cell.attempts} attempt(s)` : ''}${cell.durationMs !== undefined ? `, ${(cell.durationMs / 1000).toFixed(1)} s` : ''}`);
        if (cell.error) L.push(`  error      ${cell.error.split('\n')[0]}`);
        if (cell.dir) L.push(`  artifact   ${cell.dir}`);
        if (cell.logPath) L.push(`  log        ${cell.logPath}`);
        if (slurmJob) {
          L.push(`  slurm      ${describeJob(slurmJob)}`);
          L.push(`  job output ${slurmJob.stdout}`);
          L.push(`  job errors ${slurmJob.stderr}`);
          if (slurmJob.previous.length) L.push(`  earlier    ${slurmJob.previous.map((p) => `job ${p.jobId} ${p.state}${p.node ? ` on ${p.node}` : ''}`).join(', ')}`);
        }
        L.push('  params');
        for (const line of JSON.stringify(cell.params, null, 2).split('\n')) L.push(`    ${line}`);
        L.push('  inputs');
        if (Object.keys(inputs).length === 0) L.push('    (none)');
        for (const [name, inp] of Object.entries(inputs)) {
          L.push(`    ${name} ← ${inp.from} (${inp.kind}):`);
          for (const c of inp.cells) L.push(`      ${c.id.slice(0, 12)} ${c.state} ${formatCoords(c.coords)}`);
        }
        L.push('  key parts');
        L.push(`    params   ${cell.keyParts.paramsHash}`);
        L.push(`    code     ${cell.keyParts.codeHash}`);
        for (const [folder, h] of Object.entries(cell.keyParts.codeHashes)) L.push(`      ${folder}: ${h.slice(0, 16)}`);
        for (const [path, h] of Object.entries(cell.keyParts.externalHashes)) L.push(`    input    ${path}: ${h.slice(0, 16)}`);
        for (const [name, k] of Object.entries(cell.keyParts.upstreamKeys)) {
          L.push(`    upstream ${name}: ${(Array.isArray(k) ? k : [k]).map((x) => x.slice(0, 12)).join(', ')}`);
        }
        if (cell.reasons?.length) L.push(`  why it ran  ${cell.reasons.map(format).join('; ')}`);
        if (superseded) {
          L.push(`  superseded  the latest run of ${cell.pipeline} planned key ${superseded.by.slice(0, 12)} for this slot: ${superseded.changes.map(format).join('; ') || 'same parts'}`);
        }
        if (history.length > 1) L.push(`  key history ${history.map((k) => k.slice(0, 12)).join(', ')} (newest first)`);
        if (cell.attemptList.length) {
          L.push('  attempts');
          for (const a of cell.attemptList) {
            L.push(`    #${a.n} run ${a.runId} ${a.state}${a.failure ? ` (${a.failure})` : ''} ${a.startedAt}${a.endedAt ? ` → ${a.endedAt}` : ''}${a.error ? `: ${a.error.split('\n')[0]}` : ''}`);
          }
        }
        if (cell.provenance) {
          L.push('  provenance');
          for (const line of JSON.stringify(cell.provenance, null, 2).split('\n')) L.push(`    ${line}`);
        }
        process.stdout.write(L.join('\n') + '\n');
      } finally {
        store.close();
      }
    });
}
