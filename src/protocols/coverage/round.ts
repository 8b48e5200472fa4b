// One planning round: classify the view, then (1) place pending nodes jointly, (2) heal what is still
// missing (by re-placing a few nodes when no spare or donor can), (3) rebalance only if the swarm is
// otherwise quiet. Claims validation (claims.ts) re-runs the same round on a rolled-back view, so
// everything that decides a claim must live here.
import type { Span } from '../types.ts'
import { assignPool } from './assign.ts'
import { clampSpan, effectiveReplication, quantize, usableLength } from './coverage.ts'
import { planHeal, type PlannedMove } from './heal.ts'
import { planRebalance } from './rebalance.ts'
import { planRepair } from './repair.ts'
import { replacementOrder } from './replace.ts'
import { canonicalCompare } from './order.ts'
import { newRoundState, type RoundNode, type RoundState } from './round-state.ts'
import type { CoverageParams, PlanMember } from './types.ts'
import { capacityBoundOf } from './upper-bound.ts'

export interface RoundContext {
  L: number
  R: number
  params: CoverageParams
  now: number
}

export interface Claim extends RoundNode {
  prev: { state: PlanMember['state'], span: Span | null } | null
}

/** A view sorted into the roles planning needs. */
export interface Classified {
  /** Cannot hold one block: always standby. */
  tooSmall: RoundNode[]
  spares: RoundNode[]
  /** loading/online with a span; `prev` = what it had before the claim this span came from, if known. */
  established: Claim[]
  /** joining with a span, not expired. */
  claims: Claim[]
  /** joining without a span (or expired claims), past the settle delay. */
  eligible: RoundNode[]
  /** pending, still inside the settle delay. */
  waiting: RoundNode[]
  /**
   * Offline or leaving members with a span and a claim time: gone now, but alive in their own round
   * and later, so cohort validation puts them back in the re-runs of rounds at or before their
   * `since` (claims.ts). Nothing else plans with them.
   */
  ghosts: Claim[]
}

export function toRoundNode (m: PlanMember, L: number): RoundNode {
  return {
    peerId: m.peerId,
    capacity: m.capacity,
    throughput: m.throughput,
    len: usableLength(m.capacity, L),
    tq: quantize(m.throughput),
    state: m.state,
    span: clampSpan(m.span, L),
    since: m.since ?? -Infinity
  }
}

export function isExpired (since: number, now: number, params: CoverageParams): boolean {
  return Number.isFinite(now) && now - since > params.claimTtlMs
}

export function classify (members: readonly PlanMember[], ctx: RoundContext): Classified {
  const out: Classified = { tooSmall: [], spares: [], established: [], claims: [], eligible: [], waiting: [], ghosts: [] }
  const { now, params } = ctx
  for (const m of members) {
    if (m.state === 'offline' || m.state === 'leaving') {
      const g = toRoundNode(m, ctx.L)
      if (g.len > 0 && g.span != null && Number.isFinite(g.since)) {
        out.ghosts.push({ ...g, prev: m.prev == null ? null : { state: m.prev.state, span: clampSpan(m.prev.span, ctx.L) } })
      }
      continue
    }
    const n = toRoundNode(m, ctx.L)
    if (n.len === 0) { out.tooSmall.push(n); continue }
    if (m.state === 'standby') { out.spares.push(n); continue }
    if ((m.state === 'loading' || m.state === 'online') && n.span != null) {
      // Established spans count as announced (clamped to the model): that is what clients will see.
      out.established.push({ ...n, prev: m.prev == null ? null : { state: m.prev.state, span: clampSpan(m.prev.span, ctx.L) } })
      continue
    }
    if (m.state === 'joining' && n.span != null) {
      // A claim still joining after claimTtlMs is dropped: its claimant vanished or stalled (a stalled
      // claimant that is still alive re-plans itself, see planSpan).
      if (isExpired(n.since, now, params)) continue
      out.claims.push({ ...n, prev: m.prev == null ? null : { state: m.prev.state, span: clampSpan(m.prev.span, ctx.L) } })
      continue
    }
    // Pending: no span, or online without a span.
    const p = { ...n, span: null }
    if (!Number.isFinite(n.since) || now - n.since >= params.roundLeadMs) out.eligible.push(p)
    else out.waiting.push(p)
  }
  return out
}

export interface RoundResult {
  joins: Map<string, Span>
  heals: PlannedMove[]
  moves: PlannedMove[]
  /** Per-block state after the round (everything above applied). */
  state: RoundState
}

/**
 * Plans one round on top of `fixed` (established spans and settled claims).
 * `quiet` = no negotiation in progress (no claims, no pending nodes): only then may anyone rebalance.
 */
export function planRound (ctx: RoundContext, fixed: readonly RoundNode[], pool: readonly RoundNode[], spares: readonly RoundNode[], quiet: boolean, newcomersWaiting = false): RoundResult {
  const { L, params, now } = ctx
  // Spares count toward what replication capacity allows (they are there to fill it), not toward the
  // throughput water level (they serve only when something is missing).
  const nPart = fixed.length + pool.length
  const lens = new Int32Array(nPart + spares.length)
  const tqs = new Float64Array(nPart)
  let k = 0
  for (const list of [fixed, pool]) for (const n of list) { lens[k] = n.len; tqs[k] = n.tq; k++ }
  for (const n of spares) lens[k++] = n.len
  const rEff = effectiveReplication(lens, L, ctx.R)
  const tau = capacityBoundOf(lens.subarray(0, nPart), tqs, L)
  const st = newRoundState(L, rEff, tau)
  // Difference arrays: O(N + L) instead of touching every block of every span.
  const dc = new Int32Array(L + 1); const dl = new Float64Array(L + 1)
  for (const n of fixed) {
    if (n.span == null) continue
    dc[n.span.start]++; dc[n.span.end]--
    dl[n.span.start] += n.tq; dl[n.span.end] -= n.tq
  }
  let c = 0; let l = 0
  for (let b = 0; b < L; b++) { c += dc[b]; l += dl[b]; st.cnt[b] = c; st.load[b] = l }

  const joins = assignPool(st, pool, params.polishPasses)
  // While newcomers are still inside their settle delay they will fill what is missing: nobody heals
  // (a spare spent on a transient gap of a cold start is a spare missing at the next crash, and a
  // donor would reload its weights for a gap a newcomer fills within a settle delay).
  const heals = newcomersWaiting ? [] : planHeal(st, spares, fixed, { maxMoves: params.maxMoves })
  let moves: PlannedMove[] = []
  if (quiet && pool.length === 0 && heals.length === 0) {
    let deficit = false
    for (let b = 0; b < L && !deficit; b++) if (st.cnt[b] < rEff) deficit = true
    const locked = new Uint8Array(L)
    for (const n of fixed) {
      if (n.state !== 'online' && n.span != null) for (let b = n.span.start; b < n.span.end; b++) locked[b] = 1
    }
    if (!deficit) {
      moves = planRebalance(st, fixed, { params, now, bound: tau, locked })
    } else if (!locked.some(x => x !== 0)) {
      // Below the target and nothing heal.ts can do: re-place a few nodes (repair.ts). One set at a
      // time, as with re-placements: nothing may be loading anywhere. Repairs are heals to everyone
      // else (they restore replication), so they go out with that reason.
      const eligible = replacementOrder(fixed.filter(n => n.state === 'online' && n.span != null && n.len > 0 && n.len < L), canonicalCompare)
      heals.push(...planRepair(st, eligible, { params, bound: tau }))
    }
  }
  return { joins, heals, moves, state: st }
}
