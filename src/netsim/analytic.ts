// The analytic network model: closed-form timing of every packet of a stream of frames on one
// link, with the loss process sampled from a seeded generator so that a stream gives a latency
// distribution. It mirrors the ns-3 scenario (src/netsim/ns3/scenario.cc) assumption by
// assumption, so the two agree on lossless links (to the microsecond on the known answers):
//
// - The link serialises packets one after another (FIFO, unbounded queue): a frame starts
//   when it is ready and the link has drained what came before (queueing).
// - Every packet carries IP/transport headers and a 2-byte PPP header; its serialisation time is
//   (payload + headers) · 8 / rate; it arrives one propagation delay after its last bit left.
// - UDP: the frame is cut into datagrams of the chunk size (capped below the MTU). It is
//   received when its last datagram arrives and lost when any datagram is.
// - TCP: one connection opened at `connectAtMs` (SYN, SYN-ACK: one round trip, then the final
//   ACK), MSS = MTU − 52, the frames written back to back into one byte stream. The sender keeps
//   at most cwnd segments unacknowledged; each segment's acknowledgement returns one segment
//   time + two delays + an ACK time after it left (so a segment may be sent when the ACK that
//   opens the window has come back and the link is free). NewReno: cwnd starts at the initial
//   window, grows by one segment per acknowledgement in slow start (doubling per round trip) and
//   by 1/cwnd in congestion avoidance; no Nagle delay, no window reset after idle.
// - TCP under loss (data packets only, never the handshake or the ACKs): a lost segment is
//   repaired by fast retransmit at the third duplicate ACK (the third later segment, possibly of
//   the next frame) unless the retransmission timer — RFC 6298, at least the profile's RTO —
//   fires first. Fast retransmit sets ssthresh = cwnd = max(2, flight / 2) once per window and
//   freezes growth until the retransmission is acknowledged; a timeout sets cwnd = 1,
//   ssthresh = 2; a retransmission lost again waits for the timer, backed off ×2. Retransmissions
//   join the link's FIFO in time order with new segments and hold a window slot until
//   acknowledged; acknowledgements of segments after a hole still clock the window (SACK).
//   Frames are delivered in order (head-of-line blocking).
// - Known limit: with heavy loss (≈5 %) ns-3's TCP stalls on timeouts more often than this model
//   predicts (its recovery of several holes per window is more conservative); compare with the
//   ns-3 simulator when loss matters (bench/netsim.bench.ts reports both).
import { rng } from '../util/random.js';
import {
  LINK_HEADER_BYTES, TCP_IP_HEADER_BYTES, TCP_SYN_WIRE_BYTES, UDP_IP_HEADER_BYTES,
  serialMs, tcpMss, udpDatagramPayload, type NetworkProfile,
} from './profiles.js';
import type { FrameIn, FrameOut, SimulateOptions, SimulationResult } from './types.js';

export function simulateAnalytic(net: NetworkProfile, frames: FrameIn[], opts: SimulateOptions = {}): SimulationResult {
  checkFrames(frames);
  const random = rng(opts.seed ?? 1);
  return net.transport === 'udp' ? simulateUdp(net, frames, random) : simulateTcp(net, frames, random, opts.connectAtMs ?? 0);
}

export function checkFrames(frames: FrameIn[]): void {
  let last = -Infinity;
  frames.forEach((f, i) => {
    if (!Number.isFinite(f.bytes) || f.bytes < 0 || !Number.isInteger(f.bytes)) throw new Error(`frame ${i}: bytes must be a non-negative integer (got ${f.bytes})`);
    if (!Number.isFinite(f.readyAtMs) || f.readyAtMs < 0) throw new Error(`frame ${i}: readyAtMs must be >= 0 (got ${f.readyAtMs})`);
    if (f.readyAtMs < last) throw new Error(`frame ${i}: frames must be given in the order they become ready`);
    last = f.readyAtMs;
  });
}

function simulateUdp(net: NetworkProfile, frames: FrameIn[], random: () => number): SimulationResult {
  const payload = udpDatagramPayload(net);
  let linkFree = 0;
  const out: FrameOut[] = frames.map((f) => {
    const count = Math.max(1, Math.ceil(f.bytes / payload));
    let t = Math.max(f.readyAtMs, linkFree);
    let lost = 0;
    for (let c = 0; c < count; c++) {
      const size = c < count - 1 ? payload : Math.max(8, f.bytes - (count - 1) * payload);
      t += serialMs(net, size + UDP_IP_HEADER_BYTES + LINK_HEADER_BYTES);
      if (net.lossRate > 0 && random() < net.lossRate) lost++;
    }
    linkFree = t;
    const receivedMs = lost > 0 ? null : t + net.delayMs;
    return frameOut(f.readyAtMs, receivedMs, lost, 0);
  });
  return { simulator: 'analytic', frames: out, handshakeMs: null };
}

function simulateTcp(net: NetworkProfile, frames: FrameIn[], random: () => number, connectAtMs: number): SimulationResult {
  const d = net.delayMs;
  const p = net.lossRate;
  const mss = tcpMss(net);
  const segMs = (bytes: number) => serialMs(net, bytes + TCP_IP_HEADER_BYTES + LINK_HEADER_BYTES);
  const ackMs = serialMs(net, TCP_IP_HEADER_BYTES + LINK_HEADER_BYTES);
  const handshakeMs = connectAtMs + 2 * (serialMs(net, TCP_SYN_WIRE_BYTES) + d);
  // RFC 6298 as in ns-3: RTO = max(minimum RTO, srtt + 4·rttvar), the estimator fed with every
  // segment's round trip (queueing included, as timestamps measure it).
  let srtt = NaN;
  let rttvar = 0;
  const observeRtt = (sample: number) => {
    if (Number.isNaN(srtt)) { srtt = sample; rttvar = sample / 2; return; }
    rttvar = 0.75 * rttvar + 0.25 * Math.abs(srtt - sample);
    srtt = 0.875 * srtt + 0.125 * sample;
  };
  const rto = () => Math.max(net.tcp.rtoMs, Number.isNaN(srtt) ? 0 : srtt + Math.max(1, 4 * rttvar));
  const isLost = () => p > 0 && random() < p;

  // The stream as segments: a frame's bytes follow the previous frame's in one byte stream.
  const segFrame: number[] = [];
  const segBytes: number[] = [];
  frames.forEach((f, i) => {
    const n = Math.ceil(f.bytes / mss);
    for (let k = 0; k < n; k++) {
      segFrame.push(i);
      segBytes.push(k < n - 1 ? mss : f.bytes - (n - 1) * mss);
    }
  });
  const total = segFrame.length;
  const queued = new Float64Array(total); // when TCP handed the segment to the link's FIFO (running max)
  const end = new Float64Array(total); // when the segment's last bit left the device
  const tick = new Float64Array(total); // when its acknowledgement (or SACK) reaches the device
  const delivered = new Float64Array(total);
  const lostCount: number[] = frames.map(() => 0);
  const rtxCount: number[] = frames.map(() => 0);

  let cwnd = net.tcp.initialCwnd;
  let ssthresh = Infinity; // slow start until the first loss
  let ticks = 0; // acknowledgements taken into account so far
  let recoveryUntil = 0; // losses below this segment belong to the current recovery episode
  let recoveryExit = -Infinity; // no window growth while the recovery's retransmission is unacknowledged
  const halveAtTick = new Set<number>();
  let undetected: number[] = []; // lost segments waiting for three later segments or the timer
  const repairs: { k: number; at: number; backoff: number; startsRecovery: boolean }[] = []; // by time
  // A lost segment keeps its window slot until its retransmission is acknowledged (Infinity
  // while that time is unknown), as in RFC 6675's pipe.
  const holds = new Map<number, number>();
  const timeoutsDue: number[] = []; // timers of lost retransmissions
  let linkFree = handshakeMs + ackMs; // the handshake's final ACK goes first

  /** Segments among the first `n` handed to the link before time `t`. */
  const queuedBefore = (t: number, n: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (queued[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  const applyTick = (j: number, k: number) => {
    if (halveAtTick.has(j)) {
      // NewReno: ssthresh = max(2, flight / 2) at the third duplicate ACK, then cwnd = ssthresh.
      const flight = queuedBefore(tick[j], k) - (j + 1);
      ssthresh = Math.max(2, Math.floor(flight / 2));
      cwnd = ssthresh;
    } else if (tick[j] >= recoveryExit) {
      // One segment per acknowledgement in slow start, one per window in congestion avoidance.
      cwnd += cwnd < ssthresh ? 1 : 1 / cwnd;
    }
  };
  const addRepair = (r: (typeof repairs)[number]) => {
    let i = repairs.length;
    while (i > 0 && repairs[i - 1].at > r.at) i--;
    repairs.splice(i, 0, r);
  };
  /** The retransmission timer fires at `at` (k: segments sent so far): go back to one segment. */
  const timeout = (at: number, k: number) => {
    ssthresh = 2;
    cwnd = 1;
    // The timeout ends any fast recovery: slow start again from one segment.
    recoveryExit = -Infinity;
    recoveryUntil = k;
    // Acknowledgements that arrived before the timeout do not grow the collapsed window.
    while (ticks < k && tick[ticks] <= at) ticks++;
    // Every hole not yet repaired is sent again, in order.
    for (const lostSeg of undetected) addRepair({ k: lostSeg, at, backoff: 2 * rto(), startsRecovery: false });
    undetected = [];
  };
  /** Retransmissions due by `upTo` join the link's FIFO, in time order with new segments. */
  const flushRepairs = (upTo: number, k: number) => {
    while (repairs.length && repairs[0].at <= upTo) {
      const r = repairs.shift()!;
      rtxCount[segFrame[r.k]]++;
      const sent = Math.max(r.at, linkFree) + segMs(segBytes[r.k]);
      linkFree = sent;
      if (isLost()) {
        // The retransmission is lost too: only the timer, backed off, repairs it.
        lostCount[segFrame[r.k]]++;
        addRepair({ k: r.k, at: sent + r.backoff, backoff: 2 * r.backoff, startsRecovery: r.startsRecovery });
        timeoutsDue.push(sent + r.backoff);
        timeoutsDue.sort((a, b) => a - b);
        continue;
      }
      delivered[r.k] = sent + d;
      const acked = sent + 2 * d + ackMs;
      holds.set(r.k, acked);
      if (r.startsRecovery) {
        recoveryExit = acked;
        // NewReno partial acknowledgement: the next holes of the window go out at once.
        const rest = undetected.filter((lostSeg) => lostSeg < recoveryUntil);
        undetected = undetected.filter((lostSeg) => lostSeg >= recoveryUntil);
        for (const lostSeg of rest) addRepair({ k: lostSeg, at: acked, backoff: rto(), startsRecovery: false });
      }
    }
    while (timeoutsDue.length && timeoutsDue[0] <= upTo) timeout(timeoutsDue.shift()!, k);
  };

  for (let k = 0; k < total; k++) {
    let t = frames[segFrame[k]].readyAtMs;
    // Wait until the window has room: at most `cwnd` segments in flight, counting lost segments
    // and retransmissions until they are acknowledged.
    for (;;) {
      flushRepairs(t, k);
      // A lost segment that no later segment can reveal waits for the retransmission timer.
      const timer = undetected.length ? Math.min(...undetected.map((lostSeg) => tick[lostSeg])) + rto() : Infinity;
      if (timer <= t) { timeout(timer, k); continue; }
      let held = 0;
      let nextRelease = Infinity;
      for (const h of holds.values()) {
        if (h > t) { held++; if (h < nextRelease) nextRelease = h; }
      }
      if (ticks + Math.floor(cwnd) - held >= k + 1) break;
      const nextTick = ticks < k ? tick[ticks] : Infinity;
      const next = Math.min(nextTick, nextRelease, repairs.length ? repairs[0].at : Infinity, timer);
      if (next === Infinity) break;
      if (next === nextTick) {
        t = Math.max(t, nextTick);
        applyTick(ticks, k);
        ticks++;
      } else {
        t = Math.max(t, next);
      }
    }
    queued[k] = Math.max(t, k > 0 ? queued[k - 1] : 0);
    if (holds.size > 16) for (const [key, h] of holds) if (h <= t) holds.delete(key);
    end[k] = Math.max(t, linkFree) + segMs(segBytes[k]);
    tick[k] = end[k] + 2 * d + ackMs;
    linkFree = end[k];
    if (isLost()) {
      lostCount[segFrame[k]]++;
      undetected.push(k);
      holds.set(k, Infinity);
    } else {
      delivered[k] = end[k] + d;
      observeRtt(tick[k] - queued[k]);
    }
    // The third segment after a loss brings the third duplicate ACK: fast retransmit.
    while (undetected.length && undetected[0] <= k - 3) {
      const lostSeg = undetected.shift()!;
      const detect = tick[lostSeg + 3];
      if (detect < tick[lostSeg] + rto()) {
        const startsRecovery = lostSeg >= recoveryUntil;
        if (startsRecovery) {
          halveAtTick.add(lostSeg + 3);
          recoveryUntil = k + 1;
          recoveryExit = Infinity; // until the retransmission is acknowledged
        }
        addRepair({ k: lostSeg, at: detect, backoff: rto(), startsRecovery });
      } else {
        undetected.unshift(lostSeg); // the timer gets there first
        break;
      }
    }
  }
  // After the last segment only the timers (or pending retransmissions) repair what is left.
  for (let guard = 0; (undetected.length || repairs.length) && guard < 1_000_000; guard++) {
    const timer = undetected.length ? Math.min(...undetected.map((lostSeg) => tick[lostSeg])) + rto() : Infinity;
    const nextRepair = repairs.length ? repairs[0].at : Infinity;
    if (timer <= nextRepair) timeout(timer, total);
    flushRepairs(Math.min(timer, nextRepair) === Infinity ? Infinity : Math.max(timer, nextRepair), total);
  }

  // In-order delivery: a frame reaches the application only after every byte before it.
  const done: number[] = frames.map((f) => f.readyAtMs);
  for (let k = 0; k < total; k++) done[segFrame[k]] = Math.max(done[segFrame[k]], delivered[k]);
  const out: FrameOut[] = [];
  let prev = 0;
  frames.forEach((f, i) => {
    const received = Math.max(done[i], prev);
    prev = received;
    out.push(frameOut(f.readyAtMs, received, lostCount[i], rtxCount[i]));
  });
  return { simulator: 'analytic', frames: out, handshakeMs };
}

function frameOut(sentMs: number, receivedMs: number | null, packetsLost: number, retransmissions: number): FrameOut {
  return { sentMs, receivedMs, latencyMs: receivedMs === null ? null : receivedMs - sentMs, packetsLost, retransmissions };
}
