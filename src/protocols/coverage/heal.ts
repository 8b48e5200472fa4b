// Healing: after members leave, refill blocks that lost coverage or fell below the replication target.
// Every node computes the same list of (healer, span), so exactly the designated nodes move: no stampede.
import type { Span } from '../types.ts'
import { canonicalCompare } from './order.ts'
import { addSpan, bestWindow, rangeMin } from './round-state.ts'
import type { RoundNode, RoundState } from './round-state.ts'
import { planHealReplacement, replacementOrder } from './replace.ts'
import type { CoverageParams } from './types.ts'

export interface PlannedMove { peerId: string, span: Span, from: Span | null }

export interface HealOptions {
  params: Pick<CoverageParams, 'minGain' | 'reloadMs' | 'horizonMs' | 'maxMoves'>
  /** Upper bound on the bottleneck (quantised units). */
  bound: number
}

function hasDeficit (st: RoundState): boolean {
  for (let b = 0; b < st.L; b++) if (st.cnt[b] < st.rEff) return true
  return false
}

function minOf (a: Float64Array): number {
  let m = Infinity
  for (let i = 0; i < a.length; i++) if (a[i] < m) m = a[i]
  return m
}

function hasHole (st: RoundState): boolean {
  for (let b = 0; b < st.L; b++) if (st.cnt[b] === 0) return true
  return false
}

/**
 * Fills holes (blocks with no server) first, then replication deficits, on `st` (mutated):
 * 1. standby spares, in canonical order, each where it covers most missing blocks;
 * 2. then donors: online nodes whose every block stays at the target without them (over-replicated),
 *    the one that loses least throughput first; only for a hole, a donor may dip blocks below the
 *    target (never to zero), since coverage comes before replication;
 *    or, if it pays better by the economic test (replace.ts's planHealReplacement), one to three of
 *    those nodes re-placed together, which restores replication with a better bottleneck when the
 *    spare replicas sit in the wrong places.
 * Each move strictly lowers (holes, missing replicas), so healing terminates and never flips back.
 */
export function planHeal (st: RoundState, spares: readonly RoundNode[], donors: readonly RoundNode[], opts: HealOptions): PlannedMove[] {
  const moves: PlannedMove[] = []
  if (!hasDeficit(st)) return moves

  for (const n of [...spares].filter(s => s.len > 0).sort(canonicalCompare)) {
    if (!hasDeficit(st)) return moves
    const w = bestWindow(st, n.len, n.tq)
    if (w == null || w.cover + w.repl === 0) continue
    const span = { start: w.start, end: w.start + n.len }
    addSpan(st, span, n.tq, 1)
    moves.push({ peerId: n.peerId, span, from: null })
  }

  if (!hasDeficit(st)) return moves
  const pool = [...donors].filter(d => d.state === 'online' && d.span != null && d.len > 0).sort(canonicalCompare)
  // The greedy donors on a copy, then re-placement of one to three nodes (replace.ts), which often
  // restores replication with a better bottleneck than donors taken one by one; the better amortised
  // bottleneck wins (the greedy on a tie, within minGain).
  const greedy: RoundState = { ...st, load: Float64Array.from(st.load), cnt: Int32Array.from(st.cnt) }
  const greedyMoves = greedyDonors(greedy, pool, opts.params.maxMoves - moves.length)
  let beat = -Infinity
  if (!hasDeficit(greedy)) {
    const H = opts.params.horizonMs; const r = Math.min(opts.params.reloadMs, H)
    const during = Float64Array.from(st.load)
    for (const m of greedyMoves) {
      const tq = pool.find(d => d.peerId === m.peerId)!.tq
      for (let b = m.from!.start; b < m.from!.end; b++) during[b] -= tq
    }
    beat = H > 0 ? (r * minOf(during) + (H - r) * minOf(greedy.load)) / H : minOf(greedy.load)
  }
  const placed = moves.length < opts.params.maxMoves
    ? planHealReplacement(st, replacementOrder(pool, canonicalCompare), { params: { ...opts.params, maxMoves: opts.params.maxMoves - moves.length }, bound: opts.bound, beat })
    : []
  const chosen = placed.length > 0 ? placed : greedyMoves
  for (const m of chosen) {
    const tq = pool.find(d => d.peerId === m.peerId)!.tq
    addSpan(st, m.from!, tq, -1)
    addSpan(st, m.span, tq, 1)
    moves.push(m)
  }
  return moves
}

/** Donors one by one (see planHeal), on `st` (mutated); at most maxMoves. */
function greedyDonors (st: RoundState, pool: readonly RoundNode[], maxMoves: number): PlannedMove[] {
  const moves: PlannedMove[] = []
  const used = new Set<string>()
  while (moves.length < maxMoves && hasDeficit(st)) {
    const hole = hasHole(st)
    const rc = rangeMin(st.cnt)
    const rl = rangeMin(st.load)
    let chosen: RoundNode | null = null
    let chosenRich = -Infinity
    let chosenScore = { cover: 0, repl: 0 }
    for (const tier of hole ? [1, 2] : [1]) {
      // Best (cover, repl) per span length first: the window doesn't depend on who fills it.
      const byLen = new Map<number, { cover: number, repl: number }>()
      for (const d of pool) {
        if (used.has(d.peerId)) continue
        const s = d.span!
        const m = rc.query(s.start, s.end) - 1
        // No cooldown here: a heal strictly lowers (holes, missing replicas), so it cannot flip back,
        // and a replica missing for the hour a fresh donor cools down is an hour of thin service.
        const ok = tier === 1 ? m >= st.rEff : m >= 1
        if (!ok) continue
        let best = byLen.get(d.len)
        if (best == null) {
          const w = bestWindow(st, d.len, 0)
          best = w == null ? { cover: 0, repl: 0 } : { cover: w.cover, repl: w.repl }
          byLen.set(d.len, best)
        }
        const useful = tier === 1 ? best.cover + best.repl > 0 : best.cover > 0
        if (!useful) continue
        const rich = rl.query(s.start, s.end) - d.tq
        const sc = best
        const betterScore = sc.cover !== chosenScore.cover ? sc.cover > chosenScore.cover : sc.repl > chosenScore.repl
        const sameScore = sc.cover === chosenScore.cover && sc.repl === chosenScore.repl
        if (chosen == null || betterScore || (sameScore && rich > chosenRich)) {
          chosen = d; chosenRich = rich; chosenScore = sc
        }
      }
      if (chosen != null) break
    }
    if (chosen == null) break
    const from = chosen.span!
    addSpan(st, from, chosen.tq, -1)
    const w = bestWindow(st, chosen.len, chosen.tq)!
    const span = { start: w.start, end: w.start + chosen.len }
    addSpan(st, span, chosen.tq, 1)
    used.add(chosen.peerId)
    moves.push({ peerId: chosen.peerId, span, from })
  }
  return moves
}
