// Inputs and outputs of the coverage logic. Everything here is plain data so the planner stays a pure
// function: the network layer builds a view from gossip, the simulator builds one from its event log.
import type { MemberInfo, NodeState, Span } from '../types.ts'

/**
 * A member as the planner sees it: the shared MemberInfo plus the two optional facts negotiation needs.
 *
 * Record conventions (what a node announces):
 * - `joining` + `span: null`: pending, wants a span but has not claimed one yet;
 * - `joining` + span: a claim under negotiation (not loading weights yet);
 * - `loading` + span: claim settled, weights loading; `online` + span: serving;
 * - `standby`: a spare (or a node that cannot hold one block); `leaving`/`offline`: going or gone.
 */
export interface PlanMember extends MemberInfo {
  /**
   * Wall-clock ms when the member entered its current (state, span): announce time for a pending node,
   * claim time for a claim (kept through loading/online, so it is also "serving this span since").
   * Claims with the same `since` form a cohort, negotiated together. Missing = long ago.
   */
  since?: number
  /**
   * For a claim (`joining` + span): what the claimant had before claiming. Lets every validator roll the
   * cohort back and re-run the decision that produced it. Missing = a newcomer (pending before).
   */
  prev?: { state: NodeState, span: Span | null }
}

/** Self as input to planSpan: a member plus local configuration. */
export interface PlanSelf extends PlanMember {
  /** Operator asked for a spare: serve only to fill holes. */
  standby?: boolean
}

export interface CoverageParams {
  /** A claim commits this long after it was published (so every planner sees it before it counts). */
  settleMs: number
  /**
   * A pending node's round (when it is planned for, and from when it counts in everyone's plans) is
   * this long after the join epoch it announced. Default: half of settleMs. Its cohort's records
   * reach the bootstrap peers before the epoch and a refresh from them covers the round, so the
   * round need not wait a whole settle delay for gossip (negotiator.ts, PROTOCOL 15.2).
   */
  roundLeadMs: number
  /** A claim still `joining` after this long is ignored (its claimant vanished or stalled). */
  claimTtlMs: number
  /** Move only when the amortised bottleneck gain exceeds this factor (0.2 = +20 %). */
  minGain: number
  /** Downtime of one move: Petals unloads the old span and loads the new one. */
  reloadMs: number
  /** The horizon over which a reload is amortised when deciding whether a move pays. */
  horizonMs: number
  /**
   * A node that claimed its span less than this long ago is not asked to rebalance by the donor rule,
   * and joins a re-placement set only if the set's amortised gain beats cooldownGain (hysteresis).
   */
  cooldownMs: number
  /**
   * The gain factor a re-placement set with a node inside its cool-down must beat (instead of
   * minGain): after a crash a tight layout can lose a quarter of its bottleneck, which one or two
   * moves win back; waiting out the hour would cost that hour.
   */
  cooldownGain: number
  /** Most rebalance moves planned at once (one per region); beyond this the plan is dropped. */
  maxMoves: number
  /** Free re-placement passes over not-yet-loaded nodes after the greedy assignment. */
  polishPasses: number
}

export const DEFAULT_COVERAGE_PARAMS: Readonly<CoverageParams> = Object.freeze({
  settleMs: 1000,
  roundLeadMs: 500,
  claimTtlMs: 30_000,
  minGain: 0.01,
  reloadMs: 600_000,
  horizonMs: 2 * 3_600_000,
  cooldownMs: 3_600_000,
  cooldownGain: 0.1,
  maxMoves: 64,
  polishPasses: 3
})

export interface PlanInput {
  totalBlocks: number
  /** Wanted servers per block (met where total capacity allows). */
  replication: number
  self: PlanSelf
  /** The other members (self is ignored if present). */
  members: readonly PlanMember[]
  params?: Partial<CoverageParams>
  /** Wall-clock ms; needed for settle, claim expiry and cooldown. Missing = all timers elapsed. */
  now?: number
}

export type PlanReason =
  | 'join' // a pending node takes its slot in the joint assignment
  | 'claim-lost' // a concurrent claim ranked higher; re-plan at once
  | 'heal' // fill a hole left by departed members
  | 'rebalance' // worthwhile move for the bottleneck
  | 'capacity' // cannot hold a single block
  | 'spare' // configured standby and no hole to fill

export type PlanDecision =
  | { action: 'stay' }
  | {
    action: 'serve'
    span: Span
    reason: PlanReason
    /**
     * For a newcomer's claim or a loser's re-claim: the round it belongs to, which the claim must
     * carry as its `since` (announce + settle, or lost claim + settle), so that all of one round's
     * claims form one cohort whatever moment each claimant got to plan.
     */
    round?: number
  }
  | { action: 'standby', reason: PlanReason }

export function resolveParams (p: Partial<CoverageParams> | undefined): CoverageParams {
  const out = { ...DEFAULT_COVERAGE_PARAMS, ...p }
  // The lead follows a configured settle delay unless it is given itself.
  if (p?.roundLeadMs == null && p?.settleMs != null) out.roundLeadMs = Math.floor(p.settleMs / 2)
  return out
}
