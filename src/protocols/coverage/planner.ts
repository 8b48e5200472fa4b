// The petalmesh planner: a pure, deterministic function from a swarm view to what every member should
// do. A node calls planSpan for itself; the simulator calls planSwarm once per view and reads everyone's
// decision from it (same answer, since planSpan is planSwarm + a lookup).
//
// Order of concerns, as the issue asks: coverage, then replication, then the bottleneck.
//  1. claims under negotiation are validated (claims.ts); losers re-plan in this same call;
//  2. pending nodes are placed jointly (assign.ts), which is what stops simultaneous starters from
//     piling onto the same blocks;
//  3. whatever is still missing is healed by spares, then by donors from over-replicated blocks (heal.ts);
//  4. only a quiet swarm rebalances, and only when a move pays for its reload (rebalance.ts).
import type { Span } from '../types.ts'
import { usableLength } from './coverage.ts'
import { validateCohorts } from './claims.ts'
import { classify, isExpired, planRound, type RoundContext } from './round.ts'
import type { RoundNode } from './round-state.ts'
import { canonicalCompare } from './order.ts'
import { resolveParams, type CoverageParams, type PlanDecision, type PlanInput, type PlanMember } from './types.ts'

export interface SwarmView {
  totalBlocks: number
  replication: number
  /** Every member, self included. */
  members: readonly PlanMember[]
  params?: Partial<CoverageParams>
  now?: number
}

export interface SwarmPlan {
  /** A decision for every member of the view. */
  decisions: Map<string, PlanDecision>
  /** The decisions that are not 'stay', in canonical member order. */
  actions: Array<{ peerId: string, decision: PlanDecision }>
  /** Claimants whose claim lost (their decision re-plans them). */
  losers: string[]
  /**
   * Earliest time at which the same view could give a different plan through timers alone (settle
   * delay, claim expiry, cooldown); Infinity if none. Lets a caller skip re-planning an unchanged view.
   */
  validUntil: number
}

const STAY: PlanDecision = Object.freeze({ action: 'stay' }) as PlanDecision

function serve (span: Span, reason: 'join' | 'claim-lost' | 'heal' | 'rebalance'): PlanDecision {
  return { action: 'serve', span: { start: span.start, end: span.end }, reason }
}

export function planSwarm (view: SwarmView): SwarmPlan {
  const params = resolveParams(view.params)
  const now = view.now ?? Infinity
  const ctx: RoundContext = { L: Math.max(0, Math.floor(view.totalBlocks)), R: view.replication, params, now }
  const byId = new Map<string, PlanMember>()
  for (const m of view.members) byId.set(m.peerId, m)
  const members = [...byId.values()]

  const cls = classify(members, ctx)
  const { valid, lost } = validateCohorts(ctx, cls)
  const pool: RoundNode[] = [...cls.eligible, ...lost.map(c => ({ ...c, state: 'joining' as const, span: null }))]
  const quiet = cls.claims.length === 0 && cls.eligible.length === 0 && cls.waiting.length === 0
  const r = planRound(ctx, [...cls.established, ...valid], pool, cls.spares, quiet, cls.waiting.length > 0)

  const decisions = new Map<string, PlanDecision>()
  for (const m of members) decisions.set(m.peerId, STAY)
  for (const n of cls.tooSmall) if (n.state !== 'standby') decisions.set(n.peerId, { action: 'standby', reason: 'capacity' })
  const lostIds = new Set(lost.map(c => c.peerId))
  for (const [id, span] of r.joins) decisions.set(id, serve(span, lostIds.has(id) ? 'claim-lost' : 'join'))
  for (const m of r.heals) decisions.set(m.peerId, serve(m.span, 'heal'))
  for (const m of r.moves) decisions.set(m.peerId, serve(m.span, 'rebalance'))

  let validUntil = Infinity
  if (Number.isFinite(now)) {
    const later = (t: number): void => { if (t > now && t < validUntil) validUntil = t }
    for (const n of cls.waiting) later(n.since + params.roundLeadMs)
    for (const c of cls.claims) later(c.since + params.claimTtlMs + 1)
    for (const n of cls.established) if (n.state === 'online') later(n.since + params.cooldownMs)
  }

  const order = members.filter(m => decisions.get(m.peerId) !== STAY).sort(canonicalCompare)
  return {
    decisions,
    actions: order.map(m => ({ peerId: m.peerId, decision: decisions.get(m.peerId)! })),
    losers: lost.map(c => c.peerId),
    validUntil
  }
}

/**
 * What this node should do: 'serve' a span (claim it), 'standby', or 'stay' as it is.
 * Deterministic: the same view gives the same answer on every node (no clock reads, no randomness).
 */
export function planSpan (input: PlanInput): PlanDecision {
  const self = input.self
  let me: PlanMember = self
  const params = resolveParams(input.params)
  if (self.state === 'joining' && self.span != null && isExpired(self.since ?? -Infinity, input.now ?? Infinity, params)) {
    // My own claim expired unanswered (I stalled): start over as a pending node.
    me = { ...self, span: null, since: -Infinity }
  }
  const pendingSpare = self.standby === true && (self.state === 'joining' || self.state === 'standby') && self.span == null
  if (pendingSpare) me = { ...self, state: 'standby', span: null }
  const members = input.members.filter(m => m.peerId !== self.peerId)
  members.push(me)
  if (usableLength(self.capacity, input.totalBlocks) === 0) {
    return self.state === 'standby' ? STAY : { action: 'standby', reason: 'capacity' }
  }
  const plan = planSwarm({ totalBlocks: input.totalBlocks, replication: input.replication, members, params: input.params, now: input.now })
  const d = plan.decisions.get(self.peerId) ?? STAY
  if (pendingSpare && d.action === 'stay' && self.state !== 'standby') return { action: 'standby', reason: 'spare' }
  if (d.action === 'serve' && (d.reason === 'join' || d.reason === 'claim-lost') && me.state === 'joining') {
    return planAsOfRound(input, me, members, params) ?? d
  }
  return d
}

/**
 * Where a newcomer (or a loser) claims: the slot the validators will give it when they re-run its
 * round. Its round is its join epoch + the round lead (a loser's: lost claim + settle); claims made in that round or later
 * that reached us first are rolled back to the pending nodes they were then, and the round is planned
 * as of its own time. Without this a claimant that plans late, after some of its round's claims
 * arrived, plans a different layout from the one its round is judged by and loses.
 */
function planAsOfRound (input: PlanInput, me: PlanMember, members: readonly PlanMember[], params: CoverageParams): PlanDecision | null {
  const since = me.since ?? -Infinity
  // A newcomer's round is its epoch + the round lead; a loser's, its lost claim's round + settle.
  const round = since + (me.span == null ? params.roundLeadMs : params.settleMs)
  const now = input.now ?? Infinity
  // A round long past (a stalled node) is not reopened: the claim is dated now and judged as new.
  if (!Number.isFinite(round) || !Number.isFinite(now) || round > now || now - round > params.claimTtlMs / 2) return null
  const asOfRound: PlanMember[] = []
  for (const m of members) {
    const mSince = m.since ?? -Infinity
    if (m.peerId === me.peerId) { asOfRound.push(m); continue }
    const claimed = m.span != null && (m.state === 'joining' || m.state === 'loading' || m.state === 'online')
    if (claimed && m.prev != null && mSince >= round) {
      // Claimed (or committed) in this round or later: as it was at the round.
      if (m.prev.state === 'online' || m.prev.state === 'loading') {
        if (m.prev.span != null) asOfRound.push({ ...m, state: 'online', span: m.prev.span, since: -Infinity, prev: undefined })
      } else if (m.prev.state === 'standby') {
        asOfRound.push({ ...m, state: 'standby', span: null, prev: undefined })
      } else if (mSince === round) {
        asOfRound.push({ ...m, state: 'joining', span: null, since: round - params.roundLeadMs, prev: undefined })
      }
      continue
    }
    // Announced too late to be planned in this round: not there yet.
    if (m.state === 'joining' && m.span == null && mSince + params.roundLeadMs > round) continue
    asOfRound.push(m)
  }
  const plan = planSwarm({ totalBlocks: input.totalBlocks, replication: input.replication, members: asOfRound, params: input.params, now })
  const d = plan.decisions.get(me.peerId)
  if (d?.action !== 'serve') return null
  return { action: 'serve', span: d.span, reason: d.reason, round }
}
