// Claim conflict resolution, computed identically by every node from the claims it has seen.
//
// What a conflict is. A claim is the span the planner gave its node from the claimant's view. Two
// claims conflict when the claimants planned without seeing each other (or each other's pending record),
// so that together they are not what the planner would have produced with both in view: typically
// both took the same weakest blocks, i.e. overlap beyond what replication and the throughput objective
// ask for. Overlap as such is not a conflict: with spare capacity the plan itself stacks servers.
//
// The rule. Claims made in the same planning round (same `since`) form a cohort. Cohorts are settled
// oldest first, an older claim always beats a newer one. For a cohort, every validator rolls its members
// back to what they were before claiming (pending newcomer, spare, or online at `prev.span`) and re-runs
// the deterministic round as of the cohort's time on top of the older, already settled claims. A member
// whose claim is its slot in that re-run (or, for a newcomer, nearly as good as its slot there) keeps
// it; the others lost. Inside a cohort the planner's order therefore decides who keeps contested blocks
// (biggest block-throughput first, then peer-id hash). The loser learns it from the same computation
// and re-plans at once; no random back-off.
//
// Why this is safe over gossip: the verdict on a claim depends only on claims at least as old, so a claim
// arriving late can only ever lose, never unseat a settled one; two validators that have seen the same
// claims give the same verdict. Claims still joining after claimTtlMs are dropped (claimant gone), and a
// vanished member's claim is not judged (nor kept): it only takes part, as its member was at the
// time, in the re-runs of rounds at or before its own.
import type { Span } from '../types.ts'
import { planRound, type Claim, type Classified, type RoundContext } from './round.ts'
import { addSpan, scoreWindow, type RoundNode, type RoundState } from './round-state.ts'
import { classify } from './round.ts'
import { resolveParams, type CoverageParams, type PlanMember } from './types.ts'

export interface CohortOutcome {
  valid: Claim[]
  lost: Claim[]
}

function sameSpan (a: Span | null | undefined, b: Span | null | undefined): boolean {
  return a != null && b != null && a.start === b.start && a.end === b.end
}

function wasServing (c: Claim): boolean {
  return c.prev != null && (c.prev.state === 'online' || c.prev.state === 'loading') && c.prev.span != null
}

/**
 * A newcomer's claim stands if it is its slot in the re-run, or nearly as good there: no fewer blocks
 * covered or replicated, and at least (1 − CLAIM_TOLERANCE) of the slot's throughput gain. The slack
 * absorbs small differences between the claimant's view and the validator's (an older claim replaced
 * meanwhile), which would otherwise ripple through every later cohort when gossip is slow.
 */
export const CLAIM_TOLERANCE = 0.25

function closeEnough (st: RoundState, c: Claim, slot: Span | undefined): boolean {
  if (slot == null || c.span == null) return false
  if (sameSpan(slot, c.span)) return true
  const len = c.span.end - c.span.start
  if (len !== slot.end - slot.start) return false
  addSpan(st, slot, c.tq, -1)
  const mine = scoreWindow(st, c.span.start, len, c.tq)
  const best = scoreWindow(st, slot.start, len, c.tq)
  addSpan(st, slot, c.tq, 1)
  return mine.cover >= best.cover && mine.repl >= best.repl && mine.gain >= (1 - CLAIM_TOLERANCE) * best.gain
}

/**
 * Established members as they were at round `since`. A member that committed a claim of this round
 * or a later one (its `since`, kept from the claim) is rolled back like a claim: to its old span, to
 * spare, to pending if it joined in this very round, absent if it joined later. Otherwise a round
 * would be judged differently before and after its first members commit.
 */
function rollBackCommitted (established: readonly Claim[], since: number): { fixed: RoundNode[], pool: RoundNode[], spares: RoundNode[] } {
  const out = { fixed: [] as RoundNode[], pool: [] as RoundNode[], spares: [] as RoundNode[] }
  for (const e of established) {
    if (e.prev == null || e.since < since) out.fixed.push(e)
    else if (wasServing(e)) out.fixed.push({ ...e, state: 'online', span: e.prev.span, since: -Infinity })
    else if (e.prev.state === 'standby') out.spares.push({ ...e, state: 'standby', span: null })
    else if (e.since === since) out.pool.push({ ...e, state: 'joining', span: null })
  }
  return out
}

/** Validates every claim cohort of a classified view, oldest first. */
export function validateCohorts (ctx: RoundContext, cls: Classified): CohortOutcome {
  const bySince = new Map<number, Claim[]>()
  for (const c of cls.claims) {
    const list = bySince.get(c.since)
    if (list == null) bySince.set(c.since, [c]); else list.push(c)
  }
  const cohorts = [...bySince.entries()].sort((a, b) => a[0] - b[0])
  const valid: Claim[] = []
  const lost: Claim[] = []
  const settled: RoundNode[] = []
  // Newcomers whose claim lost in an older cohort: until they claim again they are being re-planned,
  // and the claimants of every later round placed them as such.
  const replanning: RoundNode[] = []
  const pending = [...cls.eligible, ...cls.waiting]
  for (let k = 0; k < cohorts.length; k++) {
    const [since, members] = cohorts[k]
    const fixed: RoundNode[] = [...settled]
    // Members gone since (crashed or left) were there in their own round and later: as they were
    // then, or the re-run is not the round its claimants planned (a member of a cold start's cohort
    // that crashes right after it would make every claim of the cohort look lost to a validator
    // that has not seen the commits yet). Whether an older one was still there at `since` is
    // unknown: those stay out.
    const committedThen = rollBackCommitted([...cls.established, ...cls.ghosts.filter(g => g.since >= since)], since)
    fixed.push(...committedThen.fixed)
    // The claimants of this round planned every node that was eligible then, not only themselves:
    // the re-run must too, or a round whose claims have not all arrived yet looks like a conflict.
    const eligibleThen = pending.filter(p => p.since + ctx.params.roundLeadMs <= since)
    const pool: RoundNode[] = [...eligibleThen, ...replanning, ...committedThen.pool].map(p => ({ ...p, state: 'joining' as const, span: null }))
    const spares: RoundNode[] = [...cls.spares, ...committedThen.spares]
    // Roll this cohort and the later ones back to before they claimed; later newcomers did not take
    // part in this round, later movers and spares were still where they had been.
    let laterNewcomers = false
    for (let j = k; j < cohorts.length; j++) {
      for (const c of cohorts[j][1]) {
        if (wasServing(c)) fixed.push({ ...c, state: 'online', span: c.prev!.span, since: -Infinity })
        else if (c.prev?.state === 'standby') spares.push({ ...c, state: 'standby', span: null })
        else if (j === k) pool.push({ ...c, state: 'joining', span: null })
        else laterNewcomers = true
      }
    }
    const pendingThen = pending.some(p => p.since <= since)
    const quiet = k === 0 && !pendingThen && !laterNewcomers && pool.length === 0
    // Newcomers announced before this round but not yet eligible in it were waiting then.
    const waitingThen = pending.some(p => p.since <= since && p.since + ctx.params.roundLeadMs > since)
    const r = planRound({ ...ctx, now: since }, fixed, pool, spares, quiet, waitingThen)
    const moved = new Map<string, Span>()
    for (const m of [...r.heals, ...r.moves]) moved.set(m.peerId, m.span)
    for (const c of members) {
      const ok = moved.has(c.peerId)
        ? sameSpan(moved.get(c.peerId), c.span) // a designated move must be exactly the designated one
        : closeEnough(r.state, c, r.joins.get(c.peerId))
      if (ok) {
        valid.push(c)
        settled.push(c)
      } else {
        lost.push(c)
        if (!wasServing(c) && c.prev?.state !== 'standby') replanning.push(c)
      }
    }
  }
  return { valid, lost }
}

export interface ClaimsView {
  totalBlocks: number
  replication: number
  members: readonly PlanMember[]
  params?: Partial<CoverageParams>
  now?: number
}

export interface ClaimResolution {
  /** Peer ids whose claims stand, oldest cohort first. */
  winners: string[]
  /** Peer ids whose claims lost (they must re-plan now). */
  losers: string[]
}

/** Which claims (`joining` members with a span) win, as every node with this view computes it. */
export function resolveClaims (view: ClaimsView): ClaimResolution {
  const ctx: RoundContext = { L: view.totalBlocks, R: view.replication, params: resolveParams(view.params), now: view.now ?? Infinity }
  const { valid, lost } = validateCohorts(ctx, classify(view.members, ctx))
  return { winners: valid.map(c => c.peerId), losers: lost.map(c => c.peerId) }
}
