// The simulate stage's work: build the candidate designs from the gathered evaluate cells, resolve
// the profiles, pick the simulator once (saying why), and simulate every design on every
// (device, network).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageContext, StageOutput, UpstreamOutput } from '../types.js';
import type { SimulateParams } from './params.js';
import { profileRoot } from './params.js';
import { designSpecs, simulateDesign, type Design, type Precision } from '../../netsim/designs.js';
import { resolveDevice, resolveNetwork } from '../../netsim/profiles.js';
import { pickSimulator } from '../../netsim/simulate.js';
import { ns3Status } from '../../netsim/ns3.js';

/** Bytes of one raw input frame: height × width × channels of the prepared dataset (uint8). */
function inputBytesOf(dataset: UpstreamOutput | undefined): number | undefined {
  const m = dataset?.metrics as { height?: unknown; width?: unknown; channels?: unknown } | undefined;
  if (!m) return undefined;
  const [h, w, c] = [m.height, m.width, m.channels];
  return typeof h === 'number' && typeof w === 'number' && typeof c === 'number' ? h * w * c : undefined;
}

export async function runSimulate(ctx: StageContext<SimulateParams>): Promise<StageOutput> {
  const p = ctx.params;
  const evaluations = ctx.inputs.evaluations;
  const cells = (Array.isArray(evaluations) ? evaluations : [evaluations]).filter((c): c is UpstreamOutput => !!c);
  if (cells.length === 0) throw new Error('simulate: no evaluate cell arrived on the evaluations input');
  const dataset = ctx.inputs.dataset as UpstreamOutput | undefined;
  const inputBytes = p.inputBytes ?? inputBytesOf(dataset);

  const { specs, notes } = designSpecs(cells, { precisions: p.precisions as Precision[], inputBytes, baselines: p.baselines });
  for (const n of notes) ctx.log(`simulate: ${n}`);

  const networks = p.networks.map((n, i) => resolveNetwork(typeof n === 'string' ? profileRoot('networks', n) : '', n, i));
  const devices = p.devices.map((d, i) => resolveDevice(typeof d === 'string' ? profileRoot('devices', d) : '', d, i));
  const server = resolveDevice(typeof p.server === 'string' ? profileRoot('devices', p.server) : '', p.server, 0);

  const picked = pickSimulator(p.simulator);
  if (picked.note) {
    ctx.log(`simulate: ${picked.note}`);
    notes.push(picked.note);
  }
  const status = ns3Status();
  ctx.setProvenance({ simulator: picked.simulator, ns3: status.available ? 'available' : `unavailable: ${status.reason}` });

  const stream = { frameRateHz: p.frameRateHz, frames: p.frames };
  const designs: Design[] = [];
  const total = networks.length * devices.length * specs.length;
  let done = 0;
  const started = Date.now();
  for (const net of networks) {
    for (const device of devices) {
      for (const spec of specs) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
        designs.push(await simulateDesign(spec, net, device, server, stream, {
          simulator: picked.simulator, seed: p.seed, cacheDir: ctx.cacheDir, log: ctx.log, signal: ctx.signal,
        }));
        done++;
        ctx.progress({ phase: 'simulate', batch: done, batches: total, message: `${net.name} / ${device.name}` });
      }
    }
  }
  ctx.log(`simulate: ${designs.length} designs (${specs.length} per device and network) with ${picked.simulator} in ${((Date.now() - started) / 1000).toFixed(2)} s`);

  await writeFile(join(ctx.outDir, 'designs.json'), JSON.stringify(designs, null, 2));
  await writeFile(join(ctx.outDir, 'profiles.json'), JSON.stringify({ networks, devices, server }, null, 2));
  const joinNames = (names: string[]) => [...new Set(names)].join(',');
  return {
    metrics: {
      network: joinNames(networks.map((n) => n.name)),
      device: joinNames(devices.map((d) => d.name)),
      server: server.name,
      networks: networks.map((n) => n.name),
      devices: devices.map((d) => d.name),
      simulator: picked.simulator,
      frameRateHz: p.frameRateHz,
      frames: p.frames,
      seed: p.seed,
      notes,
      designs,
    },
  };
}
