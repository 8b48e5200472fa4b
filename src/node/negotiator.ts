// Coverage negotiation on a live node: runs the deterministic planner over the swarm view, claims
// spans through the node's record (gossip), settles them, and drives the Petals backend.
//
// Lifecycle of this node's span (what its record says):
//   joining, no span   → announced, waiting for its round (join epoch + `roundLeadMs`, a cohort)
//   joining + span     → a claim; every peer computes the same plan, so concurrent claims that
//                        conflict are settled the same way everywhere; the loser re-plans at once
//   loading + span     → claim settled, the backend loads the weights
//   online + span      → serving; moves only when the planner says a move pays (rebalance, heal)
//   standby            → nothing useful to add; the first to fill holes
import { EventEmitter } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { olderRoundOutstanding, planSpan, planSpanPetals, resolveParams, type CoverageParams, type PlanMember, type PlanDecision } from '../protocols/coverage/index.ts'
import { seededRng } from '../protocols/routing/index.ts'
import { COVERAGE_PROTOCOL, pushClaimOverStream, serveClaim } from '../protocols/negotiation/claim-stream.ts'
import { PROTOCOL_MAJOR } from '../protocols/version.ts'
import type { Span } from '../protocols/types.ts'
import type { PetalsBackend, BackendStatus, InitialPeersRequest } from '../petals-bridge/index.ts'
import type { Membership } from './membership.ts'
import type { PetalmeshLibp2p } from './libp2p.ts'
import { sameSpan, type SwarmEvent } from './swarm-view.ts'
import { chooseInitialPeers, petalsLaunched, type SeedDecision } from './petals-seed.ts'

export interface NegotiatorOptions {
  libp2p: PetalmeshLibp2p
  membership: Membership
  backend: PetalsBackend
  log: Logger
  replication: number
  /** Serve exactly this span (operator's choice): no negotiation. */
  fixedSpan?: Span | null
  /** Operator asked for a spare. */
  standby?: boolean
  params?: Partial<CoverageParams>
  /** Plan at least this often (ms). */
  tickMs?: number
  /**
   * 'petals' runs Petals' own block selection instead (for side-by-side benchmarks only): sleep
   * 0–startJitterMs at random, take the weakest window, no claims; every rebalanceMs check the
   * balance (75 % rule) and move if it fails.
   */
  planner?: 'petalmesh' | 'petals'
  /** Peer ids of the bootstrap nodes: asked first when the view is refreshed before a decision. */
  bootstrapPeers?: readonly string[]
  petals?: { startJitterMs?: number, rebalanceMs?: number, seed?: number }
  /**
   * Longest wait for a member's Petals DHT before a server that is not the swarm's seed starts a
   * new swarm anyway (petals.swarmSeedWaitMs; real Petals backends only).
   */
  seedWaitMs?: number
  now?: () => number
}

export interface NegotiationStats {
  claims: number
  commits: number
  /** Span changes after this node had loaded a span (each one a weight reload). */
  moves: number
  lostClaims: number
  /** Claims by the planner's reason (join, claim-lost, heal, rebalance): what extra claims were. */
  claimsByReason: Record<string, number>
  lastDecision: PlanDecision | null
}

interface NegotiatorEvents {
  decision: [PlanDecision]
  committed: [Span]
}

export class Negotiator extends EventEmitter<NegotiatorEvents> {
  readonly stats: NegotiationStats = { claims: 0, commits: 0, moves: 0, lostClaims: 0, claimsByReason: {}, lastDecision: null }
  readonly params: CoverageParams
  private readonly opts: NegotiatorOptions
  private readonly now: () => number
  private timer: ReturnType<typeof setInterval> | undefined
  private pending: ReturnType<typeof setTimeout> | undefined
  private pendingAt = 0
  private running = false
  private planning = false
  private replan = false
  /** When each member last appeared in the view (joined or came back): a newcomer waits for the
   *  part of the view its round depends on to stop growing. */
  private readonly arrivedAt = new Map<string, number>()
  /** The last refresh that brought a bootstrap peer's view after our join epoch (see plan). */
  private viewCovered: { epoch: number, at: number } | null = null
  /** When the view was last refreshed from peers' snapshots. */
  private lastRefreshAt = -Infinity
  /** Whether a refresh is under way (a newcomer waiting for a covered view starts one only then). */
  private refreshing = false
  /** Whether our last decision was held (among other reasons) because the view did not cover our round. */
  private heldForCover = false
  /** Local time our current claim was published. */
  private claimedAt = 0
  private hasLoaded = false
  private lastPlanAt = 0
  private petalsRng: (() => number) | null = null
  private unsubscribeBackend: (() => void) | null = null
  private readonly onSwarm = (e: SwarmEvent): void => {
    if (e.type === 'member-pruned') this.arrivedAt.delete(e.peerId)
    // Only changes that can change a plan: membership, spans and states (not progress, not data).
    if (e.type === 'member-suspect' || e.type === 'member-pruned' || e.type === 'twin-detected') return
    if (e.type === 'member-updated' && !e.spanChanged && !e.stateChanged) return
    if (e.type === 'member-joined' || e.type === 'member-back') this.arrivedAt.set(e.peerId, this.now())
    this.schedule(20)
  }

  constructor (opts: NegotiatorOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.params = resolveParams(opts.params)
  }

  async start (): Promise<void> {
    this.running = true
    const { libp2p, membership, backend } = this.opts
    await libp2p.handle(COVERAGE_PROTOCOL, async (stream, connection) => {
      const from = connection.remotePeer.toString()
      await serveClaim(stream, async (push) => {
        if (push.claim == null) return { protocol: PROTOCOL_MAJOR, overlapping: [], error: 'empty claim' }
        const res = await membership.applyOwnerRecord(push.claim, from)
        if (!res.ok) return { protocol: PROTOCOL_MAJOR, overlapping: [], error: res.reason ?? 'rejected' }
        const claimed = membership.view.get(from)?.record.span
        return { protocol: PROTOCOL_MAJOR, overlapping: claimed == null ? [] : membership.entriesOverlapping(claimed), error: '' }
      }, { onReject: (reason) => { this.opts.log.debug({ peer: from, reason }, 'bad claim push') } })
    }, { maxInboundStreams: 16, force: true, runOnLimitedConnection: true }) // also through relays (NATed peers)
    this.unsubscribeBackend = backend.onStatus(s => { this.onBackend(s) })
    membership.on('swarm', this.onSwarm)

    const fixed = this.opts.fixedSpan
    if (fixed != null) {
      await membership.updateSelf({ state: 'loading', span: fixed, claimMs: this.now(), prev: null, loading: { done: 0, total: fixed.end - fixed.start } })
      void this.setBackendSpan(fixed)
      return
    }
    // Our pending record dates our round, so it must reach someone: gossip reaches nobody until a
    // peer's subscription has arrived, and in a cold start a bootstrap node sends its subscription
    // to its newcomers one at a time (gossipsub opens its outbound streams in sequence), seconds
    // for the last of thirty. So the record is also pushed to the bootstrap peers straight away
    // (everyone's snapshots come from them); only if nobody took it do we wait for gossip. A push
    // that landed after its join epoch is dated again: a bootstrap peer must know every pending
    // node of a round by the round's epoch (see viewCovered).
    const pending = async (): Promise<number> => {
      const epoch = this.joinEpoch(this.now())
      await membership.updateSelf({ state: this.opts.standby === true ? 'standby' : 'joining', span: null, claimMs: epoch, prev: null })
      return epoch
    }
    const epoch = await pending()
    const taken = await this.pushRecord(this.pendingTargets())
    if (taken === 0 && !(await membership.publishable(0))) {
      await membership.publishable(5000)
      if (this.running) await pending()
    } else if (taken > 0 && this.now() > epoch && this.running) {
      await pending()
      await this.pushRecord(this.pendingTargets())
    }
    if (!this.running) return
    if (this.opts.planner === 'petals') {
      const rng = seededRng(`${this.opts.petals?.seed ?? 0}:${membership.peerId}`)
      this.petalsRng = rng
      const jitter = Math.floor(rng() * (this.opts.petals?.startJitterMs ?? 10_000))
      this.pending = setTimeout(() => { this.pending = undefined; void this.planPetals() }, jitter)
      this.timer = setInterval(() => { void this.planPetals() }, this.opts.petals?.rebalanceMs ?? 60_000)
      return
    }
    this.timer = setInterval(() => { this.schedule(0) }, this.opts.tickMs ?? 1000)
    // First plan a quiet spell before our round (join epoch + settle): that run refreshes the view
    // from snapshots (while gossipsub meshes form, snapshots are how a newcomer learns its cohort),
    // so by the round what it brought is a quiet spell old and the round's decision need not wait.
    this.schedule(Math.max(0, this.refreshFrom(membership.selfState().claimMs) - this.now()))
  }

  /** Petals' own policy (the benchmark baseline): choose greedily, no claims, periodic balance check. */
  private async planPetals (): Promise<void> {
    if (!this.running || this.planning || this.petalsRng == null) return
    this.planning = true
    try {
      const self = this.opts.membership.selfState()
      const d = planSpanPetals(this.planInput(), { rng: this.petalsRng })
      this.stats.lastDecision = d
      if (d.action === 'serve' && !sameSpan(self.span, d.span)) {
        this.stats.claims++
        if (this.hasLoaded) this.stats.moves++
        await this.opts.membership.updateSelf({ state: 'loading', span: d.span, claimMs: this.now(), prev: null, loading: { done: 0, total: d.span.end - d.span.start } })
        this.emit('committed', d.span)
        void this.setBackendSpan(d.span)
      }
    } finally {
      this.planning = false
    }
  }

  async stop (): Promise<void> {
    this.running = false
    if (this.timer != null) clearInterval(this.timer)
    if (this.pending != null) clearTimeout(this.pending)
    this.opts.membership.off('swarm', this.onSwarm)
    this.unsubscribeBackend?.()
    await this.opts.libp2p.unhandle(COVERAGE_PROTOCOL).catch(() => {})
    await this.opts.backend.close().catch(() => {})
  }

  /**
   * When a newcomer with join epoch `epoch` first refreshes its view: a quiet spell before its round
   * (what it brings is old enough by the round not to hold the decision back), but not before the
   * epoch (a refresh from a bootstrap peer asked after the epoch is what covers the round).
   */
  private refreshFrom (epoch: number): number {
    return Math.max(epoch, epoch + this.params.roundLeadMs - this.quietMs - this.slotMs)
  }

  /** How long the view must not have grown before a newcomer claims (half a settle delay). */
  private get quietMs (): number { return Math.max(this.slotMs, Math.floor(this.params.settleMs / 2)) }

  /** Planning slot (a quarter heartbeat): plans run on its wall-clock boundaries. */
  private get slotMs (): number { return Math.max(50, Math.floor((this.opts.tickMs ?? 1000) / 4)) }

  /**
   * The start of the slot `t` falls in. Announce and claim times are slot-aligned so that nodes
   * planning in the same slot form one cohort (same `since`) on every validator, whatever the
   * millisecond each of them happened to run at.
   */
  private slotTime (t: number): number { return Math.floor(t / this.slotMs) * this.slotMs }

  /**
   * A newcomer's announce time, rounded up to the next multiple of the settle delay. Nodes starting
   * within one epoch are one cohort: planned for together, at the same moment, by everyone, and each
   * announcement has at least a settle delay to spread before anyone plans for it. (A slot grid
   * was tried: its start-ups wait less, but nodes starting together split into several cohorts,
   * each placed on top of the older ones' claims instead of all jointly; measured on the bench's
   * 20-node seed-3 swarm: bottleneck ratio 0.882-0.887 in 4 of 4 runs vs 0.918 in 3 of 4, for
   * coverage about 0.2 s sooner and replication no sooner.)
   */
  private joinEpoch (t: number): number {
    const epoch = Math.max(this.slotMs, this.params.settleMs)
    return Math.ceil(t / epoch) * epoch
  }

  /**
   * When our claim may commit: a settle delay after it was published. The claim's `since` names its
   * round and may be earlier than the moment we got to publish it (a late planner), so the wait is
   * counted from whichever is later.
   */
  private settleAt (since: number): number {
    return Math.max(since, this.claimedAt) + this.params.settleMs
  }

  /**
   * Whether a confirmed claim may commit before its settle point. The verdict on a claim depends on
   * the older claims and on which nodes were eligible in its round, not on the claims of its own
   * cohort (claims.ts: the re-run rolls them back and places the whole round's pool itself). So once,
   * in our view, no newcomer of an older round is still pending (its claim, judged before ours, could
   * still change what is fixed under us), no member of our round or an older one has appeared for a
   * quiet spell, and the claim has been out since the next slot began, the settle point can no longer
   * change the verdict we compute. (Since the next slot, not for a whole slot: plans run on slot
   * boundaries and a claim is published a few ms into its slot, so "a whole slot" failed by those
   * few ms at the next boundary and every commit waited a second slot; measured on heals.)
   */
  private verdictFinal (round: number): boolean {
    const now = this.now()
    if (now < this.slotTime(this.claimedAt) + this.slotMs || now < this.lastArrivalFor(round) + this.quietMs) return false
    return !this.olderRoundOpen(round)
  }

  /** Whether an older round than `round` is still outstanding in our view (older-rounds.ts): a pending newcomer or a lost claim. */
  private olderRoundOpen (round: number): boolean {
    const inp = this.planInput()
    const members = [...inp.members.filter(m => m.peerId !== inp.self.peerId), inp.self]
    return olderRoundOutstanding({ totalBlocks: inp.totalBlocks, replication: inp.replication, members, params: inp.params, now: inp.now }, inp.self.peerId, round, this.params.roundLeadMs)
  }

  /**
   * When the view last gained a member that round `round` is planned with. Newcomers of later rounds
   * are not (planAsOfRound leaves them out): in a cold start they keep arriving for seconds, and
   * counting them held every earlier round back for nothing.
   */
  private lastArrivalFor (round: number): number {
    // Arrivals up to a covering refresh for this round (see plan) are not in flight any more.
    const covered = this.viewCovered != null && this.viewCovered.epoch + this.params.roundLeadMs === round ? this.viewCovered.at : 0
    let last = 0
    for (const m of this.opts.membership.view.live()) {
      const at = this.arrivedAt.get(m.peerId)
      if (at == null || at <= last) continue
      const r = m.record
      const newcomer = m.state === 'joining' && (r.span == null || r.prev == null || r.prev.state === 'joining')
      const itsRound = r.span == null ? r.claimMs + this.params.roundLeadMs : r.claimMs
      if (newcomer && itsRound > round) continue
      if (at <= covered) continue
      last = at
    }
    return last
  }

  /** Plans soon (coalescing bursts of swarm events into one run). */
  schedule (delayMs: number): void {
    if (!this.running || this.opts.fixedSpan != null || this.opts.planner === 'petals') return
    // Plans run on wall-clock slot boundaries (a quarter heartbeat), as in the algorithm-level
    // simulator: nodes that start together then plan over the same records at the same moments,
    // instead of each on its own event stream. At most one plan per slot.
    const slot = this.slotMs
    const earliest = Math.max(Date.now() + delayMs, this.lastPlanAt + slot)
    const at = earliest + (slot - (earliest % slot)) % slot
    // One run pending at a time, the earliest asked for (a run re-schedules what it still needs).
    if (this.pending != null) {
      if (at >= this.pendingAt) return
      clearTimeout(this.pending)
    }
    this.pendingAt = at
    this.pending = setTimeout(() => {
      this.pending = undefined
      // The slot this run belongs to, not the moment the timer fired: a timer a millisecond late
      // must not push the next run a whole slot later.
      const firedAt = Date.now()
      this.lastPlanAt = firedAt - (firedAt % slot)
      void this.plan()
    }, at - Date.now())
  }

  /** The planner's input as this node sees the swarm now. */
  planInput (): Parameters<typeof planSpan>[0] {
    const { membership } = this.opts
    const self = membership.selfState()
    const members: PlanMember[] = membership.view.all().map(m => ({
      peerId: m.peerId,
      state: m.liveness === 'alive' || m.liveness === 'suspect' ? m.state : 'offline',
      span: m.record.span,
      capacity: m.record.capacity,
      throughput: m.record.throughput,
      since: m.record.claimMs,
      ...(m.record.prev != null ? { prev: m.record.prev } : {})
    }))
    return {
      totalBlocks: membership.totalBlocks,
      replication: this.opts.replication,
      self: {
        peerId: membership.peerId,
        state: self.state,
        span: self.span,
        capacity: self.capacity,
        throughput: self.throughput,
        since: self.claimMs,
        ...(self.prev != null ? { prev: self.prev } : {}),
        standby: this.opts.standby === true
      },
      members,
      params: this.params,
      now: this.now()
    }
  }

  private async plan (): Promise<void> {
    if (!this.running) return
    if (this.planning) {
      // A plan is in flight (waiting for snapshots): run once more right after it, not a tick later.
      this.replan = true
      return
    }
    this.planning = true
    this.replan = false
    try {
      const { membership } = this.opts
      let self = membership.selfState()
      const settled = (): boolean => self.state === 'joining' && self.span != null && (this.now() >= this.settleAt(self.claimMs) || this.verdictFinal(self.claimMs))
      // A newcomer decides on a fresh view: while a swarm's mesh forms, gossip lags by seconds, and a
      // plan over a stale view is a wasted claim. It refreshes a quiet spell before its round (what
      // that brings is old enough by the round not to hold the decision back), again at the round
      // (measured: without this second one, 30-node cold starts lost up to 31 claims), and at most
      // every half settle delay while it holds its claim back. (A claim's settle point needs no
      // refresh: a cohort member whose claim has not arrived is still pending in the view, and the
      // verdict accounts for it.)
      const refreshFrom = this.refreshFrom(self.claimMs)
      // Also at once, whenever none is under way, while our round is not covered yet.
      const refreshDue = this.now() >= refreshFrom && (this.now() - this.lastRefreshAt >= this.params.settleMs / 2 || (!this.refreshing && !this.roundCovered()))
      if (self.state === 'joining' && self.span == null && refreshDue) {
        this.lastRefreshAt = this.now()
        this.refreshing = true
        // Bounded: on a starved event loop a slow snapshot must not hold the decision back; what
        // arrived by then is applied, the rest is applied when it comes.
        let timer: ReturnType<typeof setTimeout> | undefined
        const startedAt = this.now()
        const epoch = self.claimMs
        const refresh = membership.refreshView(3, Math.max(200, this.params.settleMs), this.opts.bootstrapPeers).then(r => {
          // A bootstrap peer's whole view, asked for after our epoch: every pending node of our
          // round had pushed its record to it by then, so nothing of our round is in flight.
          if (startedAt >= epoch && r.answered.some(p => this.opts.bootstrapPeers?.includes(p) === true)) this.viewCovered = { epoch, at: this.now() }
        }).finally(() => {
          this.refreshing = false
          // A newcomer held back for a covered view decides now rather than at its next slot.
          if (this.heldForCover && this.roundCovered()) this.schedule(0)
        })
        // A view that already holds our whole round does not wait for this one (what it brings is
        // applied when it comes, and a change it makes re-plans us).
        if (!this.viewCoversRound()) await Promise.race([refresh, new Promise(resolve => { timer = setTimeout(resolve, this.slotMs) })])
        clearTimeout(timer)
        if (!this.running) return
        self = membership.selfState()
      }
      const d = planSpan(this.planInput())
      this.stats.lastDecision = d
      this.emit('decision', d)
      if (d.action === 'serve' && d.reason === 'join' && self.span == null && d.round != null) {
        // A newcomer plans its whole round's layout: a member missing from its view (still in
        // flight while a swarm's mesh forms) would make that layout differ from the one the round
        // is judged by. So it waits until the view has stopped growing for a quiet spell, but not
        // beyond a quarter of the claim lifetime past its round (its claim keeps the round as `since`).
        // Likewise it lets older rounds go first: a newcomer of an older round that has not claimed
        // yet is pending in our layout, and its claim, when it comes, is judged before ours.
        // And it decides on a view that holds its whole round (measured: 1 cold start in ~15 had
        // its round's refresh time out on a starved loop, the cohort decided on views of 2-12 of 30
        // members, and 60-76 claims were lost).
        const quietAt = this.lastArrivalFor(d.round) + this.quietMs
        const olderPending = this.olderRoundOpen(d.round)
        const uncovered = !this.roundCovered()
        this.heldForCover = uncovered
        if ((this.now() < quietAt || olderPending || uncovered) && this.now() < d.round + this.params.claimTtlMs / 4) {
          this.schedule(Math.max(1, olderPending || uncovered ? this.slotMs : quietAt - this.now()))
          return
        }
      }
      if (d.action === 'serve' && d.reason === 'claim-lost' && self.state === 'joining' && self.span != null && !settled()) {
        // Not final before the settle point: the rest of our cohort's claims may still be in flight,
        // and a verdict over part of a cohort is not the verdict over all of it.
        this.schedule(Math.max(1, this.settleAt(self.claimMs) - this.now()))
        return
      }
      if (d.action === 'serve') {
        if (self.state === 'joining' && sameSpan(self.span, d.span)) {
          // The plan still gives us what we claimed: once the claim is old enough, it stands.
          if (settled()) await this.commit(d.span)
          else this.schedule(Math.max(1, Math.min(this.slotMs, this.settleAt(self.claimMs) - this.now())))
          return
        }
        if ((self.state === 'loading' || self.state === 'online') && sameSpan(self.span, d.span)) return
        if (d.reason === 'claim-lost') this.stats.lostClaims++
        // A newcomer's or loser's claim carries its round (see planAsOfRound), any other claim now.
        await this.claim(d.span, d.reason, d.round ?? this.slotTime(this.now()))
      } else if (d.action === 'standby') {
        if (self.state !== 'standby') {
          this.opts.log.info({ reason: d.reason }, 'going standby')
          await membership.updateSelf({ state: 'standby', span: null, prev: null, loading: null })
          void this.setBackendSpan(null)
        }
      } else if (settled() && self.span != null) {
        await this.commit(self.span)
      } else if (self.state === 'joining' && self.span != null) {
        // Re-check next slot (the verdict may be final by then), at the latest at the settle point.
        this.schedule(Math.max(1, Math.min(this.slotMs, this.settleAt(self.claimMs) - this.now())))
      } else if (self.state === 'joining' && self.span == null && self.claimMs + this.params.roundLeadMs > this.now()) {
        // A newcomer before its round: plan when its refresh is due, then at the round.
        const next = this.lastRefreshAt < refreshFrom && refreshFrom > this.now() ? refreshFrom : self.claimMs + this.params.roundLeadMs
        this.schedule(next - this.now())
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'planning failed')
    } finally {
      this.planning = false
      if (this.replan) this.schedule(0)
    }
  }

  private async claim (span: Span, reason: string, since: number): Promise<void> {
    const { membership } = this.opts
    const self = membership.selfState()
    this.stats.claims++
    this.stats.claimsByReason[reason] = (this.stats.claimsByReason[reason] ?? 0) + 1
    this.opts.log.info({ span, reason, from: self.span }, 'claiming blocks')
    this.claimedAt = this.now()
    await membership.updateSelf({ state: 'joining', span, claimMs: since, prev: { state: self.state, span: self.span }, loading: null })
    // A node that serves nothing yet starts loading the claimed blocks at once: the weights take
    // minutes, the claim settles in about a second, and a lost claim costs only a load that nobody
    // was waiting for. A serving node keeps its old span until the claim commits.
    if (self.state !== 'loading' && self.state !== 'online') void this.setBackendSpan(span)
    void this.pushClaim(span)
    // Next slot boundary: the earliest run at which the claim may commit (verdictFinal).
    this.schedule(1)
  }

  private async commit (span: Span): Promise<void> {
    const { membership } = this.opts
    const self = membership.selfState()
    this.stats.commits++
    if (this.hasLoaded && self.prev?.span != null && !sameSpan(self.prev.span, span)) this.stats.moves++
    // prev stays: with the claim time it tells validators of this claim's round what we were before.
    const backend = this.opts.backend.status()
    if (backend.state === 'online' && sameSpan(backend.span, span)) {
      // Loaded while the claim settled (see claim): straight to serving.
      this.opts.log.info({ span }, 'claim settled: serving blocks')
      this.hasLoaded = true
      await membership.updateSelf({ state: 'online', loading: null })
    } else {
      this.opts.log.info({ span }, 'claim settled: loading blocks')
      await membership.updateSelf({ state: 'loading', loading: { done: backend.state === 'loading' && sameSpan(backend.span, span) ? (backend.loading?.done ?? 0) : 0, total: span.end - span.start } })
    }
    this.emit('committed', span)
    void this.setBackendSpan(span)
  }

  /** Tells the peers that overlap the claim straight away; gossip carries it to everyone anyway. */
  private async pushClaim (span: Span): Promise<void> {
    const { membership, libp2p } = this.opts
    const targets = membership.view.live()
      .filter(m => m.record.span != null && m.record.span.start < span.end && span.start < m.record.span.end)
      .map(m => m.peerId)
      .filter(p => libp2p.getConnections(peerIdFromString(p)).length > 0)
      .slice(0, 8)
    await this.pushRecord(targets)
    this.schedule(0)
  }

  /** Whether a refresh has brought a bootstrap peer's view asked for after our join epoch. */
  private viewCoversRound (): boolean {
    return this.viewCovered?.epoch === this.opts.membership.selfState().claimMs
  }

  /**
   * Whether a newcomer may decide on its view: it holds the whole round (viewCoversRound), or no
   * bootstrap peer is connected to cover it (a bootstrap node itself, or one cut off from them).
   * A bootstrap peer knows every pending node of a round by the round's epoch (each pushes its
   * record to them and is dated again if the push landed late), so its view, asked for after the
   * epoch, holds the round; gossip alone can take seconds while a swarm's mesh forms.
   */
  private roundCovered (): boolean {
    if (this.viewCoversRound()) return true
    const connected = new Set(this.opts.libp2p.getPeers().map(p => p.toString()))
    return !(this.opts.bootstrapPeers ?? []).some(p => p !== this.opts.membership.peerId && connected.has(p))
  }

  /** Where a pending record is pushed: the connected bootstrap peers, else any connected peers (at most three). */
  private pendingTargets (): string[] {
    const connected = this.opts.libp2p.getPeers().map(p => p.toString())
    const boot = (this.opts.bootstrapPeers ?? []).filter(p => connected.includes(p))
    return (boot.length > 0 ? boot : connected).slice(0, 3)
  }

  /** Pushes our current signed record over the coverage protocol; returns how many peers took it. */
  private async pushRecord (targets: readonly string[]): Promise<number> {
    const { membership, libp2p } = this.opts
    const signed = membership.signedSelf()
    if (signed == null) return 0
    let taken = 0
    await Promise.all(targets.map(async p => {
      try {
        const stream = await libp2p.dialProtocol(peerIdFromString(p), COVERAGE_PROTOCOL, { signal: AbortSignal.timeout(2000), runOnLimitedConnection: true })
        const reply = await pushClaimOverStream(stream, { protocol: PROTOCOL_MAJOR, claim: signed })
        if (reply.error !== '') { this.opts.log.debug({ peer: p, error: reply.error }, 'record push refused'); return }
        taken++
        if (reply.overlapping.length > 0) await membership.applySnapshot({ protocol: PROTOCOL_MAJOR, model: membership.model, entries: reply.overlapping, error: '' }, p)
      } catch {}
    }))
    return taken
  }

  private async setBackendSpan (span: Span | null): Promise<void> {
    const { backend } = this.opts
    // A real Petals server asks for its initial peers right before each launch (they may have to be
    // waited for, see initialPeersFor); the simulated one joins no DHT and never waits.
    const opts = backend.needsInitialPeers
      ? { resolveInitialPeers: async (req: InitialPeersRequest) => await this.initialPeersFor(req) }
      : { initialPeers: this.seedDecision(false).initialPeers }
    try {
      await backend.setSpan(span, opts)
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message, span }, 'the Petals backend refused the span')
    }
  }

  /** chooseInitialPeers over the current view (petals-seed.ts), with the peers as a list ([] unless joining). */
  private seedDecision (restart: boolean): SeedDecision & { initialPeers: string[] } {
    const { membership, backend } = this.opts
    const d = chooseInitialPeers({
      self: { peerId: membership.peerId, petalsPeerId: backend.status().petalsPeerId, launched: restart },
      members: membership.view.live().map(m => ({ peerId: m.peerId, state: m.state, petals: m.record.petals }))
    })
    return { ...d, initialPeers: d.action === 'join' ? d.initialPeers : [] }
  }

  /**
   * The initial peers of a Petals server about to launch: the servers whose DHT is up; if none is,
   * [] (--new_swarm) for the swarm's seed only. Any other node waits, without blocking anything
   * (the backend sits in `waiting`), re-deciding on every change of the view, until a DHT is up or
   * the seed changes to us; after seedWaitMs it founds a swarm anyway and says why.
   */
  private async initialPeersFor (req: InitialPeersRequest): Promise<string[]> {
    const { log, membership } = this.opts
    // A node that has just started may not know its peers yet (an operator-fixed span launches at
    // once): it founds a swarm only once it has been in the swarm for a settle delay, as long as a
    // new node takes to be seen by everyone, so that nodes started together agree on the seed.
    const tooEarlyMs = (): number => this.params.settleMs - membership.uptimeMs()
    const first = this.seedDecision(req.restart)
    if (first.action === 'join') return first.initialPeers
    if (first.action === 'found' && tooEarlyMs() <= 0) {
      log.info({ span: req.span }, 'no member\'s Petals DHT is up and this node is the swarm\'s seed: starting a new Petals swarm (--new_swarm)')
      return []
    }
    const waitMs = this.opts.seedWaitMs ?? 120_000
    const startedAt = this.now()
    let seed = first.action === 'wait' ? first.seed : membership.peerId
    if (first.action === 'wait') log.info({ span: req.span, seed, waitMs }, 'no member\'s Petals DHT is up yet: waiting for the swarm\'s seed to start it before starting Petals')
    return await new Promise<string[]>((resolve) => {
      let queued = false
      const finish = (peers: string[]): void => {
        clearTimeout(deadline)
        clearTimeout(settled)
        clearInterval(poll)
        membership.off('swarm', onSwarm)
        req.signal.removeEventListener('abort', onAbort)
        resolve(peers)
      }
      const check = (): void => {
        queued = false
        if (req.signal.aborted || !this.running) return
        const d = this.seedDecision(req.restart)
        if (d.action === 'join') {
          log.info({ initialPeers: d.initialPeers, waitedMs: this.now() - startedAt }, 'a member\'s Petals DHT is up: starting Petals')
          finish(d.initialPeers)
        } else if (d.action === 'found') {
          if (tooEarlyMs() > 0) return // the settle timer checks again
          log.info({ previousSeed: seed === membership.peerId ? null : seed, waitedMs: this.now() - startedAt }, 'this node is the swarm\'s seed: starting a new Petals swarm (--new_swarm)')
          finish([])
        } else if (d.seed !== seed) {
          log.info({ seed: d.seed, previousSeed: seed }, 'the swarm\'s seed changed: waiting for it')
          seed = d.seed
        }
      }
      // Swarm events come in bursts: decide once per burst.
      const onSwarm = (): void => { if (!queued) { queued = true; setImmediate(check) } }
      const onAbort = (): void => { finish([]) } // the launch is no longer wanted: the backend ignores the answer
      const deadline = setTimeout(() => {
        log.warn({ seed, waitedMs: this.now() - startedAt, span: req.span },
          `no member's Petals DHT came up within petals.swarmSeedWaitMs (${waitMs} ms): starting a new Petals swarm (--new_swarm) anyway. ` +
          `This server forms a Petals swarm of its own (an island): clients and servers that bootstrap from the others cannot find it. ` +
          `The swarm's seed (${seed}) did not report its Petals DHT up: check that node's Petals log (petals/logs/petals.log in its data directory) ` +
          'and that this host can reach its Petals port; raise petals.swarmSeedWaitMs if Petals takes longer than that to start there. ' +
          'Once the swarm is up, restart this node (or let it move) to join it.')
        finish([])
      }, waitMs)
      // Also re-decide now and then: liveness changes by timeout are the view's own events, but a
      // missed one must not leave us waiting until the deadline.
      const poll = setInterval(onSwarm, Math.max(250, this.opts.tickMs ?? 1000))
      const settled = setTimeout(onSwarm, Math.max(0, tooEarlyMs()))
      membership.on('swarm', onSwarm)
      req.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  private onBackend (s: BackendStatus): void {
    const { membership } = this.opts
    const self = membership.selfState()
    const petals = s.petalsPeerId == null ? null : { peerId: s.petalsPeerId, multiaddrs: s.petalsMultiaddrs, torchDtype: self.petals?.torchDtype ?? '', quantType: self.petals?.quantType ?? '', adapters: self.petals?.adapters ?? [], state: s.state, dhtReady: s.dhtReady }
    // Other real Petals servers bootstrap from ours or wait for it (petals-seed.ts): they must learn
    // at once that it was launched and when its DHT comes up or goes, not with our next record.
    const publish = this.opts.backend.needsInitialPeers &&
      (petalsLaunched(self.petals?.state) !== petalsLaunched(s.state) || (self.petals?.dhtReady === true) !== s.dhtReady)
    if (s.state === 'online' && sameSpan(s.span, self.span) && (self.state === 'loading' || self.state === 'online')) {
      if (self.state !== 'online') this.opts.log.info({ span: s.span }, 'serving blocks')
      this.hasLoaded = true
      void membership.updateSelf({ state: 'online', loading: null, petals }, { publish })
    } else if ((s.state === 'loading' || s.state === 'starting') && self.state === 'loading' && sameSpan(s.span, self.span)) {
      void membership.updateSelf({ loading: s.loading ?? self.loading, petals }, { publish })
    } else if (s.state === 'failed') {
      this.opts.log.error({ error: s.lastError }, 'the Petals server keeps failing: going standby')
      void membership.updateSelf({ state: 'standby', span: null, loading: null, petals, prev: null }, { publish })
    } else {
      void membership.updateSelf({ petals }, { publish })
    }
  }
}
