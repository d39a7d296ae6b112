// simulate: stage 2 of Split-Et-Impera. Every evaluated split model × payload precision (plus the
// local- and remote-computing baselines) on every (device, network) with one server: device time
// + transfer + server time for a stream of frames at a given rate, as a distribution under loss.
import { Type, type Static } from '@sinclair/typebox';
import type { PlanContext, StageDefinition } from '../types.js';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DeviceProfileSchema, NetworkProfileSchema, deviceProblems, knownProfiles, networkProblems, profilePath,
} from '../../netsim/profiles.js';
import { scenarioSourcePath } from '../../netsim/ns3.js';

const Precision = Type.Union([Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('int8')]);

const Params = Type.Object({
  networks: Type.Array(Type.Union([Type.String({ minLength: 1 }), NetworkProfileSchema]), {
    minItems: 1, default: ['p2p-1g'], description: 'network profiles: names of configs/networks/*.yaml or inline profiles',
  }),
  devices: Type.Array(Type.Union([Type.String({ minLength: 1 }), DeviceProfileSchema]), {
    minItems: 1, default: ['this-machine'], description: 'device profiles: names of configs/devices/*.yaml or inline profiles',
  }),
  server: Type.Union([Type.String({ minLength: 1 }), DeviceProfileSchema], { default: 'server-gpu', description: 'the server\'s compute profile' }),
  precisions: Type.Array(Precision, { minItems: 1, default: ['fp32', 'fp16', 'int8'], description: 'payload precisions to simulate' }),
  frameRateHz: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'frames captured per second' }),
  frames: Type.Integer({ minimum: 1, maximum: 100000, default: 30, description: 'frames in the simulated stream' }),
  simulator: Type.Union([Type.Literal('auto'), Type.Literal('analytic'), Type.Literal('ns3')], {
    default: 'auto', description: 'auto: ns-3 when installed, else the analytic model (said in the log); ns3: ns-3 or fail',
  }),
  seed: Type.Integer({ minimum: 1, default: 1, description: 'seed of the loss process (shared by every design: common random numbers)' }),
  inputBytes: Type.Optional(Type.Integer({ minimum: 1, description: 'bytes of one raw input frame (remote computing); default: height×width×channels of the dataset input' })),
  baselines: Type.Boolean({ default: true, description: 'add local computing and remote computing' }),
}, { additionalProperties: false });
export type SimulateParams = Static<typeof Params>;

/** Folders searched for named profiles, in order: the pipeline's project, the working folder, the package. */
function roots(ctx?: PlanContext): string[] {
  const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  return [...new Set([ctx?.projectRoot, process.env.SEI_PROJECT_ROOT, process.cwd(), pkg].filter((r): r is string => !!r))];
}

export function profileRoot(kind: 'networks' | 'devices', name: string, ctx?: PlanContext): string {
  const all = roots(ctx);
  return all.find((r) => existsSync(profilePath(r, kind, name))) ?? all[all.length - 1];
}

const stage: StageDefinition<SimulateParams> = {
  name: 'simulate',
  description: 'End-to-end latency (device + network + server) of every evaluated design and the baselines, per network and device',
  params: Params,
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
    const checkDevice = (d: unknown, where: string) => {
      if (typeof d === 'string') {
        if (!devs.includes(d)) out.push(`${where}: unknown device "${d}" (known devices: ${devs.join(', ') || 'none'})`);
      } else {
        for (const m of deviceProblems(d as never)) out.push(`${where}: ${m}`);
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
