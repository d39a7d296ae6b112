// Named configs: `configs/<kind>/<name>.yaml` (or .yml) under a project root. The one place that
// knows where they live and which exist: `use: datasets/x` in a pipeline (resolve.ts) and the
// network and device profiles a stage names at run time (src/netsim/profiles.ts) both go through it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The file of a named config (`<kind>/<name>`, e.g. 'datasets/synthetic-demo'), if it exists. */
export function namedConfigFile(projectRoot: string, ref: string): string | undefined {
  const base = join(projectRoot, 'configs', ref);
  return [`${base}.yaml`, `${base}.yml`].find((f) => existsSync(f));
}

/** Where a named config is or would be (its .yaml path when it does not exist). */
export function namedConfigPath(projectRoot: string, ref: string): string {
  return namedConfigFile(projectRoot, ref) ?? join(projectRoot, 'configs', `${ref}.yaml`);
}

/** Names of the configs of one kind (a folder under configs/, e.g. 'networks'), sorted. */
export function namedConfigs(projectRoot: string, kind: string): string[] {
  const dir = join(projectRoot, 'configs', kind);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return [...new Set(readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, '')))].sort();
}
