// The simulator interface shared by the analytic model and the ns-3 scenario.

export type SimulatorName = 'analytic' | 'ns3';
export type SimulatorChoice = SimulatorName | 'auto';

/** A frame handed to the transport: its size and when the device finished computing it. */
export interface FrameIn {
  bytes: number;
  readyAtMs: number;
}

export interface FrameOut {
  /** When the application handed the frame to the transport (= readyAtMs). */
  sentMs: number;
  /** When its last byte reached the receiving application; null when the frame was lost (UDP). */
  receivedMs: number | null;
  /** receivedMs − sentMs, null when lost. */
  latencyMs: number | null;
  /** Packets of this frame dropped by the link (originals and retransmissions). */
  packetsLost: number;
  /** TCP segments of this frame sent again. */
  retransmissions: number;
}

export interface SimulationResult {
  simulator: SimulatorName;
  frames: FrameOut[];
  /** When the TCP connection was established (ms), null for UDP. */
  handshakeMs: number | null;
}

export interface SimulateOptions {
  /** Seeds the loss process: equal seeds give equal results. */
  seed?: number;
  /** When the TCP connection is opened (ms); default 0, the start of the stream. */
  connectAtMs?: number;
}
