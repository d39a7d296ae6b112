// The recommendation over simulate results, shared by the recommend stage and `sei recommend`.
import { UsageError } from '../../util/errors.js';
import { checkSchema } from '../../config/schema.js';
import type { DesignSummary } from '../../netsim/designs.js';
import { RequirementsSchema, normalizeRequirements, recommend, type Recommendation, type RequirementsInput } from '../../netsim/recommend.js';

/** Checks a requirements block (from params, the pipeline, or the command line); UsageError when bad. */
export function parseRequirements(value: unknown, where = 'requirements'): RequirementsInput {
  const v = structuredClone(value ?? {});
  const issues = checkSchema(RequirementsSchema, v, false);
  if (issues.length) {
    throw new UsageError(`${where}: ${issues.map((i) => `${i.pointer ? i.pointer.slice(1).replace(/\//g, '.') + ': ' : ''}${i.message}`).join('; ')}`);
  }
  return v as RequirementsInput;
}

/**
 * What a recommendation reads of a simulate result: its designs, as simulate declares them
 * (callers check stored results with upstreamMetrics(…, SimulateMetrics) first).
 */
export interface Simulation { designs: DesignSummary[] }

// Overrides are checked with the requirements (parseRequirements): a command-line word that is
// not a percentile or an objective is refused there, naming the field.
export function recommendFromSimulations(simulations: Simulation[], requirements: unknown, overrides: Record<string, unknown> = {}): Recommendation {
  const req = parseRequirements({ ...parseRequirements(requirements), ...stripUndefined(overrides) });
  const designs = simulations.flatMap((s) => s.designs);
  const known = [...new Set(designs.map((d) => d.network))].sort();
  for (const n of req.networks ?? []) {
    if (!known.includes(n)) throw new UsageError(`network "${n}" was not simulated (simulated networks: ${known.join(', ') || 'none'})`);
  }
  return recommend(designs, normalizeRequirements(req));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
