// Healing: after members leave, refill blocks that lost coverage or fell below the replication target.
// Every node computes the same list of (healer, span), so exactly the designated nodes move: no stampede.
import type { Span } from '../types.ts'
import { canonicalCompare } from './order.ts'
import { addSpan, bestWindow, rangeMin } from './round-state.ts'
import type { RoundNode, RoundState } from './round-state.ts'

export interface PlannedMove { peerId: string, span: Span, from: Span | null }

export interface HealOptions {
  maxMoves: number
}

function hasDeficit (st: RoundState): boolean {
  for (let b = 0; b < st.L; b++) if (st.cnt[b] < st.rEff) return true
  return false
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
 *    target (never to zero), since coverage comes before replication.
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

  const used = new Set<string>()
  const pool = [...donors].filter(d => d.state === 'online' && d.span != null && d.len > 0).sort(canonicalCompare)
  while (moves.length < opts.maxMoves && hasDeficit(st)) {
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
