// `sei recommend <pipeline>`: the design that meets the application's requirements, from the
// finished simulate cells in the store: feasible designs, the chosen one, the Pareto front per
// network and every rejection with its reasons.
import type { Command } from 'commander';
import { DEFAULT_STORE, collect } from '../progress/options.js';
import type { SimulateMetrics } from '../../stages/simulate/metrics.js';
import { requirePipelineOnStore } from '../known-pipeline.js';

interface RecommendOpts {
  network?: string[];
  minAccuracy?: string;
  maxLatencyMs?: string;
  percentile?: string;
  objective?: string;
  json?: boolean;
  store: string;
  set?: string[];
}

export function register(program: Command): void {
  program
    .command('recommend')
    .description('recommend the split design that meets the QoS requirements, from the simulate results in the store')
    .argument('<pipeline>', 'the pipeline YAML file (or its name, when it has run on the store)')
    .option('--network <name>', 'only this network (repeatable)', collect)
    .option('--min-accuracy <fraction>', 'accuracy floor, e.g. 0.85')
    .option('--max-latency-ms <ms>', 'end-to-end latency ceiling')
    .option('--percentile <p>', 'latency percentile the ceiling applies to: p50, p95, p99 or mean')
    .option('--objective <o>', 'latency, accuracy or bytes')
    .option('--set <path=value>', 'override a pipeline value (repeatable)', collect)
    .option('--json', 'machine-readable output')
    .option('--store <dir>', 'artifact store folder', DEFAULT_STORE)
    .action(async (pipelineArg: string, opts: RecommendOpts) => {
      const { UsageError } = await import('../../util/errors.js');
      const { existsSync } = await import('node:fs');
      const { openStore, storeExists } = await import('../../store/store.js');
      const { recommendFromSimulations } = await import('../../stages/recommend/core.js');
      const { MetricsShapeError, upstreamMetrics } = await import('../../stages/metrics.js');
      const { SimulateMetrics } = await import('../../stages/simulate/metrics.js');
      const { formatRecommendation } = await import('../../netsim/format.js');
      const { formatCoords } = await import('../../util/coords.js');

      const number = (v: string | undefined, flag: string): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n)) throw new UsageError(`${flag} expects a number (got "${v}")`);
        return n;
      };
      let name = pipelineArg;
      let requirements: unknown;
      if (/\.ya?ml$/i.test(pipelineArg) || existsSync(pipelineArg)) {
        if (!existsSync(pipelineArg)) throw new UsageError(`no pipeline file ${pipelineArg}`);
        const { loadPipeline } = await import('../../pipeline/load.js');
        const loaded = await loadPipeline(pipelineArg, { sets: opts.set ?? [] });
        name = loaded.name;
        // A recommend instance's own requirements win over the pipeline's top-level block.
        const own = Object.values(loaded.instances).find((i) => i.stageName === 'recommend')?.cells[0]?.params.requirements;
        requirements = own ?? loaded.settings.requirements ?? {};
      }
      if (!storeExists(opts.store)) throw new UsageError(`no store at ${opts.store} (run the pipeline first, or give --store)`);
      const store = openStore(opts.store, { readonly: true });
      // One recommendation per application: simulate cells of different coordinates (e.g. class
      // subsets) are separate applications whose designs must not compete with each other.
      const groups = new Map<string, { coords: Record<string, unknown>; simulations: SimulateMetrics[] }>();
      try {
        requirePipelineOnStore(store, name);
        const all = store.listCells({ pipeline: name });
        const cells = all.filter((c) => c.stage === 'simulate');
        const done = cells.filter((c) => c.state === 'done' && c.metrics);
        if (done.length === 0) {
          throw new UsageError(`pipeline '${name}' has no finished simulate cell in ${store.dir}` +
            (cells.length ? ` (${cells.length} simulate cells, none done)` : ' (add a simulate stage and run it)'));
        }
        const { canonicalJson } = await import('../../util/hash.js');
        for (const c of done) {
          const key = canonicalJson(c.coords);
          const group = groups.get(key) ?? { coords: c.coords, simulations: [] };
          try {
            group.simulations.push(upstreamMetrics({ cellId: c.id, stage: c.stage, instance: c.instance, coords: c.coords, metrics: c.metrics! }, SimulateMetrics));
          } catch (e) {
            // A result stored by an older simulate: say which and what it lacks (a new run recomputes it).
            if (e instanceof MetricsShapeError) throw new UsageError(`${e.message}; run the pipeline again to simulate it anew`);
            throw e;
          }
          groups.set(key, group);
        }
        // Given a name only, the requirements are those the pipeline's recommend cell used.
        if (requirements === undefined) {
          const rec = all.find((c) => c.stage === 'recommend' && c.state === 'done');
          requirements = (rec?.metrics as { requirements?: unknown } | undefined)?.requirements ?? {};
        }
      } finally {
        store.close();
      }
      const overrides = {
        minAccuracy: number(opts.minAccuracy, '--min-accuracy'),
        maxLatencyMs: number(opts.maxLatencyMs, '--max-latency-ms'),
        latencyPercentile: opts.percentile,
        objective: opts.objective,
        networks: opts.network,
      };
      const results = [...groups.values()].map((g) => ({
        coords: g.coords,
        recommendation: recommendFromSimulations(g.simulations, requirements, overrides),
      }));
      if (opts.json) {
        process.stdout.write(JSON.stringify(results.length === 1 ? results[0]!.recommendation : results, null, 2) + '\n');
        return;
      }
      for (const r of results) {
        if (results.length > 1) process.stdout.write(`\n=== ${formatCoords(r.coords, 120) || 'all designs'} ===\n`);
        process.stdout.write(formatRecommendation(r.recommendation));
      }
    });
}
