// The swarm view: every member this node knows of, its last record and its liveness, and the
// coverage derived from them. Pure state: no timers, no network. Callers pass `now` and get events.
//
// Rules that keep the view honest (see docs/PROTOCOL.md "Liveness"):
// - Only a message signed by the owner, with a sequence number newer than any seen, can make a
//   member alive. Replays, re-gossiped copies and records handed out in snapshots never resurrect
//   a member this node already holds as offline or departed with that sequence number.
// - Departed members keep a tombstone (with their last sequence numbers) for `tombstoneMs`.
import type { MemberInfo, NodeState, Span } from '../protocols/types.ts'
import type { HeartbeatData, NodeRecordData } from '../protocols/membership/record.ts'
import type { SignedRecord } from '../protocols/membership/membership.ts'

export type Liveness = 'alive' | 'suspect' | 'offline' | 'left'

export interface Member {
  peerId: string
  record: NodeRecordData
  signed: SignedRecord
  /** Current state: from the newest of record and heartbeat. */
  state: NodeState
  loadingDone: number
  liveness: Liveness
  instance: bigint
  recordSeq: bigint
  heartbeatSeq: bigint
  /** Seq of the message that last set `state`. */
  stateSeq: bigint
  lastHeardMs: number
  firstSeenMs: number
  offlineSinceMs: number | null
  offlineReason: string | null
  tokensTotal: number
}

export type SwarmEvent =
  | { type: 'member-joined', peerId: string, member: Member }
  | { type: 'member-updated', peerId: string, member: Member, spanChanged: boolean, stateChanged: boolean }
  | { type: 'member-suspect', peerId: string, reason: string }
  | { type: 'member-offline', peerId: string, reason: string, member: Member }
  | { type: 'member-left', peerId: string, member: Member }
  | { type: 'member-back', peerId: string, member: Member }
  | { type: 'member-pruned', peerId: string }
  | { type: 'twin-detected', peerId: string, instance: bigint }

export interface SwarmViewOptions {
  model: string
  totalBlocks: number
  selfPeerId: string
  selfInstance: bigint
  /** No message for this long → suspect. */
  suspectAfterMs: number
  /** No message for this long → offline. */
  offlineAfterMs: number
  /** Offline/left entries are kept this long as tombstones, then pruned. */
  tombstoneMs: number
}

export type ApplyOutcome = 'applied' | 'stale' | 'tombstoned' | 'twin' | 'unknown-member' | 'self'

/** States in which a member's span counts as served or claimed. */
export function servesOrClaims (state: NodeState): boolean {
  return state === 'online' || state === 'loading' || state === 'joining'
}

export class SwarmView {
  private readonly opts: SwarmViewOptions
  private readonly members = new Map<string, Member>()

  constructor (opts: SwarmViewOptions) {
    this.opts = opts
  }

  /** Silence thresholds change with the heartbeat period (which stretches as the swarm grows). */
  setTimeouts (suspectAfterMs: number, offlineAfterMs: number): void {
    this.opts.suspectAfterMs = suspectAfterMs
    this.opts.offlineAfterMs = offlineAfterMs
  }

  get (peerId: string): Member | undefined { return this.members.get(peerId) }
  all (): Member[] { return [...this.members.values()].sort((a, b) => a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0) }
  /** Members that are alive or suspect (not yet declared offline). */
  live (): Member[] { return this.all().filter(m => m.liveness === 'alive' || m.liveness === 'suspect') }
  size (): number { return this.members.size }

  /**
   * Applies a verified record. `source` is `gossip` (fresh from the owner) or `snapshot`
   * (relayed by a peer, which also tells how long ago it last heard the owner).
   */
  applyRecord (rec: NodeRecordData, signed: SignedRecord, now: number, source: { kind: 'gossip' } | { kind: 'snapshot', heardAgoMs: number, liveness: NodeState }): { outcome: ApplyOutcome, events: SwarmEvent[] } {
    if (rec.peerId === this.opts.selfPeerId) {
      if (rec.instance !== this.opts.selfInstance && source.kind === 'gossip') {
        return { outcome: 'twin', events: [{ type: 'twin-detected', peerId: rec.peerId, instance: rec.instance }] }
      }
      return { outcome: 'self', events: [] }
    }
    const existing = this.members.get(rec.peerId)
    if (existing != null && rec.seq <= existing.recordSeq) return { outcome: 'stale', events: [] }

    const departed = rec.state === 'leaving' || rec.state === 'offline'
    // A relayed record can tell us about a member but cannot vouch that it is alive now.
    const heardAt = source.kind === 'gossip' ? now : now - source.heardAgoMs
    const relayedDead = source.kind === 'snapshot' && (source.liveness === 'offline' || source.liveness === 'leaving' || source.heardAgoMs >= this.opts.offlineAfterMs)
    if (existing == null) {
      const liveness: Liveness = departed ? 'left' : relayedDead ? 'offline' : 'alive'
      const m: Member = {
        peerId: rec.peerId,
        record: rec,
        signed,
        state: departed ? 'offline' : rec.state,
        loadingDone: rec.loading?.done ?? 0,
        liveness,
        instance: rec.instance,
        recordSeq: rec.seq,
        heartbeatSeq: 0n,
        stateSeq: rec.seq,
        lastHeardMs: heardAt,
        firstSeenMs: now,
        offlineSinceMs: liveness === 'alive' ? null : now,
        offlineReason: liveness === 'alive' ? null : departed ? 'left' : 'offline in the snapshot peer\'s view',
        tokensTotal: rec.tokensTotal
      }
      this.members.set(rec.peerId, m)
      return { outcome: 'applied', events: liveness === 'alive' ? [{ type: 'member-joined', peerId: m.peerId, member: m }] : [] }
    }

    const wasDead = existing.liveness === 'offline' || existing.liveness === 'left'
    const prevSpan = existing.record.span
    const prevState = existing.state
    existing.record = rec
    existing.signed = signed
    existing.recordSeq = rec.seq
    existing.tokensTotal = rec.tokensTotal
    if (rec.instance !== existing.instance) existing.instance = rec.instance
    if (rec.seq > existing.stateSeq) {
      existing.stateSeq = rec.seq
      existing.state = departed ? 'offline' : rec.state
      existing.loadingDone = rec.loading?.done ?? 0
    }
    const events: SwarmEvent[] = []
    if (departed) {
      if (existing.liveness !== 'left') {
        existing.liveness = 'left'
        existing.offlineSinceMs = now
        existing.offlineReason = 'left'
        events.push({ type: 'member-left', peerId: existing.peerId, member: existing })
      }
      return { outcome: 'applied', events }
    }
    // Newer than anything seen, signed by the owner: through gossip it proves the member is alive.
    // Through a snapshot it only updates the data; a dead member stays dead until it speaks itself.
    if ((source.kind === 'gossip' && !sentBeforeDeath(existing, rec.timestampMs)) || !wasDead) {
      existing.lastHeardMs = Math.max(existing.lastHeardMs, heardAt)
      if (wasDead && source.kind === 'gossip') {
        existing.liveness = 'alive'
        existing.offlineSinceMs = null
        existing.offlineReason = null
        events.push({ type: 'member-back', peerId: existing.peerId, member: existing })
      } else if (existing.liveness === 'suspect' && source.kind === 'gossip') {
        existing.liveness = 'alive'
      }
    }
    const spanChanged = !sameSpan(prevSpan, rec.span)
    const stateChanged = prevState !== existing.state
    events.push({ type: 'member-updated', peerId: existing.peerId, member: existing, spanChanged, stateChanged })
    return { outcome: 'applied', events }
  }

  /** Applies a heartbeat whose sender gossipsub verified. Unknown members need their record first. */
  applyHeartbeat (peerId: string, hb: HeartbeatData, now: number): { outcome: ApplyOutcome, events: SwarmEvent[], needRecord: boolean } {
    if (peerId === this.opts.selfPeerId) {
      if (hb.instance !== this.opts.selfInstance) return { outcome: 'twin', events: [{ type: 'twin-detected', peerId, instance: hb.instance }], needRecord: false }
      return { outcome: 'self', events: [], needRecord: false }
    }
    const m = this.members.get(peerId)
    if (m == null) return { outcome: 'unknown-member', events: [], needRecord: true }
    if (hb.seq <= m.heartbeatSeq) return { outcome: 'stale', events: [], needRecord: false }
    if (hb.seq <= m.stateSeq && m.liveness === 'left') return { outcome: 'tombstoned', events: [], needRecord: false }
    if (sentBeforeDeath(m, hb.timestampMs)) {
      // Sent before we declared the member gone, and only now through the mesh (a crash is
      // confirmed in ~100 ms, gossip of the last heartbeats can take longer): it says nothing about
      // the member being alive now, and reviving it would make a ghost.
      m.heartbeatSeq = hb.seq
      return { outcome: 'stale', events: [], needRecord: false }
    }
    m.heartbeatSeq = hb.seq
    m.lastHeardMs = now
    const events: SwarmEvent[] = []
    const prevState = m.state
    if (hb.seq > m.stateSeq) {
      m.stateSeq = hb.seq
      m.state = hb.state === 'leaving' ? 'offline' : hb.state
      m.loadingDone = hb.loadingDone
    }
    if (m.liveness === 'offline' || m.liveness === 'left') {
      m.liveness = 'alive'
      m.offlineSinceMs = null
      m.offlineReason = null
      events.push({ type: 'member-back', peerId, member: m })
    } else if (m.liveness === 'suspect') {
      m.liveness = 'alive'
    }
    if (prevState !== m.state) events.push({ type: 'member-updated', peerId, member: m, spanChanged: false, stateChanged: true })
    return { outcome: 'applied', events, needRecord: hb.recordSeq > m.recordSeq || hb.instance !== m.instance }
  }

  markSuspect (peerId: string, reason: string): SwarmEvent[] {
    const m = this.members.get(peerId)
    if (m == null || m.liveness !== 'alive') return []
    m.liveness = 'suspect'
    return [{ type: 'member-suspect', peerId, reason }]
  }

  /** Declares a member offline (failed ping, timeout, confirmed obituary). Only newer owner messages revive it. */
  markOffline (peerId: string, reason: string, now: number): SwarmEvent[] {
    const m = this.members.get(peerId)
    if (m == null || m.liveness === 'offline' || m.liveness === 'left') return []
    m.liveness = 'offline'
    m.offlineSinceMs = now
    m.offlineReason = reason
    return [{ type: 'member-offline', peerId, reason, member: m }]
  }

  /** A ping answered: the member is reachable again (only if not departed by its own word). */
  markReachable (peerId: string, now: number): SwarmEvent[] {
    const m = this.members.get(peerId)
    if (m == null || m.liveness === 'left') return []
    m.lastHeardMs = Math.max(m.lastHeardMs, now)
    if (m.liveness === 'suspect') m.liveness = 'alive'
    return []
  }

  /** Silence of `ms` that was our own stall, not the members' (see Membership's tick). */
  excuseSilence (ms: number, now: number): void {
    for (const m of this.members.values()) {
      if (m.liveness === 'alive' || m.liveness === 'suspect') m.lastHeardMs = Math.min(now, m.lastHeardMs + ms)
    }
  }

  /** Timeouts and pruning; call periodically. */
  tick (now: number): SwarmEvent[] {
    const events: SwarmEvent[] = []
    for (const m of this.members.values()) {
      const silent = now - m.lastHeardMs
      if (m.liveness === 'alive' && silent >= this.opts.suspectAfterMs) {
        events.push(...this.markSuspect(m.peerId, `no heartbeat for ${silent} ms`))
      }
      if ((m.liveness === 'alive' || m.liveness === 'suspect') && silent >= this.opts.offlineAfterMs) {
        events.push(...this.markOffline(m.peerId, `no heartbeat for ${silent} ms`, now))
      }
      if ((m.liveness === 'offline' || m.liveness === 'left') && m.offlineSinceMs != null && now - m.offlineSinceMs >= this.opts.tombstoneMs) {
        this.members.delete(m.peerId)
        events.push({ type: 'member-pruned', peerId: m.peerId })
      }
    }
    return events
  }

  /** Members in the shape the planner and router use. Departed and offline members serve nothing. */
  memberInfos (): MemberInfo[] {
    return this.all().map(m => ({
      peerId: m.peerId,
      state: m.liveness === 'alive' || m.liveness === 'suspect' ? m.state : 'offline',
      span: m.record.span,
      capacity: m.record.capacity,
      throughput: m.record.throughput
    }))
  }
}

export function sameSpan (a: Span | null, b: Span | null): boolean {
  return a == null ? b == null : b != null && a.start === b.start && a.end === b.end
}

export interface BlockCoverage {
  block: number
  /** Online servers of this block. */
  servers: string[]
  throughput: number
  /** Members that are joining or loading this block. */
  pending: string[]
}

export interface CoverageSummary {
  totalBlocks: number
  blocks: BlockCoverage[]
  coveredBlocks: number
  coveragePercent: number
  readyForInference: boolean
  minReplication: number
  avgReplication: number
  bottleneckThroughput: number
  onlineNodes: number
}

/** Per-block servers and summed throughput over online members (difference arrays: O(N + L)). */
export function computeCoverage (members: readonly MemberInfo[], totalBlocks: number): CoverageSummary {
  const blocks: BlockCoverage[] = Array.from({ length: totalBlocks }, (_, block) => ({ block, servers: [], throughput: 0, pending: [] }))
  let onlineNodes = 0
  for (const m of members) {
    if (m.state === 'online') onlineNodes++
    if (m.span == null) continue
    const end = Math.min(m.span.end, totalBlocks)
    for (let b = Math.max(0, m.span.start); b < end; b++) {
      if (m.state === 'online') {
        blocks[b].servers.push(m.peerId)
        blocks[b].throughput += m.throughput
      } else if (m.state === 'joining' || m.state === 'loading') {
        blocks[b].pending.push(m.peerId)
      }
    }
  }
  let covered = 0
  let minRep = Infinity
  let sumRep = 0
  let bottleneck = Infinity
  for (const b of blocks) {
    if (b.servers.length > 0) covered++
    minRep = Math.min(minRep, b.servers.length)
    sumRep += b.servers.length
    bottleneck = Math.min(bottleneck, b.throughput)
  }
  return {
    totalBlocks,
    blocks,
    coveredBlocks: covered,
    coveragePercent: totalBlocks === 0 ? 0 : Math.round((covered / totalBlocks) * 10_000) / 100,
    readyForInference: totalBlocks > 0 && covered === totalBlocks,
    minReplication: totalBlocks === 0 ? 0 : minRep,
    avgReplication: totalBlocks === 0 ? 0 : sumRep / totalBlocks,
    bottleneckThroughput: totalBlocks === 0 ? 0 : bottleneck,
    onlineNodes
  }
}

/**
 * Whether a message the member signed at `sentAtMs` (its clock) predates the moment this node
 * declared it offline or gone: such a message, arriving late, does not bring the member back.
 */
function sentBeforeDeath (m: Member, sentAtMs: number): boolean {
  return (m.liveness === 'offline' || m.liveness === 'left') && m.offlineSinceMs != null && sentAtMs <= m.offlineSinceMs
}
