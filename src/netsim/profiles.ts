// Network and compute (device / server) profiles: their schemas, defaults, semantic checks and
// the named YAML configs under configs/networks/ and configs/devices/.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { UsageError } from '../util/errors.js';
import { Problems } from '../config/errors.js';
import { checkSchema } from '../config/schema.js';
import { collectPositions } from '../config/tree.js';
import { parseYamlFile } from '../config/yaml-source.js';
import { namedConfigPath, namedConfigs } from '../config/named.js';

const closed = { additionalProperties: false } as const;

export const TcpOptionsSchema = Type.Object({
  rtoMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'minimum retransmission timeout (ms); default 200 as in the reference' })),
  initialCwnd: Type.Optional(Type.Integer({ minimum: 1, description: 'initial congestion window in segments; default 10 (RFC 6928)' })),
}, closed);

export const NetworkProfileSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1 })),
  description: Type.Optional(Type.String()),
  bandwidthMbps: Type.Number({ exclusiveMinimum: 0, description: 'link rate in Mbit/s (1e6 bit/s)' }),
  delayMs: Type.Number({ minimum: 0, description: 'one-way propagation delay in ms' }),
  lossRate: Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'probability that a data packet is lost, in [0, 1)' }),
  mtu: Type.Integer({ minimum: 128, maximum: 65535, description: 'link MTU in bytes (IP packet size)' }),
  transport: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
  chunkBytes: Type.Optional(Type.Integer({ minimum: 8, description: 'application write / datagram size; default 1010 as in the reference' })),
  tcp: Type.Optional(TcpOptionsSchema),
}, closed);
export type NetworkProfileInput = Static<typeof NetworkProfileSchema>;

/** A network profile with every default filled in. */
export interface NetworkProfile {
  name: string;
  description?: string;
  bandwidthMbps: number;
  delayMs: number;
  lossRate: number;
  mtu: number;
  transport: 'tcp' | 'udp';
  chunkBytes: number;
  tcp: { rtoMs: number; initialCwnd: number };
}

export const DeviceProfileSchema = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1 })),
  description: Type.Optional(Type.String()),
  relativeSpeed: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'times faster than the machine that measured the model (scales measured time)' })),
  effectiveGflops: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'sustained GFLOP/s on this kind of network (scales FLOPs)' })),
  overheadMs: Type.Optional(Type.Number({ minimum: 0, description: 'fixed per-inference overhead (ms)' })),
  memoryMB: Type.Number({ exclusiveMinimum: 0, description: 'memory available to the model (MiB)' }),
}, closed);
export type DeviceProfileInput = Static<typeof DeviceProfileSchema>;

export interface DeviceProfile {
  name: string;
  description?: string;
  /** Exactly one of relativeSpeed / effectiveGflops is set. */
  relativeSpeed?: number;
  effectiveGflops?: number;
  overheadMs: number;
  memoryMB: number;
}

export const DEFAULT_CHUNK_BYTES = 1010;
export const DEFAULT_RTO_MS = 200;
export const DEFAULT_INITIAL_CWND = 10;

/** Semantic checks beyond the schema; returns messages naming the field. */
export function networkProblems(p: Partial<NetworkProfileInput>): string[] {
  const out: string[] = [];
  if (typeof p.bandwidthMbps !== 'number' || !Number.isFinite(p.bandwidthMbps) || p.bandwidthMbps <= 0) {
    out.push(`bandwidthMbps must be a number > 0 (got ${JSON.stringify(p.bandwidthMbps)})`);
  }
  if (typeof p.delayMs !== 'number' || !Number.isFinite(p.delayMs) || p.delayMs < 0) {
    out.push(`delayMs must be a number >= 0 (got ${JSON.stringify(p.delayMs)})`);
  }
  if (typeof p.lossRate !== 'number' || !(p.lossRate >= 0 && p.lossRate < 1)) {
    out.push(`lossRate must be in [0, 1) (got ${JSON.stringify(p.lossRate)})`);
  }
  if (typeof p.mtu !== 'number' || !Number.isInteger(p.mtu) || p.mtu < 128) {
    out.push(`mtu must be an integer >= 128 (got ${JSON.stringify(p.mtu)})`);
  }
  if (p.transport !== 'tcp' && p.transport !== 'udp') out.push(`transport must be tcp or udp (got ${JSON.stringify(p.transport)})`);
  return out;
}

/** Validates a profile given inline (e.g. in stage params) and fills defaults; UsageError when bad. */
export function normalizeNetwork(input: NetworkProfileInput, fallbackName: string): NetworkProfile {
  const problems = [...schemaMessages(NetworkProfileSchema, input), ...networkProblems(input)];
  const name = input?.name ?? fallbackName;
  if (problems.length) throw new UsageError(`network profile "${name}": ${[...new Set(problems)].join('; ')}`);
  return {
    name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    bandwidthMbps: input.bandwidthMbps,
    delayMs: input.delayMs,
    lossRate: input.lossRate,
    mtu: input.mtu,
    transport: input.transport,
    chunkBytes: input.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    tcp: { rtoMs: input.tcp?.rtoMs ?? DEFAULT_RTO_MS, initialCwnd: input.tcp?.initialCwnd ?? DEFAULT_INITIAL_CWND },
  };
}

export function deviceProblems(p: Partial<DeviceProfileInput>): string[] {
  const out: string[] = [];
  const hasSpeed = p.relativeSpeed !== undefined;
  const hasFlops = p.effectiveGflops !== undefined;
  if (hasSpeed === hasFlops) out.push('give exactly one of relativeSpeed (scales measured time) or effectiveGflops (scales FLOPs)');
  if (hasSpeed && !(typeof p.relativeSpeed === 'number' && p.relativeSpeed > 0)) out.push(`relativeSpeed must be > 0 (got ${JSON.stringify(p.relativeSpeed)})`);
  if (hasFlops && !(typeof p.effectiveGflops === 'number' && p.effectiveGflops > 0)) out.push(`effectiveGflops must be > 0 (got ${JSON.stringify(p.effectiveGflops)})`);
  if (!(typeof p.memoryMB === 'number' && p.memoryMB > 0)) out.push(`memoryMB must be > 0 (got ${JSON.stringify(p.memoryMB)})`);
  return out;
}

export function normalizeDevice(input: DeviceProfileInput, fallbackName: string): DeviceProfile {
  const problems = [...schemaMessages(DeviceProfileSchema, input), ...deviceProblems(input)];
  const name = input?.name ?? fallbackName;
  if (problems.length) throw new UsageError(`device profile "${name}": ${[...new Set(problems)].join('; ')}`);
  return {
    name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.relativeSpeed !== undefined ? { relativeSpeed: input.relativeSpeed } : {}),
    ...(input.effectiveGflops !== undefined ? { effectiveGflops: input.effectiveGflops } : {}),
    overheadMs: input.overheadMs ?? 0,
    memoryMB: input.memoryMB,
  };
}

function schemaMessages(schema: TSchema, value: unknown): string[] {
  return checkSchema(schema, structuredClone(value), false).map((i) => (i.pointer ? `${i.pointer.slice(1).replace(/\//g, '.')}: ${i.message}` : i.message));
}

// ---------------------------------------------------------------------------------------------
// Named configs

export type ProfileKind = 'networks' | 'devices';

/** Names of the configs of one kind under `<root>/configs/<kind>/`, sorted. */
export function knownProfiles(root: string, kind: ProfileKind): string[] {
  return namedConfigs(root, kind);
}

/** The file of a named profile (src/config/named.ts, as for `use:` in a pipeline). */
export function profilePath(root: string, kind: ProfileKind, name: string): string {
  return namedConfigPath(root, `${kind}/${name}`);
}

/** Reads a named config file, checking its schema (errors with file:line). */
function readNamed(root: string, kind: ProfileKind, name: string, schema: TSchema, semantic: (v: any) => string[]): Record<string, unknown> {
  const known = knownProfiles(root, kind);
  const singular = kind === 'networks' ? 'network' : 'device';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || !known.includes(name)) {
    throw new UsageError(`unknown ${singular} "${name}" (known ${kind}: ${known.length ? known.join(', ') : 'none'}; configs/${kind}/*.yaml)`);
  }
  const file = profilePath(root, kind, name);
  const problems = new Problems();
  const parsed = parseYamlFile(file, problems, []);
  problems.throwIfAny();
  const value = parsed!.value as Record<string, unknown>;
  const positions = collectPositions(parsed!.value, parsed!.origin);
  for (const issue of checkSchema(schema, structuredClone(value), false)) {
    const pos = positions.get(issue.pointer);
    problems.add(issue.atKey ? pos?.key ?? pos?.value : pos?.value ?? parsed!.origin, issue.pointer.split('/').slice(1), issue.message);
  }
  problems.throwIfAny();
  for (const message of semantic(value)) problems.add(parsed!.origin, [], message);
  problems.throwIfAny();
  return value;
}

export function loadNetwork(root: string, name: string): NetworkProfile {
  const v = readNamed(root, 'networks', name, NetworkProfileSchema, networkProblems) as NetworkProfileInput;
  return normalizeNetwork({ ...v, name: v.name ?? name }, name);
}

export function loadDevice(root: string, name: string): DeviceProfile {
  const v = readNamed(root, 'devices', name, DeviceProfileSchema, deviceProblems) as DeviceProfileInput;
  return normalizeDevice({ ...v, name: v.name ?? name }, name);
}

/** A profile given by name (read from configs/) or inline (already an object). */
export function resolveNetwork(root: string, ref: string | NetworkProfileInput, index = 0): NetworkProfile {
  return typeof ref === 'string' ? loadNetwork(root, ref) : normalizeNetwork(ref, `network-${index}`);
}

export function resolveDevice(root: string, ref: string | DeviceProfileInput, index = 0): DeviceProfile {
  return typeof ref === 'string' ? loadDevice(root, ref) : normalizeDevice(ref, `device-${index}`);
}

// ---------------------------------------------------------------------------------------------
// Derived link quantities shared by both simulators

/** Bytes the point-to-point link adds to every IP packet (PPP header, as ns-3 does). */
export const LINK_HEADER_BYTES = 2;
/** IPv4 (20) + TCP (20) + timestamp option (12): the header bytes of every TCP segment. */
export const TCP_IP_HEADER_BYTES = 52;
/** IPv4 (20) + UDP (8). */
export const UDP_IP_HEADER_BYTES = 28;
/** SYN and SYN-ACK with their options (MSS, window scale, SACK-permitted, timestamps), on the wire. */
export const TCP_SYN_WIRE_BYTES = 58;

export function tcpMss(net: Pick<NetworkProfile, 'mtu'>): number {
  return net.mtu - TCP_IP_HEADER_BYTES;
}

/** UDP payload per datagram: the chunk, capped so a datagram never needs IP fragmentation. */
export function udpDatagramPayload(net: Pick<NetworkProfile, 'mtu' | 'chunkBytes'>): number {
  return Math.max(8, Math.min(net.chunkBytes, net.mtu - UDP_IP_HEADER_BYTES));
}

/** Time (ms) to serialise `bytes` on the wire at the profile's rate. */
export function serialMs(net: Pick<NetworkProfile, 'bandwidthMbps'>, bytes: number): number {
  return (bytes * 8) / (net.bandwidthMbps * 1e3);
}
