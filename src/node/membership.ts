// Swarm membership over libp2p: publishes this node's record and heartbeats, validates what
// others publish, keeps the swarm view, detects failures, serves and fetches snapshots, and
// advertises the swarm in the DHT. The rules themselves live in swarm-view.ts and record.ts.
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { NodeState, Span } from '../protocols/types.ts'
import type { PlannerSettings } from '../protocols/coverage/planner-settings.ts'
import { PROTOCOL_MAJOR } from '../protocols/version.ts'
import {
  decodeHeartbeat, decodeObituary, decodeSwarmMessage, encodeHeartbeat, encodeObituary, encodeSwarmMessage,
  signRecord, stateToCode, verifySignedRecord, codeToState,
  type NodeRecordData, type PetalsServerInfo, type ReachabilityKind
} from '../protocols/membership/record.ts'
import type { SignedRecord, SnapshotEntry, SnapshotResponse } from '../protocols/membership/membership.ts'
import { swarmCid, swarmTopics, type SwarmTopics } from '../protocols/membership/topics.ts'
import { SNAPSHOT_PROTOCOL, fetchSnapshotOverStream, serveSnapshot } from '../protocols/snapshot/snapshot.ts'
import { processVerifiedRecords } from '../protocols/membership/verified-cache.ts'
import { stalledSince, watchLoopStalls } from './loop-stall.ts'
import { SwarmView, computeCoverage, type SwarmEvent, type CoverageSummary } from './swarm-view.ts'
import { SOFTWARE_VERSION, type GossipSubRuntime, type PetalmeshLibp2p } from './libp2p.ts'
import { PetalmeshError } from '../util/errors.ts'
import type { GossipLimits } from './trust/limits.ts'


/** What this node says about itself. */
export interface SelfState {
  state: NodeState
  span: Span | null
  loading: { done: number, total: number } | null
  capacity: number
  throughput: number
  hardware: { type: string, device: string, vramGb: number }
  publicName: string
  petals: PetalsServerInfo | null
  tokensTotal: number
  tokensSinceLast: number
  claimMs: number
  reachability: ReachabilityKind
  replication: number
  /** For a claim: the state and span before claiming. */
  prev: { state: NodeState, span: Span | null } | null
  /** How this server plans (null for clients): announced so servers can spot a swarm that plans two ways. */
  planner?: PlannerSettings | null
}

export interface MembershipTiming {
  heartbeatMs: number
  recordRefreshMs: number
  suspectAfterMs: number
  offlineAfterMs: number
  tombstoneMs: number
  pingTimeoutMs: number
  selfCheckMs: number
  provideIntervalMs: number
  /**
   * Swarm-wide heartbeats per second to aim for: each node's period is stretched to
   * max(heartbeatMs, (members / maxHeartbeatRate) s), so a node's bandwidth stays bounded as the
   * swarm grows. Silence timeouts stretch by the same factor.
   */
  maxHeartbeatRate: number
}

/** Confirming pings spoiled by our own stalls before the check is abandoned (9.5). */
const MAX_SPOILED_PINGS = 3
/** Periodic timers (heartbeat, record refresh, self-check) wait their period ±10%. */
const JITTER = 0.1
/** Stretched record refresh and self-check periods stop here: half the record age window (10 min). */
const MAX_STRETCHED_MS = 5 * 60_000

/** Defaults; the README explains how they were chosen. */
export const DEFAULT_TIMING: MembershipTiming = {
  heartbeatMs: 2000,
  recordRefreshMs: 30_000,
  suspectAfterMs: 5000,
  offlineAfterMs: 10_000,
  tombstoneMs: 15 * 60_000,
  pingTimeoutMs: 1000,
  selfCheckMs: 30_000,
  provideIntervalMs: 10 * 60_000,
  maxHeartbeatRate: 10
}

export interface MembershipOptions {
  libp2p: PetalmeshLibp2p
  privateKey: PrivateKey
  model: string
  /** Block count of the model; null for a client that learns it from the first valid record. */
  totalBlocks: number | null
  /** Clients follow the swarm but publish nothing and provide nothing. */
  role: 'server' | 'client'
  timing?: Partial<MembershipTiming>
  self?: Partial<SelfState>
  log: Logger
  now?: () => number
  /** Admission policy: records and heartbeats of peers it refuses are rejected (and counted). */
  admitted?: (peerId: string) => boolean
  /** Per-peer and per-author gossip rate limits; excess is rejected (or ignored when relayed) and counted. */
  gossipLimits?: GossipLimits
  /** Called for every rejected message or stream, with the peer that sent it (penalties, metrics). */
  onReject?: (peer: string, reason: string) => void
}

export interface MembershipStats {
  published: { records: number, heartbeats: number, obituaries: number }
  received: { records: number, heartbeats: number, obituaries: number }
  /** Heartbeats accepted from each sender (delivery accounting). */
  heartbeatsFrom: Map<string, number>
  ignored: number
  rejected: number
  rejectedByPeer: Map<string, number>
  rejectReasons: Map<string, number>
  bytesPublished: number
  bytesReceived: number
  snapshotsServed: number
  snapshotsFetched: number
  lastHeartbeatDelayMs: number
}

export class TwinError extends PetalmeshError {
  constructor (peerId: string, via: string) {
    super(`identity ${peerId} is already live in the swarm (another process is using this identity; seen via ${via}). Stop the other petalmesh process, or start this one with a different --data-dir (a new identity).`, { exitCode: 2 })
    this.name = 'TwinError'
  }
}

interface MembershipEvents {
  swarm: [SwarmEvent]
  /** Every accepted heartbeat (author, seq): lets tests and the simulator count delivery exactly. */
  heartbeat: [string, bigint]
  'self-published': [NodeRecordData]
  'heartbeat-published': [bigint]
}

/** Seq numbers grow across restarts: seeded from the wall clock in microseconds. */
function createSeqCounter (now: () => number): () => bigint {
  let last = 0n
  return () => {
    const t = BigInt(Math.floor(now())) * 1000n
    last = t > last ? t : last + 1n
    return last
  }
}

export class Membership extends EventEmitter<MembershipEvents> {
  readonly view: SwarmView
  readonly topics: SwarmTopics
  readonly instance: bigint
  readonly stats: MembershipStats
  readonly timing: MembershipTiming
  private readonly opts: MembershipOptions
  private readonly log: Logger
  private readonly now: () => number
  private readonly nextSeq: () => bigint
  private self: SelfState
  private lastRecord: NodeRecordData | null = null
  private lastSigned: SignedRecord | null = null
  private readonly timers: Array<ReturnType<typeof setInterval>> = []
  private readonly confirming = new Set<string>()
  private readonly verified = processVerifiedRecords()
  private readonly fetchCooldown = new Map<string, number>()
  private readonly syncing = new Map<string, Promise<boolean>>()
  /** Snapshots fetched by the first syncs, kept until the twin check has read them (then null). */
  private startupSnapshots: Map<string, { at: number, res: SnapshotResponse }> | null = new Map()
  private readonly recordFetches = new Set<string>()
  private running = false
  private blocks: number | null
  private announced = false
  private synced = false
  private refreshCursor = 0
  private startedAt = 0
  private lastHeartbeatAt = 0
  private releaseStallWatch: () => void = () => {}
  private readonly pendingTimers = new Set<ReturnType<typeof setTimeout>>()
  private lastHeartbeatWaitMs = 0
  private lastHeartbeatSeq = 0n
  private provideRetries = 0
  private provideRetryPending = false
  private readonly addrsLearned = new Map<string, string>()
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => { this.handleDisconnect(evt.detail.toString()) }
  private readonly onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => { this.handleIdentify(evt.detail.peerId.toString(), evt.detail.protocols) }
  private readonly onMessage = (evt: CustomEvent<Message>): void => { this.stats.bytesReceived += evt.detail.data.length }

  constructor (opts: MembershipOptions) {
    super()
    this.opts = opts
    this.blocks = opts.totalBlocks
    this.log = opts.log
    this.now = opts.now ?? Date.now
    this.nextSeq = createSeqCounter(this.now)
    this.timing = { ...DEFAULT_TIMING, ...opts.timing }
    // 63 bits: protons decodes fixed64 as a signed bigint, so the top bit would not round-trip.
    this.instance = randomBytes(8).readBigUInt64BE() >> 1n
    this.topics = swarmTopics(opts.model)
    this.self = {
      state: 'standby',
      span: null,
      loading: null,
      capacity: 0,
      throughput: 0,
      hardware: { type: 'cpu', device: '', vramGb: 0 },
      publicName: '',
      petals: null,
      tokensTotal: 0,
      tokensSinceLast: 0,
      claimMs: 0,
      reachability: 'unknown',
      replication: 1,
      prev: null,
      ...opts.self
    }
    this.view = new SwarmView({
      model: opts.model,
      totalBlocks: opts.totalBlocks ?? 0,
      selfPeerId: opts.libp2p.peerId.toString(),
      selfInstance: this.instance,
      suspectAfterMs: this.timing.suspectAfterMs,
      offlineAfterMs: this.timing.offlineAfterMs,
      tombstoneMs: this.timing.tombstoneMs
    })
    this.stats = {
      published: { records: 0, heartbeats: 0, obituaries: 0 },
      received: { records: 0, heartbeats: 0, obituaries: 0 },
      heartbeatsFrom: new Map(),
      ignored: 0,
      rejected: 0,
      rejectedByPeer: new Map(),
      rejectReasons: new Map(),
      bytesPublished: 0,
      bytesReceived: 0,
      snapshotsServed: 0,
      snapshotsFetched: 0,
      lastHeartbeatDelayMs: 0
    }
  }

  get peerId (): string { return this.opts.libp2p.peerId.toString() }
  get model (): string { return this.opts.model }
  get totalBlocks (): number { return this.blocks ?? 0 }
  get role (): 'server' | 'client' { return this.opts.role }
  selfState (): Readonly<SelfState> { return this.self }
  selfRecord (): NodeRecordData | null { return this.lastRecord }
  coverage (): CoverageSummary {
    const members = this.view.memberInfos()
    if (this.opts.role === 'server') members.push({ peerId: this.peerId, state: this.self.state, span: this.self.span, capacity: this.self.capacity, throughput: this.self.throughput })
    return computeCoverage(members, this.blocks ?? 0)
  }

  async start (): Promise<void> {
    const { libp2p } = this.opts
    const pubsub = libp2p.services.pubsub
    this.running = true
    this.startedAt = this.now()
    this.releaseStallWatch = watchLoopStalls()
    pubsub.topicValidators.set(this.topics.records, async (from, msg) => await this.validateSwarmMessage(from, msg))
    pubsub.topicValidators.set(this.topics.heartbeats, (from, msg) => this.validateHeartbeat(from, msg))
    pubsub.addEventListener('message', this.onMessage)
    pubsub.subscribe(this.topics.records)
    pubsub.subscribe(this.topics.heartbeats)
    await libp2p.handle(SNAPSHOT_PROTOCOL, async (stream, connection) => {
      this.stats.snapshotsServed++
      await serveSnapshot(stream, (req) => this.answerSnapshot(req.model, req.includeDeparted), {
        onReject: (reason) => { this.countReject(connection.remotePeer.toString(), reason) }
      })
    }, { maxInboundStreams: 16, force: true, runOnLimitedConnection: true }) // NATed peers may only reach us through a relay
    libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    libp2p.addEventListener('peer:identify', this.onIdentify)

    const tickMs = Math.max(50, Math.floor(this.timing.heartbeatMs / 4))
    let lastTickAt = this.now()
    this.timers.push(setInterval(() => {
      const now = this.now()
      // A late tick means this process stalled (CPU starvation, GC, suspend): heartbeats that
      // arrived meanwhile still wait in its queues, and timers run before I/O. Silence during
      // our own stall is no evidence against a peer, so it does not count towards its timeouts.
      const stall = now - lastTickAt - tickMs
      lastTickAt = now
      if (stall > tickMs) this.view.excuseSilence(stall, now)
      // Peers stretch their heartbeat period with the swarm's size; stretch our patience to match.
      const factor = this.stretchFactor()
      this.view.setTimeouts(Math.round(this.timing.suspectAfterMs * factor), Math.round(this.timing.offlineAfterMs * factor))
      this.verified.atLeast(Math.max(1024, 4 * (this.view.size() + 1)))
      this.emitAll(this.view.tick(now))
    }, tickMs))
    // Peers we are already connected to give us a snapshot.
    for (const p of libp2p.getPeers()) void this.syncFrom(p.toString())
  }

  /** Starts publishing this node's record and heartbeats (servers only), after the twin check. */
  async announce (): Promise<void> {
    if (!this.running || this.announced) return
    this.announced = true
    this.startupSnapshots = null
    if (this.opts.role === 'server') {
      this.repeat(() => this.heartbeatPeriodMs(), () => { void this.publishHeartbeat() }, (ms) => { this.lastHeartbeatWaitMs = ms })
      // Refresh and self-check stretch with the heartbeat period (each costs every member a
      // signature check or a snapshot), up to half the record age window.
      const stretched = (base: number) => (): number => Math.max(base, Math.min(base * this.stretchFactor(), MAX_STRETCHED_MS))
      this.repeat(stretched(this.timing.recordRefreshMs), () => { void this.publishRecord() })
      this.repeat(stretched(this.timing.selfCheckMs), () => { void this.checkSelfVisible() })
      this.timers.push(setInterval(() => { void this.provide() }, this.timing.provideIntervalMs))
      await this.publishRecord()
      this.republishOnceMeshed()
      void this.provide()
    }
  }

  /**
   * Resolves once a record published now would reach at least one peer (some connected peer is
   * subscribed to the records topic), or after `timeoutMs`. Right after connecting, peers'
   * subscriptions are not known yet and a publish goes nowhere.
   */
  async publishable (timeoutMs = 5000): Promise<boolean> {
    const pubsub = this.opts.libp2p.services.pubsub
    const ready = (): boolean => pubsub.getSubscribers(this.topics.records).length > 0
    // Alone (the first node of a swarm): nobody to reach, nothing to wait for.
    const alone = (): boolean => this.opts.libp2p.getPeers().length === 0
    const deadline = this.now() + timeoutMs
    while (this.running && !ready() && !alone() && this.now() < deadline) await new Promise(resolve => setTimeout(resolve, 25))
    return ready()
  }

  /**
   * A record published before this node has a gossipsub mesh on the records topic reaches only
   * its direct peers (and in a cold start, when everyone announces at once, nobody's mesh is
   * formed yet). Publish it once more as soon as the mesh exists, instead of leaving the rest of
   * the swarm to learn it from the (stretched) refresh or a snapshot.
   */
  private republishOnceMeshed (): void {
    const pubsub = this.opts.libp2p.services.pubsub as GossipSubRuntime
    if (typeof pubsub.getMeshPeers !== 'function') return
    const meshed = (): boolean => pubsub.getMeshPeers(this.topics.records).length > 0
    const wasMeshed = meshed()
    const deadline = this.now() + 30_000
    const check = (): void => {
      if (!this.running) return
      if (meshed()) {
        // Give the mesh a moment to fill beyond its first peer.
        setTimeout(() => { void this.publishRecord() }, 200).unref()
        return
      }
      if (this.now() < deadline) setTimeout(check, 250).unref()
    }
    if (!wasMeshed) check()
  }

  /** Graceful stop: a final leaving record first, so peers drop us at once instead of timing out. */
  async stop (opts: { graceful?: boolean } = {}): Promise<void> {
    if (!this.running) return
    this.running = false
    this.releaseStallWatch()
    for (const t of this.timers) clearInterval(t)
    this.timers.length = 0
    for (const t of this.pendingTimers) clearTimeout(t)
    this.pendingTimers.clear()
    const { libp2p } = this.opts
    if (opts.graceful !== false && this.opts.role === 'server') {
      this.self = { ...this.self, state: 'leaving' }
      await this.publishRecord(true).catch(() => {})
      // Let the leaving record reach the wire before the connections close (a busy event loop
      // can hold it in a stream queue; peers that miss it still see the disconnect within ~1 s).
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    libp2p.removeEventListener('peer:identify', this.onIdentify)
    libp2p.services.pubsub.removeEventListener('message', this.onMessage)
    try {
      libp2p.services.pubsub.unsubscribe(this.topics.records)
      libp2p.services.pubsub.unsubscribe(this.topics.heartbeats)
      await libp2p.unhandle(SNAPSHOT_PROTOCOL)
    } catch {}
  }

  /**
   * Changes our own state and publishes a record if peers need to know. `publish` forces a record
   * for a change that would otherwise ride on the next one (the negotiator asks for it when a real
   * Petals server is launched and when its DHT comes up or goes: other servers bootstrap from it).
   */
  async updateSelf (patch: Partial<SelfState>, opts: { publish?: boolean } = {}): Promise<void> {
    const prev = this.self
    const next = { ...prev, ...patch }
    const changed = JSON.stringify(next) !== JSON.stringify(prev)
    this.self = next
    // Loading progress alone rides on heartbeats (loading_done): a full record per loaded block
    // would make every peer re-plan for nothing. Likewise the Petals server's own steps before we
    // serve (starting, loading): routes take online servers only, and the ONLINE record carries
    // them (the steps a real server's peers bootstrap from are published on request, see above). In
    // a cold start these steps were half of all records, each one a signature check on every member.
    const loadingStep = (s: SelfState): string => JSON.stringify({ ...s, loading: s.loading?.total ?? null, petals: s.state === 'online' ? s.petals : null })
    const onlyProgress = changed && loadingStep(next) === loadingStep(prev) && opts.publish !== true
    if (changed && !onlyProgress && this.running && this.announced && this.opts.role === 'server') await this.publishRecord()
  }

  // ---- publishing ----

  private buildRecord (): NodeRecordData {
    const s = this.self
    return {
      protocol: PROTOCOL_MAJOR,
      peerId: this.peerId,
      instance: this.instance,
      seq: this.nextSeq(),
      timestampMs: this.now(),
      model: this.opts.model,
      totalBlocks: this.blocks ?? 0,
      span: s.span,
      state: s.state,
      loading: s.loading,
      capacity: s.capacity,
      throughput: s.throughput,
      hardware: s.hardware,
      publicName: s.publicName,
      softwareVersion: SOFTWARE_VERSION,
      petals: s.petals,
      tokensSinceLast: s.tokensSinceLast,
      tokensTotal: s.tokensTotal,
      claimMs: s.claimMs,
      reachability: s.reachability,
      replication: s.replication,
      prev: s.prev,
      addrs: this.opts.libp2p.getMultiaddrs().slice(0, 16).map(String),
      planner: s.planner ?? null
    }
  }

  async publishRecord (force = false): Promise<void> {
    if (!this.running && !force) return
    const record = this.buildRecord()
    const signed = await signRecord(record, this.opts.privateKey)
    this.lastRecord = record
    this.lastSigned = signed
    const data = encodeSwarmMessage({ record: signed })
    await this.publish(this.topics.records, data)
    this.stats.published.records++
    this.emit('self-published', record)
  }

  async publishHeartbeat (): Promise<void> {
    if (!this.running || this.lastRecord == null) return
    const now = this.now()
    if (this.lastHeartbeatAt !== 0) this.stats.lastHeartbeatDelayMs = Math.max(0, now - this.lastHeartbeatAt - this.lastHeartbeatWaitMs)
    this.lastHeartbeatAt = now
    this.lastHeartbeatSeq = this.nextSeq()
    const data = encodeHeartbeat({
      instance: this.instance,
      seq: this.lastHeartbeatSeq,
      timestampMs: now,
      state: this.self.state,
      recordSeq: this.lastRecord.seq,
      loadingDone: this.self.loading?.done ?? 0,
      tokensSinceLast: this.self.tokensSinceLast
    })
    const seq = this.lastHeartbeatSeq
    await this.publish(this.topics.heartbeats, data)
    this.stats.published.heartbeats++
    this.emit('heartbeat-published', seq)
  }

  private async publish (topic: string, data: Uint8Array): Promise<void> {
    try {
      const res = await this.opts.libp2p.services.pubsub.publish(topic, data)
      this.stats.bytesPublished += data.length * Math.max(1, res.recipients.length)
    } catch (err) {
      if (this.running) this.log.debug({ err: (err as Error).message, topic }, 'publish failed')
    }
  }

  // ---- validation (gossipsub topic validators) ----

  private countReject (peer: string, reason: string): void {
    this.stats.rejected++
    this.stats.rejectedByPeer.set(peer, (this.stats.rejectedByPeer.get(peer) ?? 0) + 1)
    const key = reason.replace(/[0-9]+/g, 'N').slice(0, 80)
    this.stats.rejectReasons.set(key, (this.stats.rejectReasons.get(key) ?? 0) + 1)
    this.log.debug({ peer, reason }, 'rejected message')
    try { this.opts.onReject?.(peer, reason) } catch { /* accounting must never break validation */ }
  }

  private rejectMsg (from: PeerId, rejection: { reason: string, ignore?: boolean }): TopicValidatorResult {
    if (rejection.ignore === true) {
      this.stats.ignored++
      return TopicValidatorResult.Ignore
    }
    this.countReject(from.toString(), rejection.reason)
    return TopicValidatorResult.Reject
  }

  private async validateSwarmMessage (from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const limits = this.opts.gossipLimits
    const over = limits?.checkPeer('records', from.toString(), this.now())
    if (over != null) return this.rejectMsg(from, over)
    if (msg.type !== 'signed') return this.rejectMsg(from, { reason: 'unsigned message' })
    if (this.opts.admitted?.(msg.from.toString()) === false) return this.rejectMsg(from, { reason: 'author not admitted', ignore: true })
    const decoded = decodeSwarmMessage(msg.data)
    if (!decoded.ok) return this.rejectMsg(from, decoded)
    const now = this.now()
    const kind = decoded.value.record != null ? 'records' : 'obituaries'
    const authorOver = limits?.checkAuthor(kind, msg.from.toString(), from.toString(), now)
    if (authorOver != null) return this.rejectMsg(from, authorOver)
    if (decoded.value.record != null) {
      const rec = await verifySignedRecord(decoded.value.record, { now, model: this.opts.model, totalBlocks: this.blocks ?? undefined, verified: this.verified })
      if (!rec.ok) return this.rejectMsg(from, rec)
      // The record's owner must be the gossipsub-verified author: nobody speaks for another node.
      if (rec.value.peerId !== msg.from.toString()) return this.rejectMsg(from, { reason: 'record owner differs from message author' })
      this.learnBlocks(rec.value.totalBlocks)
      const { outcome, events } = this.view.applyRecord(rec.value, decoded.value.record, now, { kind: 'gossip' })
      this.emitAll(events)
      if (outcome === 'applied') this.stats.received.records++
      else this.stats.ignored++
      return outcome === 'applied' ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
    }
    const ob = decodeObituary(decoded.value.obituary!, now)
    if (!ob.ok) return this.rejectMsg(from, ob)
    this.stats.received.obituaries++
    this.handleObituary(ob.value.subject, ob.value.subjectSeq, msg.from.toString())
    return TopicValidatorResult.Accept
  }

  private validateHeartbeat (from: PeerId, msg: Message): TopicValidatorResult {
    const limits = this.opts.gossipLimits
    const over = limits?.checkPeer('heartbeats', from.toString(), this.now())
    if (over != null) return this.rejectMsg(from, over)
    if (msg.type !== 'signed') return this.rejectMsg(from, { reason: 'unsigned message' })
    if (this.opts.admitted?.(msg.from.toString()) === false) return this.rejectMsg(from, { reason: 'author not admitted', ignore: true })
    const authorOver = limits?.checkAuthor('heartbeats', msg.from.toString(), from.toString(), this.now())
    if (authorOver != null) return this.rejectMsg(from, authorOver)
    const hb = decodeHeartbeat(msg.data, this.now())
    if (!hb.ok) return this.rejectMsg(from, hb)
    const author = msg.from.toString()
    const { outcome, events, needRecord } = this.view.applyHeartbeat(author, hb.value, this.now())
    this.emitAll(events)
    if (outcome === 'stale' || outcome === 'tombstoned' || outcome === 'twin') {
      this.stats.ignored++
      return TopicValidatorResult.Ignore
    }
    if (outcome === 'applied' || outcome === 'unknown-member') {
      this.stats.received.heartbeats++
      this.stats.heartbeatsFrom.set(author, (this.stats.heartbeatsFrom.get(author) ?? 0) + 1)
      if (this.listenerCount('heartbeat') > 0) this.emit('heartbeat', author, hb.value.seq)
    }
    if (needRecord) void this.fetchRecordOf(author, from.toString())
    return TopicValidatorResult.Accept
  }

  private emitAll (events: SwarmEvent[]): void {
    for (const e of events) {
      if (e.type === 'member-joined' || e.type === 'member-updated' || e.type === 'member-back') this.learnAddrs(e.member.peerId, e.member.record.addrs)
      if (e.type === 'member-offline') this.log.info({ peer: e.peerId, reason: e.reason }, 'member offline')
      else if (e.type === 'member-left') this.log.info({ peer: e.peerId }, 'member left')
      else if (e.type === 'member-joined') this.log.info({ peer: e.peerId, span: e.member.record.span, state: e.member.state }, 'member joined')
      else if (e.type === 'member-back') this.log.info({ peer: e.peerId }, 'member back online')
      else if (e.type === 'twin-detected') this.log.error({ peer: e.peerId }, 'another process is publishing with this node\'s identity')
      this.emit('swarm', e)
    }
  }

  // ---- liveness ----

  private handleDisconnect (peer: string): void {
    if (!this.running) return
    const m = this.view.get(peer)
    // A member already suspect (late heartbeats) whose connection now closes is all the more
    // worth confirming: its neighbours' obituaries are what spare the rest the silence timeout.
    if (m == null || (m.liveness !== 'alive' && m.liveness !== 'suspect')) return
    this.emitAll(this.view.markSuspect(peer, 'connection closed'))
    void this.confirm(peer, 'connection closed', true)
  }

  private handleObituary (subject: string, subjectSeq: bigint, reporter: string): void {
    if (subject === this.peerId) {
      // Somebody thinks we are gone: make sure they hear from us.
      void this.publishHeartbeat()
      return
    }
    const m = this.view.get(subject)
    if (m == null || (m.liveness !== 'alive' && m.liveness !== 'suspect')) return
    const seen = m.heartbeatSeq > m.recordSeq ? m.heartbeatSeq : m.recordSeq
    // We heard the subject after the reporter lost it, and recently: not our problem to confirm.
    if (seen > subjectSeq && this.now() - m.lastHeardMs < this.heartbeatPeriodMs()) return
    void this.confirm(subject, `reported unreachable by ${reporter}`, false)
  }

  /** Pings a suspect member; on failure declares it offline (and tells the swarm if we saw it drop). */
  private async confirm (peer: string, reason: string, announce: boolean): Promise<void> {
    if (this.confirming.has(peer)) return
    this.confirming.add(peer)
    try {
      // A refused dial is a definite answer; a timeout may only be a busy event loop (ours or
      // theirs), so it gets one more try before we declare the member offline. A timeout during
      // which this process itself stalled is no answer at all: it is retried, and if our stalls
      // keep spoiling the check, the member is left to the silence timers (which excuse stalls).
      let timeouts = 0
      let spoiled = 0
      for (;;) {
        const t0 = Date.now()
        try {
          await this.opts.libp2p.services.ping.ping(peerIdFromString(peer), { signal: AbortSignal.timeout(this.timing.pingTimeoutMs) })
          break
        } catch (err) {
          const timedOut = Date.now() - t0 >= this.timing.pingTimeoutMs * 0.9
          if (!timedOut || !this.running) throw err
          if (stalledSince(t0) >= this.timing.pingTimeoutMs / 2) {
            if (++spoiled >= MAX_SPOILED_PINGS) return
          } else if (++timeouts >= 2) {
            throw err
          }
        }
      }
      this.view.markReachable(peer, this.now())
    } catch {
      if (!this.running) return
      const m = this.view.get(peer)
      this.emitAll(this.view.markOffline(peer, `${reason}, ping failed`, this.now()))
      if (announce && m != null && this.opts.role === 'server') {
        const seq = m.heartbeatSeq > m.recordSeq ? m.heartbeatSeq : m.recordSeq
        const data = encodeSwarmMessage({ obituary: encodeObituary({ subject: peer, subjectSeq: seq, timestampMs: this.now() }) })
        await this.publish(this.topics.records, data)
        this.stats.published.obituaries++
      }
    } finally {
      this.confirming.delete(peer)
    }
  }

  private handleIdentify (peer: string, protocols: string[]): void {
    if (!this.running) return
    // A peer that speaks only other majors of our snapshot protocol would half-understand us.
    const snapshotVersions = protocols.filter(p => p.startsWith('/petalmesh/snapshot/'))
    const major = (p: string): number => Number(p.split('/')[3]?.split('.')[0])
    if (snapshotVersions.length > 0 && !snapshotVersions.some(p => major(p) === PROTOCOL_MAJOR)) {
      const ours = snapshotVersions
      this.log.warn({ peer, protocols: ours }, `peer speaks an incompatible petalmesh protocol version (this node speaks ${SNAPSHOT_PROTOCOL}); disconnecting`)
      void this.opts.libp2p.hangUp(peerIdFromString(peer)).catch(() => {})
      return
    }
    if (!this.synced && protocols.includes(SNAPSHOT_PROTOCOL)) void this.syncFrom(peer)
  }

  // ---- snapshots ----

  private answerSnapshot (model: string, includeDeparted: boolean): SnapshotResponse {
    if (model !== this.opts.model) return { protocol: PROTOCOL_MAJOR, model, entries: [], error: `this node follows swarm ${JSON.stringify(this.opts.model)}, not ${JSON.stringify(model)}` }
    const now = this.now()
    const entries: SnapshotEntry[] = []
    if (this.opts.role === 'server' && this.lastSigned != null && this.lastRecord != null) {
      entries.push({ record: this.lastSigned, liveness: stateToCode(this.self.state === 'leaving' ? 'leaving' : 'online'), heardAgoMs: 0n, heartbeatSeq: 0n })
    }
    for (const m of this.view.all()) {
      const departed = m.liveness === 'offline' || m.liveness === 'left'
      if (departed && !includeDeparted) continue
      entries.push({
        record: m.signed,
        liveness: stateToCode(m.liveness === 'left' ? 'leaving' : departed ? 'offline' : 'online'),
        heardAgoMs: BigInt(Math.max(0, now - m.lastHeardMs)),
        heartbeatSeq: m.heartbeatSeq
      })
    }
    return { protocol: PROTOCOL_MAJOR, model: this.opts.model, entries, error: '' }
  }

  /** A record its owner handed us directly (claim push): as good as hearing it on gossip. */
  async applyOwnerRecord (signed: SignedRecord, from: string): Promise<{ ok: boolean, reason?: string }> {
    const now = this.now()
    const rec = await verifySignedRecord(signed, { now, model: this.opts.model, totalBlocks: this.blocks ?? undefined, verified: this.verified })
    if (!rec.ok) {
      if (rec.ignore !== true) this.countReject(from, `claim push: ${rec.reason}`)
      return { ok: false, reason: rec.reason }
    }
    if (rec.value.peerId !== from) {
      this.countReject(from, 'claim push for another node')
      return { ok: false, reason: 'record owner differs from the pushing peer' }
    }
    this.emitAll(this.view.applyRecord(rec.value, signed, now, { kind: 'gossip' }).events)
    return { ok: true }
  }

  /** Snapshot entries of live members whose span overlaps `span` (ours included). */
  entriesOverlapping (span: Span): SnapshotEntry[] {
    const overlaps = (s: Span | null): boolean => s != null && s.start < span.end && span.start < s.end
    return this.answerSnapshot(this.opts.model, false).entries.filter(e => {
      if (e.record == null) return false
      const owner = this.lastSigned === e.record ? this.lastRecord : this.view.all().find(m => m.signed === e.record)?.record
      return owner != null && overlaps(owner.span)
    })
  }

  /** Our latest signed record (what a claim push carries). */
  signedSelf (): SignedRecord | null { return this.lastSigned }

  /** Fetches a peer's view; each entry is verified against its owner's signature before use. */
  async fetchSnapshot (peer: string, opts: { timeoutMs?: number, includeDeparted?: boolean } = {}): Promise<SnapshotResponse> {
    const stream = await this.opts.libp2p.dialProtocol(peerIdFromString(peer), SNAPSHOT_PROTOCOL, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000), runOnLimitedConnection: true })
    const res = await fetchSnapshotOverStream(stream, { protocol: PROTOCOL_MAJOR, model: this.opts.model, includeDeparted: opts.includeDeparted ?? true }, { timeoutMs: opts.timeoutMs })
    this.stats.snapshotsFetched++
    return res
  }

  /** Merges a snapshot into the view. Returns how many entries were applied and rejected. */
  async applySnapshot (res: SnapshotResponse, fromPeer: string): Promise<{ applied: number, rejected: number }> {
    const now = this.now()
    let applied = 0
    let rejected = 0
    for (const e of res.entries) {
      if (e.record == null) { rejected++; continue }
      const rec = await verifySignedRecord(e.record, { now, model: this.opts.model, totalBlocks: this.blocks ?? undefined, allowOld: true, verified: this.verified })
      if (!rec.ok) {
        rejected++
        this.countReject(fromPeer, `snapshot entry: ${rec.reason}`)
        continue
      }
      if (this.opts.admitted?.(rec.value.peerId) === false) { rejected++; continue }
      this.learnBlocks(rec.value.totalBlocks)
      const liveness = codeToState(e.liveness) ?? 'offline'
      const heardAgoMs = Math.min(Number(e.heardAgoMs), 365 * 24 * 3600_000)
      const { outcome, events } = this.view.applyRecord(rec.value, e.record, now, { kind: 'snapshot', heardAgoMs, liveness })
      this.emitAll(events)
      if (outcome === 'applied') applied++
    }
    return { applied, rejected }
  }

  async syncFrom (peer: string): Promise<boolean> {
    // A fetch from this peer already under way answers this caller too.
    const running = this.syncing.get(peer)
    if (running != null) return await running
    const last = this.fetchCooldown.get(peer) ?? 0
    if (this.now() - last < 1000) return false
    this.fetchCooldown.set(peer, this.now())
    const fetch = (async () => {
      try {
        const res = await this.fetchSnapshot(peer)
        if (this.startupSnapshots != null && this.startupSnapshots.size < 8) this.startupSnapshots.set(peer, { at: this.now(), res })
        await this.applySnapshot(res, peer)
        this.synced = true
        return true
      } catch (err) {
        this.log.debug({ peer, err: (err as Error).message }, 'snapshot fetch failed')
        return false
      } finally {
        this.syncing.delete(peer)
      }
    })()
    this.syncing.set(peer, fetch)
    return await fetch
  }

  /**
   * Refreshes the view from the snapshots of up to `max` connected peers at once. The negotiator calls
   * it before a newcomer's decision: gossip can lag by seconds while a swarm's mesh is forming, a
   * snapshot from a well-connected peer does not.
   */
  async refreshView (max = 3, timeoutMs = 1000, prefer: readonly string[] = []): Promise<{ applied: number, answered: string[] }> {
    // Preferred peers first (bootstrap nodes: everyone meets them, so they know the most), then
    // the other connected peers in a rotating order, so repeated calls ask different ones.
    const peers = this.opts.libp2p.getPeers().map(p => p.toString())
    const first = prefer.filter(p => peers.includes(p)).slice(0, Math.max(1, max - 1))
    const rest = peers.filter(p => !first.includes(p))
    const start = rest.length === 0 ? 0 : this.refreshCursor++ % rest.length
    const picked = [...first, ...rest.slice(start), ...rest.slice(0, start)].slice(0, max)
    let applied = 0
    const answered: string[] = []
    await Promise.all(picked.map(async p => {
      try {
        const res = await this.fetchSnapshot(p, { timeoutMs, includeDeparted: false })
        applied += (await this.applySnapshot(res, p)).applied
        if (res.error === '') answered.push(p)
      } catch (err) {
        this.log.debug({ peer: p, err: (err as Error).message }, 'snapshot refresh failed')
      }
    }))
    return { applied, answered }
  }

  /**
   * A heartbeat from a member we have no (current) record of: ask the relaying peer, then the owner.
   * One fetch per owner at a time, and callers share a fetch already under way from the relay: in a
   * cold start every heartbeat of every unknown member lands here, and each owner dial is one more
   * connection for both to keep.
   */
  private async fetchRecordOf (owner: string, relay: string): Promise<void> {
    if (this.recordFetches.has(owner)) return
    this.recordFetches.add(owner)
    try {
      const ok = await this.syncFrom(relay)
      if (relay !== owner && (!ok || this.view.get(owner) == null)) await this.syncFrom(owner)
    } finally {
      this.recordFetches.delete(owner)
    }
  }

  /**
   * Refuses to run twice with one identity. If a peer's view holds this peer id alive under another
   * instance, ask again a little later: a crashed predecessor stays silent, a live twin's heartbeat
   * sequence number moves on. (Gossip cannot prove it: peers route our own id's messages as ours.)
   */
  async checkNoTwin (waitMs = Math.round(1.5 * this.heartbeatPeriodMs()) + 200): Promise<void> {
    // The first look reuses the snapshot the start-up sync fetched from that peer moments ago (one
    // round trip less on every start-up path; on a loaded hub each costs 0.3 s).
    const recent = async (peer: string): Promise<SnapshotResponse | null> => {
      await this.syncing.get(peer)
      const s = this.startupSnapshots?.get(peer)
      return s != null && this.now() - s.at < 2000 ? s.res : null
    }
    const other = async (peer: string, reuse = false): Promise<{ hbSeq: bigint, recordSeq: bigint, heardAgoMs: number } | null> => {
      const res = (reuse ? await recent(peer) : null) ?? await this.fetchSnapshot(peer, { includeDeparted: false, timeoutMs: 3000 })
      for (const e of res.entries) {
        if (e.record == null) continue
        const liveness = codeToState(e.liveness)
        if (liveness === 'offline' || liveness === 'leaving') continue
        const rec = await verifySignedRecord(e.record, { now: this.now(), model: this.opts.model, allowOld: true, verified: this.verified })
        if (rec.ok && rec.value.peerId === this.peerId && rec.value.instance !== this.instance && Number(e.heardAgoMs) < this.timing.offlineAfterMs * this.heartbeatPeriodMs() / this.timing.heartbeatMs) {
          return { hbSeq: e.heartbeatSeq, recordSeq: rec.value.seq, heardAgoMs: Number(e.heardAgoMs) }
        }
      }
      return null
    }
    // The peers are asked at once, not one after another: this check sits on every start-up's
    // path to announcing, and three sequential snapshots cost a loaded node 0.3-0.4 s.
    const check = async (peer: string): Promise<TwinError | null> => {
      try {
        const first = await other(peer, true)
        if (first == null) return null
        await new Promise(resolve => setTimeout(resolve, waitMs))
        const second = await other(peer)
        if (second != null && (second.hbSeq > first.hbSeq || second.recordSeq > first.recordSeq)) return new TwinError(this.peerId, peer)
      } catch {}
      return null
    }
    try {
      const found = await Promise.all(this.opts.libp2p.getPeers().slice(0, 3).map(p => check(p.toString())))
      const twin = found.find(e => e != null)
      if (twin != null) throw twin
    } finally {
      this.startupSnapshots = null
    }
  }

  /** Petals servers are known to vanish silently after a network blip: check a peer still sees us. */
  private async checkSelfVisible (): Promise<void> {
    const peers = this.opts.libp2p.getPeers().map(String).filter(p => this.view.get(p)?.liveness === 'alive')
    if (peers.length === 0 || this.lastRecord == null) return
    const peer = peers[Math.floor(Math.random() * peers.length)]
    try {
      const res = await this.fetchSnapshot(peer, { includeDeparted: true })
      let visible = false
      for (const e of res.entries) {
        if (e.record == null) continue
        const rec = await verifySignedRecord(e.record, { now: this.now(), model: this.opts.model, allowOld: true, verified: this.verified })
        if (rec.ok && rec.value.peerId === this.peerId && rec.value.instance === this.instance && codeToState(e.liveness) === 'online') visible = true
      }
      if (!visible) {
        this.log.warn({ peer }, 'our record is not visible (or not online) in a peer\'s view: re-announcing')
        await this.publishRecord()
      }
    } catch (err) {
      this.log.debug({ peer, err: (err as Error).message }, 'self-visibility check failed')
    }
  }

  // ---- DHT ----

  private async provide (): Promise<void> {
    const dht = this.opts.libp2p.services.dht
    if (!this.running || this.opts.role !== 'server' || dht == null) return
    let stored = 0
    try {
      const cid = await swarmCid(this.opts.model)
      const signal = AbortSignal.timeout(30_000)
      for await (const ev of dht.provide(cid, { signal })) {
        if (ev.name === 'PEER_RESPONSE') stored++
      }
      this.log.debug({ cid: cid.toString(), peers: stored }, 'provided swarm key in the DHT')
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'DHT provide failed (will retry)')
    }
    // A node that provided before it had DHT peers stored nothing: try again soon, not in 10 min.
    if (stored === 0 && this.running && !this.provideRetryPending) {
      const delay = Math.min(60_000, 2000 * 2 ** Math.min(this.provideRetries, 5))
      this.provideRetries++
      this.provideRetryPending = true
      setTimeout(() => { this.provideRetryPending = false; void this.provide() }, delay).unref()
    } else {
      this.provideRetries = 0
    }
  }

  /** Addresses from a member's signed record go to the peer store, so members can dial members. */
  private learnAddrs (peerId: string, addrs: string[]): void {
    if (addrs.length === 0 || peerId === this.peerId) return
    const known = this.addrsLearned.get(peerId)
    const key = addrs.join(',')
    if (known === key) return
    this.addrsLearned.set(peerId, key)
    try {
      void this.opts.libp2p.peerStore.merge(peerIdFromString(peerId), { multiaddrs: addrs.map(a => multiaddr(a)) }).catch(() => {})
    } catch {}
  }

  /** A client that did not know the model's block count takes it from the first valid record. */
  private learnBlocks (n: number): void {
    if (this.blocks == null) {
      this.blocks = n
      this.log.info({ totalBlocks: n }, 'learned the model\'s block count from the swarm')
    }
  }

  /**
   * Runs `fn` after every `periodMs()` (re-read each time), each wait jittered by ±10%: nodes that
   * started together (a mass restart, a simulation) drift apart instead of firing in lockstep.
   */
  private repeat (periodMs: () => number, fn: () => void, onWait?: (ms: number) => void): void {
    const next = (): void => {
      if (!this.running) return
      const wait = Math.round(periodMs() * (1 - JITTER + 2 * JITTER * Math.random()))
      onWait?.(wait)
      const t = setTimeout(() => {
        this.pendingTimers.delete(t)
        if (!this.running) return
        fn()
        next()
      }, wait)
      this.pendingTimers.add(t)
    }
    next()
  }

  /** How much the heartbeat period is stretched in a swarm of this size (1 in small swarms). */
  stretchFactor (): number { return this.heartbeatPeriodMs() / this.timing.heartbeatMs }

  /** The heartbeat period for the current swarm size (see MembershipTiming.maxHeartbeatRate). */
  heartbeatPeriodMs (): number {
    const members = this.view.live().length + 1
    return Math.max(this.timing.heartbeatMs, Math.ceil((1000 * members) / this.timing.maxHeartbeatRate))
  }

  uptimeMs (): number { return this.running ? this.now() - this.startedAt : 0 }
}

/** Finds members of a swarm through DHT provider records. */
export async function findSwarmProviders (libp2p: PetalmeshLibp2p, model: string, opts: { timeoutMs?: number, max?: number } = {}): Promise<string[]> {
  const cid = await swarmCid(model)
  const found: string[] = []
  try {
    for await (const p of libp2p.contentRouting.findProviders(cid, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) })) {
      const id = p.id.toString()
      if (id !== libp2p.peerId.toString() && !found.includes(id)) found.push(id)
      if (found.length >= (opts.max ?? 20)) break
    }
  } catch {}
  return found
}
