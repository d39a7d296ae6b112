// The params of the simulate stage: their schema, type and the helpers that resolve their values.
// A module of their own: the stage's definition (index.ts) and its run (run.ts) both read them.
import { Type, type Static } from '@sinclair/typebox';
import type { PlanContext } from '../types.js';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeviceProfileSchema, NetworkProfileSchema, profilePath } from '../../netsim/profiles.js';

const Precision = Type.Union([Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('int8')]);

export const Params = Type.Object({
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
