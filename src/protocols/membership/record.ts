// Node records and heartbeats as plain data, with the wire codecs and every bound check.
// Decoding never throws to the caller: hostile bytes become a typed rejection with a reason.
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import * as Digest from 'multiformats/hashes/digest'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { NodeState, Span } from '../types.ts'
import type { PlannerSettings } from '../coverage/planner-settings.ts'
import { PROTOCOL_MAJOR } from '../version.ts'
import * as pb from './wire.ts'
import type { VerifiedRecords } from './verified-cache.ts'

export type ReachabilityKind = 'unknown' | 'direct' | 'mapped' | 'relayed'

export interface PetalsServerInfo {
  peerId: string
  multiaddrs: string[]
  torchDtype: string
  quantType: string
  adapters: string[]
  /** Bridge state of the server (BackendState): stopped, waiting, starting, loading, online, ... */
  state: string
  /**
   * Its hivemind DHT answers, so other Petals servers may bootstrap from `multiaddrs` (set from the
   * "Running a server on" line until the process stops). Absent in records of nodes that predate it.
   */
  dhtReady?: boolean
}

export interface NodeRecordData {
  protocol: number
  peerId: string
  instance: bigint
  seq: bigint
  timestampMs: number
  model: string
  totalBlocks: number
  span: Span | null
  state: NodeState
  loading: { done: number, total: number } | null
  capacity: number
  throughput: number
  hardware: { type: string, device: string, vramGb: number }
  publicName: string
  softwareVersion: string
  petals: PetalsServerInfo | null
  tokensSinceLast: number
  tokensTotal: number
  claimMs: number
  reachability: ReachabilityKind
  replication: number
  /** For a claim: what the node had before claiming (state, span). */
  prev: { state: NodeState, span: Span | null } | null
  /** The node's libp2p addresses, so any member can dial any other. */
  addrs: string[]
  /** How this server plans (absent: a client, or a server older than the field). */
  planner?: PlannerSettings | null
}

export interface HeartbeatData {
  instance: bigint
  seq: bigint
  timestampMs: number
  state: NodeState
  recordSeq: bigint
  loadingDone: number
  tokensSinceLast: number
}

export interface ObituaryData {
  subject: string
  subjectSeq: bigint
  timestampMs: number
}

/** Hard limits on what a peer can make us decode and store. Documented in docs/PROTOCOL.md. */
export const LIMITS = {
  maxRecordBytes: 4096,
  maxSignatureBytes: 128,
  maxReplication: 1000,
  maxHeartbeatBytes: 128,
  maxSwarmMessageBytes: 4096 + 256,
  maxString: 256,
  maxModelLength: 128,
  maxMultiaddrs: 16,
  maxAdapters: 16,
  maxTotalBlocks: 100_000,
  maxCapacity: 100_000,
  maxThroughput: 1e9,
  maxVramGb: 1e5,
  /** A message stamped further ahead than this (owner clock vs ours) is rejected. */
  maxFutureSkewMs: 30_000,
  /** Gossiped records older than this are ignored (they can only be replays). */
  maxRecordAgeMs: 10 * 60_000,
  maxHeartbeatAgeMs: 60_000,
  /** Planner settings: durations (30 days) and the rebalance gain factor. */
  maxPlannerMs: 30 * 86_400_000,
  maxPlannerGain: 1000,
  maxPlannerRevision: 1_000_000,
  /**
   * claim_ms may lie ahead of timestamp_ms (a join epoch, rounded up to max(slot, settleMs), plus the
   * round lead: at most a few minutes with settleMs and heartbeatMs ≤ 5 min), never by more than this.
   */
  maxClaimAheadMs: 15 * 60_000
} as const

const STATE_TO_CODE: Record<NodeState, pb.NodeStateCode> = {
  standby: pb.NodeStateCode.STANDBY,
  joining: pb.NodeStateCode.JOINING,
  loading: pb.NodeStateCode.LOADING,
  online: pb.NodeStateCode.ONLINE,
  leaving: pb.NodeStateCode.LEAVING,
  offline: pb.NodeStateCode.OFFLINE
}
const CODE_TO_STATE = new Map<string, NodeState>(Object.entries(STATE_TO_CODE).map(([k, v]) => [v, k as NodeState]))
const REACH_TO_CODE: Record<ReachabilityKind, pb.Reachability> = {
  unknown: pb.Reachability.UNKNOWN, direct: pb.Reachability.DIRECT, mapped: pb.Reachability.MAPPED, relayed: pb.Reachability.RELAYED
}
const CODE_TO_REACH = new Map<string, ReachabilityKind>(Object.entries(REACH_TO_CODE).map(([k, v]) => [v, k as ReachabilityKind]))

export function stateToCode (s: NodeState): pb.NodeStateCode { return STATE_TO_CODE[s] }
export function codeToState (c: pb.NodeStateCode | undefined): NodeState | undefined { return c == null ? undefined : CODE_TO_STATE.get(c) }

/** `ignore`: not provably hostile (an old copy, a skewed clock): drop without penalising the sender. */
export type Rejection = { ok: false, reason: string, ignore?: boolean }
export type Result<T> = { ok: true, value: T } | Rejection

function reject (reason: string, ignore = false): Rejection { return ignore ? { ok: false, reason, ignore } : { ok: false, reason } }

// ---- encoding ----

export function encodeRecord (r: NodeRecordData): Uint8Array {
  return pb.NodeRecord.encode({
    protocol: r.protocol,
    peerId: peerIdFromString(r.peerId).toMultihash().bytes,
    instance: r.instance,
    seq: r.seq,
    timestampMs: BigInt(Math.floor(r.timestampMs)),
    model: r.model,
    totalBlocks: r.totalBlocks,
    span: r.span ?? undefined,
    state: STATE_TO_CODE[r.state],
    loadingDone: r.loading?.done ?? 0,
    loadingTotal: r.loading?.total ?? 0,
    capacity: r.capacity,
    throughput: r.throughput,
    hardware: { type: r.hardware.type, device: r.hardware.device, vramGb: r.hardware.vramGb },
    publicName: r.publicName,
    softwareVersion: r.softwareVersion,
    petals: r.petals == null ? undefined : { ...r.petals },
    tokensSinceLast: BigInt(r.tokensSinceLast),
    tokensTotal: BigInt(r.tokensTotal),
    claimMs: BigInt(Math.floor(r.claimMs)),
    reachability: REACH_TO_CODE[r.reachability],
    replication: r.replication,
    prevState: r.prev == null ? undefined : STATE_TO_CODE[r.prev.state],
    prevSpan: r.prev?.span ?? undefined,
    addrs: r.addrs,
    planner: r.planner == null ? undefined : { ...r.planner, reloadMs: BigInt(Math.floor(r.planner.reloadMs)), cooldownMs: BigInt(Math.floor(r.planner.cooldownMs)) }
  })
}

export function encodeHeartbeat (h: HeartbeatData): Uint8Array {
  return pb.Heartbeat.encode({
    instance: h.instance,
    seq: h.seq,
    timestampMs: BigInt(Math.floor(h.timestampMs)),
    state: STATE_TO_CODE[h.state],
    recordSeq: h.recordSeq,
    loadingDone: h.loadingDone,
    tokensSinceLast: BigInt(h.tokensSinceLast)
  })
}

const RECORD_SIGNING_PREFIX = new TextEncoder().encode('petalmesh-record:')

function signingPayload (record: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_SIGNING_PREFIX.length + record.length)
  out.set(RECORD_SIGNING_PREFIX, 0)
  out.set(record, RECORD_SIGNING_PREFIX.length)
  return out
}

export async function signRecord (record: NodeRecordData, key: PrivateKey): Promise<pb.SignedRecord> {
  const bytes = encodeRecord(record)
  return { record: bytes as Uint8Array<ArrayBuffer>, signature: await key.sign(signingPayload(bytes)) as Uint8Array<ArrayBuffer> }
}

export function encodeSwarmMessage (m: pb.SwarmMessage): Uint8Array {
  return pb.SwarmMessage.encode(m)
}

export function encodeObituary (o: ObituaryData): pb.Obituary {
  return { subject: peerIdFromString(o.subject).toMultihash().bytes, subjectSeq: o.subjectSeq, timestampMs: BigInt(Math.floor(o.timestampMs)) }
}

// ---- decoding and validation ----

function safeDecode<T> (decode: () => T): Result<T> {
  try {
    return { ok: true, value: decode() }
  } catch (err) {
    return reject(`malformed protobuf: ${(err as Error).message}`)
  }
}

/** Peer id bytes → string, only for Ed25519 identity peer ids (their key is inline, so anyone can verify). */
export function peerIdFromBytes (bytes: Uint8Array): Result<string> {
  try {
    const id = peerIdFromMultihash(Digest.decode(bytes))
    if (id.type !== 'Ed25519') return reject(`peer id type ${id.type} not accepted (records need Ed25519 ids)`)
    return { ok: true, value: id.toString() }
  } catch (err) {
    return reject(`bad peer id bytes: ${(err as Error).message}`)
  }
}

function badString (s: string, max: number = LIMITS.maxString): boolean {
  // eslint-disable-next-line no-control-regex
  return s.length > max || /[\u0000-\u001f\u007f]/.test(s)
}

function validMultiaddr (s: string): boolean {
  if (badString(s)) return false
  try { multiaddr(s); return true } catch { return false }
}

export interface RecordContext {
  now: number
  /** The swarm this node follows; records of other swarms are rejected. */
  model: string
  /** Known block count of the model, when the node knows it. */
  totalBlocks?: number
  /** Skip the age check (snapshot entries carry their own freshness). */
  allowOld?: boolean
  /** Signatures already checked by this node: a hit skips the Ed25519 verify (see verified-cache.ts). */
  verified?: VerifiedRecords
}

/** Decodes and bound-checks a NodeRecord. Checks nothing about who sent it: see verifySignedRecord. */
export function decodeRecord (bytes: Uint8Array, ctx: RecordContext): Result<NodeRecordData> {
  if (bytes.length > LIMITS.maxRecordBytes) return reject(`record too large (${bytes.length} > ${LIMITS.maxRecordBytes} bytes)`)
  const d = safeDecode(() => pb.NodeRecord.decode(bytes, { limits: { addrs: LIMITS.maxMultiaddrs, petals: { multiaddrs: LIMITS.maxMultiaddrs, adapters: LIMITS.maxAdapters } } }))
  if (!d.ok) return d
  const r = d.value
  if (r.protocol !== PROTOCOL_MAJOR) return reject(`incompatible protocol version ${r.protocol} (this node speaks ${PROTOCOL_MAJOR})`)
  const peer = peerIdFromBytes(r.peerId)
  if (!peer.ok) return peer
  if (badString(r.model, LIMITS.maxModelLength) || r.model === '') return reject('bad model id')
  if (r.model !== ctx.model) return reject(`record for swarm ${JSON.stringify(r.model)}, expected ${JSON.stringify(ctx.model)}`)
  if (r.totalBlocks < 1 || r.totalBlocks > LIMITS.maxTotalBlocks) return reject(`total_blocks ${r.totalBlocks} out of range`)
  if (ctx.totalBlocks != null && r.totalBlocks !== ctx.totalBlocks) return reject(`total_blocks ${r.totalBlocks} differs from the swarm's ${ctx.totalBlocks}`)
  const state = codeToState(r.state)
  if (state == null) return reject('unknown state')
  if (r.capacity > LIMITS.maxCapacity) return reject(`capacity ${r.capacity} out of range`)
  let span: Span | null = null
  if (r.span != null) {
    span = { start: r.span.start, end: r.span.end }
    if (!(span.start < span.end && span.end <= r.totalBlocks)) return reject(`span ${span.start}:${span.end} outside [0, ${r.totalBlocks})`)
    if (span.end - span.start > r.capacity) return reject(`span ${span.start}:${span.end} longer than capacity ${r.capacity}`)
  }
  if (r.loadingDone > r.loadingTotal || r.loadingTotal > LIMITS.maxTotalBlocks) return reject('loading progress out of range')
  if (!Number.isFinite(r.throughput) || r.throughput < 0 || r.throughput > LIMITS.maxThroughput) return reject(`throughput ${r.throughput} out of range`)
  const hw = r.hardware ?? { type: '', device: '', vramGb: 0 }
  if (badString(hw.type) || badString(hw.device) || !Number.isFinite(hw.vramGb) || hw.vramGb < 0 || hw.vramGb > LIMITS.maxVramGb) return reject('bad hardware info')
  if (badString(r.publicName) || badString(r.softwareVersion)) return reject('bad public name or software version')
  let petals: PetalsServerInfo | null = null
  if (r.petals != null) {
    const p = r.petals
    if (badString(p.peerId) || badString(p.torchDtype) || badString(p.quantType) || badString(p.state)) return reject('bad petals info')
    if (p.multiaddrs.length > LIMITS.maxMultiaddrs || !p.multiaddrs.every(validMultiaddr)) return reject('bad petals multiaddrs')
    if (p.adapters.length > LIMITS.maxAdapters || p.adapters.some(a => badString(a))) return reject('bad petals adapters')
    petals = { peerId: p.peerId, multiaddrs: [...p.multiaddrs], torchDtype: p.torchDtype, quantType: p.quantType, adapters: [...p.adapters], state: p.state, ...(p.dhtReady != null ? { dhtReady: p.dhtReady } : {}) }
  }
  const timestampMs = Number(r.timestampMs)
  if (timestampMs > ctx.now + LIMITS.maxFutureSkewMs) return reject(`timestamp ${timestampMs - ctx.now} ms in the future`)
  if (ctx.allowOld !== true && timestampMs < ctx.now - LIMITS.maxRecordAgeMs) return reject('record too old (replay?)', true)
  if (r.claimMs > BigInt(timestampMs + LIMITS.maxClaimAheadMs)) return reject(`claim_ms ${Number(r.claimMs) - timestampMs} ms ahead of the record's timestamp (at most ${LIMITS.maxClaimAheadMs})`)
  if (r.tokensTotal > BigInt(Number.MAX_SAFE_INTEGER) || r.tokensSinceLast > r.tokensTotal + 1n) return reject('token counters out of range')
  if (r.replication > LIMITS.maxReplication) return reject('replication out of range')
  const reach = CODE_TO_REACH.get(r.reachability)
  if (reach == null) return reject('unknown reachability')
  if (r.addrs.length > LIMITS.maxMultiaddrs || !r.addrs.every(validMultiaddr)) return reject('bad node addresses')
  const prevState = r.prevState == null ? null : codeToState(r.prevState)
  if (r.prevState != null && prevState == null) return reject('unknown previous state')
  let planner: PlannerSettings | null = null
  if (r.planner != null) {
    const p = r.planner
    const reloadMs = Number(p.reloadMs); const cooldownMs = Number(p.cooldownMs)
    if (badString(p.name) || p.revision > LIMITS.maxPlannerRevision || p.settleMs > LIMITS.maxPlannerMs || reloadMs > LIMITS.maxPlannerMs ||
      cooldownMs > LIMITS.maxPlannerMs || !Number.isFinite(p.minGain) || p.minGain < 0 || p.minGain > LIMITS.maxPlannerGain) return reject('bad planner settings')
    planner = { revision: p.revision, name: p.name, settleMs: p.settleMs, minGain: p.minGain, reloadMs, cooldownMs }
  }
  let prevSpan: Span | null = null
  if (r.prevSpan != null) {
    prevSpan = { start: r.prevSpan.start, end: r.prevSpan.end }
    if (!(prevSpan.start < prevSpan.end && prevSpan.end <= r.totalBlocks)) return reject(`previous span ${prevSpan.start}:${prevSpan.end} outside [0, ${r.totalBlocks})`)
  }
  return {
    ok: true,
    value: {
      protocol: r.protocol,
      peerId: peer.value,
      instance: r.instance,
      seq: r.seq,
      timestampMs,
      model: r.model,
      totalBlocks: r.totalBlocks,
      span,
      state,
      loading: r.loadingTotal > 0 ? { done: r.loadingDone, total: r.loadingTotal } : null,
      capacity: r.capacity,
      throughput: r.throughput,
      hardware: { type: hw.type, device: hw.device, vramGb: hw.vramGb },
      publicName: r.publicName,
      softwareVersion: r.softwareVersion,
      petals,
      tokensSinceLast: Number(r.tokensSinceLast),
      tokensTotal: Number(r.tokensTotal),
      claimMs: Number(r.claimMs),
      reachability: reach,
      replication: r.replication,
      // A claim's previous state, kept while the claimed span loads and serves (see docs/PROTOCOL.md).
      prev: (state === 'joining' || state === 'loading' || state === 'online') && prevState != null ? { state: prevState, span: prevSpan } : null,
      addrs: [...r.addrs],
      planner
    }
  }
}

/** Verifies the owner's signature over a SignedRecord and decodes it. */
export async function verifySignedRecord (signed: pb.SignedRecord, ctx: RecordContext): Promise<Result<NodeRecordData>> {
  if (signed.record.length > LIMITS.maxRecordBytes || signed.signature.length > LIMITS.maxSignatureBytes) return reject('signed record too large')
  const rec = decodeRecord(signed.record, ctx)
  if (!rec.ok) return rec
  try {
    if (ctx.verified?.has(signed) === true) return rec
    const id = peerIdFromString(rec.value.peerId)
    // Ed25519 peer ids inline their public key (identity multihash), so the record proves its owner.
    const key = id.publicKey ?? publicKeyFromRaw(id.toMultihash().digest)
    const valid = await key.verify(signingPayload(signed.record), signed.signature)
    if (!valid) return reject('record signature does not verify against its peer id')
    ctx.verified?.add(signed)
  } catch (err) {
    return reject(`record signature check failed: ${(err as Error).message}`)
  }
  return rec
}

export function decodeSwarmMessage (bytes: Uint8Array): Result<pb.SwarmMessage> {
  if (bytes.length > LIMITS.maxSwarmMessageBytes) return reject(`message too large (${bytes.length} bytes)`)
  const d = safeDecode(() => pb.SwarmMessage.decode(bytes))
  if (!d.ok) return d
  const m = d.value
  if ((m.record == null) === (m.obituary == null)) return reject('swarm message must carry exactly one of record, obituary')
  return d
}

export function decodeHeartbeat (bytes: Uint8Array, now: number): Result<HeartbeatData> {
  if (bytes.length > LIMITS.maxHeartbeatBytes) return reject(`heartbeat too large (${bytes.length} bytes)`)
  const d = safeDecode(() => pb.Heartbeat.decode(bytes))
  if (!d.ok) return d
  const h = d.value
  const state = codeToState(h.state)
  if (state == null) return reject('unknown state')
  const timestampMs = Number(h.timestampMs)
  if (timestampMs > now + LIMITS.maxFutureSkewMs) return reject(`heartbeat ${timestampMs - now} ms in the future`)
  if (timestampMs < now - LIMITS.maxHeartbeatAgeMs) return reject('heartbeat too old (replay?)', true)
  if (h.loadingDone > LIMITS.maxTotalBlocks) return reject('loading progress out of range')
  if (h.tokensSinceLast > BigInt(Number.MAX_SAFE_INTEGER)) return reject('token counter out of range')
  return { ok: true, value: { instance: h.instance, seq: h.seq, timestampMs, state, recordSeq: h.recordSeq, loadingDone: h.loadingDone, tokensSinceLast: Number(h.tokensSinceLast) } }
}

export function decodeObituary (o: pb.Obituary, now: number): Result<ObituaryData> {
  const subject = peerIdFromBytes(o.subject)
  if (!subject.ok) return subject
  const timestampMs = Number(o.timestampMs)
  if (timestampMs > now + LIMITS.maxFutureSkewMs) return reject('obituary timestamp in the future')
  if (timestampMs < now - LIMITS.maxHeartbeatAgeMs) return reject('obituary too old', true)
  return { ok: true, value: { subject: subject.value, subjectSeq: o.subjectSeq, timestampMs } }
}
