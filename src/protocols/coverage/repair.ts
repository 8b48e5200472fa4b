// Repair: a block is below the replication target and heal.ts found neither a spare nor a donor that
// can leave its blocks (a tight layout after a crash: every server is needed where it is). A few nodes
// re-placed together can often still restore the target: one steps onto the thin blocks, a neighbour
// shifts over to cover what it left. This is replace.ts's search with replication as the goal:
// - a set qualifies only if, once it has reloaded, every block is back at the target;
// - no economic test and no cool-down: like a heal it strictly lowers the missing replicas, so it can
//   never flip back, and replication comes before the bottleneck;
// - while the set reloads no block loses its last server (nor falls below target − 1);
// - among qualifying sets, the best amortised bottleneck wins, then the smaller set.
// Deterministic (fixed candidate order, exact searches), so every node plans the same repair.
import type { PlannedMove } from './heal.ts'
import { candidateSets, keepsServersWhileReloading, minOf, replaceSet, withoutSet } from './replace.ts'
import { addSpan, type RoundNode, type RoundState } from './round-state.ts'
import type { CoverageParams } from './types.ts'

export interface RepairOptions {
  params: Pick<CoverageParams, 'reloadMs' | 'horizonMs' | 'maxMoves'>
  /** Upper bound on the bottleneck (quantised units). */
  bound: number
}

/**
 * The best set of one to three `eligible` nodes (online, in replacementOrder) whose re-placement
 * brings every block of `st` to st.rEff servers, or [] if none does. `st` gets the moves applied.
 */
export function planRepair (st: RoundState, eligible: readonly RoundNode[], opts: RepairOptions): PlannedMove[] {
  const L = st.L
  const { params } = opts
  const H = Math.max(1, params.horizonMs)
  const r = Math.min(params.reloadMs, H)
  const load = new Float64Array(L)
  const cnt = new Int32Array(L)
  let best: { moves: PlannedMove[], set: RoundNode[], score: number } | null = null

  for (const set of candidateSets(eligible)) {
    if (set.length > params.maxMoves) continue
    const without = withoutSet(st, set, load, cnt)
    if (!keepsServersWhileReloading(st, without)) continue
    const during = minOf(load)
    // Any positive bottleneck with the target met everywhere, lifted as high as the set allows.
    const starts = replaceSet(without, set, 1, opts.bound)
    if (starts == null) continue
    // A node the placement does not need, or puts back where it was: a smaller set covers that.
    if (set.some((n, i) => starts[i] < 0 || starts[i] === n.span!.start)) continue
    const moves = set.map((n, i): PlannedMove => ({ peerId: n.peerId, span: { start: starts[i], end: starts[i] + n.len }, from: n.span }))
    set.forEach((n, i) => addSpan(without, moves[i].span, n.tq, 1))
    const score = (r * during + (H - r) * minOf(load)) / H
    if (best == null || score > best.score * (1 + 1e-12) ||
      (score >= best.score * (1 - 1e-12) && set.length < best.set.length)) {
      best = { moves, set, score }
    }
  }
  if (best == null) return []
  best.set.forEach((n, i) => { addSpan(st, n.span!, n.tq, -1); addSpan(st, best!.moves[i].span, n.tq, 1) })
  return best.moves
}
