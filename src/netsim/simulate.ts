// One entry point for both simulators. 'auto' uses ns-3 when it is installed and says so when
// it is not; an explicit 'ns3' never falls back: a missing install or a failed compile is an error.
import { simulateAnalytic } from './analytic.js';
import { Ns3Error, ns3Status, simulateNs3 } from './ns3.js';
import type { NetworkProfile } from './profiles.js';
import type { FrameIn, SimulateOptions, SimulationResult, SimulatorChoice, SimulatorName } from './types.js';

export interface SimulatorRunOptions extends SimulateOptions {
  simulator?: SimulatorChoice;
  /** Store-wide cache where the ns-3 scenario is compiled (required for ns-3). */
  cacheDir?: string;
  log?: (m: string) => void;
  signal?: AbortSignal;
}

/** Which simulator a choice resolves to on this machine, with the reason for 'auto'. */
export function pickSimulator(choice: SimulatorChoice = 'auto'): { simulator: SimulatorName; note?: string } {
  if (choice === 'analytic') return { simulator: 'analytic' };
  const status = ns3Status();
  if (choice === 'ns3') {
    if (!status.available) throw new Ns3Error(`simulator ns3 was requested but ns-3 is not available: ${status.reason}`);
    return { simulator: 'ns3' };
  }
  if (status.available) return { simulator: 'ns3' };
  return { simulator: 'analytic', note: `ns-3 is not available (${status.reason}): using the analytic model` };
}

export async function simulate(net: NetworkProfile, frames: FrameIn[], opts: SimulatorRunOptions = {}): Promise<SimulationResult> {
  const { simulator, note } = pickSimulator(opts.simulator);
  if (note) opts.log?.(note);
  if (simulator === 'analytic') return simulateAnalytic(net, frames, opts);
  if (!opts.cacheDir) throw new Ns3Error('the ns-3 simulator needs a cache folder to compile its scenario into');
  return simulateNs3(net, frames, { ...opts, cacheDir: opts.cacheDir });
}
