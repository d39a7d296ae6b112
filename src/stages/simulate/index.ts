// simulate: stage 2 of Split-Et-Impera. Every evaluated split model × payload precision (plus the
// local- and remote-computing baselines) on every (device, network) with one server: device time
// + transfer + server time for a stream of frames at a given rate, as a distribution under loss.
import type { StageDefinition } from '../types.js';
import { existsSync } from 'node:fs';
import { deviceProblems, knownProfiles, networkProblems, profilePath } from '../../netsim/profiles.js';
import { scenarioSourcePath } from '../../netsim/ns3.js';
import { Params, type SimulateParams } from './params.js';
import { SimulateMetrics } from './metrics.js';

export type { SimulateParams } from './params.js';
export { profileRoot } from './params.js';

const stage: StageDefinition<SimulateParams> = {
  name: 'simulate',
  description: 'End-to-end latency (device + network + server) of every evaluated design and the baselines, per network and device',
  params: Params,
  metrics: SimulateMetrics,
  inputs: {
    evaluations: { kind: 'many', description: 'evaluate cells gathered over the cut (and bottleneck) axes' },
    dataset: { kind: 'one', optional: true, description: 'the prepare-dataset cell, for the raw input size of remote computing' },
  },
  // The ns-3 scenario is C++ read from the source tree at run time: no import reaches it.
  codeDeps: ['src/netsim/ns3'],
  outputs: [
    'designs.json: end-to-end latency per design',
    'profiles.json: network, device and server profiles used',
  ],
  externalInputs(params, ctx) {
    // Named profiles are read at run time: their content belongs in the cache key, and so does
    // the ns-3 scenario's C++ source (it is compiled, not part of the JavaScript code hash).
    const files = [scenarioSourcePath()];
    for (const n of params.networks ?? []) if (typeof n === 'string') files.push(profilePath(ctx.projectRoot, 'networks', n));
    for (const d of [...(params.devices ?? []), params.server]) if (typeof d === 'string') files.push(profilePath(ctx.projectRoot, 'devices', d));
    return files.filter((f) => existsSync(f));
  },
  validate(params, ctx) {
    const out: string[] = [];
    const nets = knownProfiles(ctx.projectRoot, 'networks');
    const devs = knownProfiles(ctx.projectRoot, 'devices');
    (params.networks ?? []).forEach((n, i) => {
      if (typeof n === 'string') {
        if (!nets.includes(n)) out.push(`networks[${i}]: unknown network "${n}" (known networks: ${nets.join(', ') || 'none'})`);
      } else {
        for (const m of networkProblems(n)) out.push(`networks[${i}]: ${m}`);
      }
    });
    const checkDevice = (d: SimulateParams['server'], where: string) => {
      if (typeof d === 'string') {
        if (!devs.includes(d)) out.push(`${where}: unknown device "${d}" (known devices: ${devs.join(', ') || 'none'})`);
      } else {
        for (const m of deviceProblems(d)) out.push(`${where}: ${m}`);
      }
    };
    (params.devices ?? []).forEach((d, i) => checkDevice(d, `devices[${i}]`));
    checkDevice(params.server, 'server');
    return out;
  },
  async run(ctx) {
    const { runSimulate } = await import('./run.js');
    return runSimulate(ctx);
  },
};

export default stage;
