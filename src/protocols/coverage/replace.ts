// Re-placement: take one, two or three nodes out of a layout and place them again where they lift
// the bottleneck most (an exact search: the deficit sweep of deficit-sweep.ts without its budget,
// affordable for so few nodes). Two users:
// - the rebalancer (rebalance.ts): after a crash in a tight replication-2 layout no single donor can
//   leave its blocks without one of them falling below the target, although a better layout is a
//   few moves away (one node steps into the weak region and a neighbour shifts over to cover what it
//   left). planReplacement keeps the set whose move pays best by the economic test, counting the dip
//   while the set reloads;
// - the joint plan (assign.ts): improveByReplacement runs the same neighbourhood as a free local
//   search (pool nodes have loaded nothing, so moving them costs nothing). A joint plan is then a
//   local optimum of the neighbourhood the rebalancer searches, so a swarm that converged on one
//   gives the rebalancer nothing to do: steady swarms make no moves.
// Both are deterministic (fixed candidate order, exact searches), so every node plans the same.
import type { Span } from '../types.ts'
import type { PlannedMove } from './heal.ts'
import { addSpan, type RoundNode, type RoundState } from './round-state.ts'
import { shouldMove } from './rebalance.ts'
import type { CoverageParams } from './types.ts'

/** The first this many candidates (in the caller's order) are tried alone and in pairs: a protocol constant. */
export const REPLACE_PAIRS_OF = 48
/** The first this many are also tried in triples (1,140 of them): a protocol constant. */
export const REPLACE_TRIPLES_OF = 20
/** Improvements the joint plan's local search makes at most. A protocol constant. */
export const REPLACE_STEPS = 32

/** Singles and pairs of the first REPLACE_PAIRS_OF, then triples of the first REPLACE_TRIPLES_OF, in index order. */
export function * candidateSets (nodes: readonly RoundNode[]): Generator<RoundNode[]> {
  const p = nodes.slice(0, REPLACE_PAIRS_OF)
  for (const n of p) yield [n]
  for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) yield [p[i], p[j]]
  const t = nodes.slice(0, REPLACE_TRIPLES_OF)
  for (let i = 0; i < t.length; i++) {
    for (let j = i + 1; j < t.length; j++) for (let k = j + 1; k < t.length; k++) yield [t[i], t[j], t[k]]
  }
}

export function minOf (a: Float64Array): number {
  let m = Infinity
  for (let i = 0; i < a.length; i++) if (a[i] < m) m = a[i]
  return m
}

/** `st` with the spans of `set` taken out, in the given scratch arrays. */
export function withoutSet (st: RoundState, set: readonly RoundNode[], load: Float64Array, cnt: Int32Array): RoundState {
  load.set(st.load); cnt.set(st.cnt)
  for (const n of set) {
    const s = n.span!
    for (let b = s.start; b < s.end; b++) { load[b] -= n.tq; cnt[b]-- }
  }
  return { L: st.L, rEff: st.rEff, tau: st.tau, load, cnt }
}

/**
 * Whether the per-block server counts left while a set reloads (`without`) are allowed: a block may
 * lose one replica for the reload, never its last server (≥ max(1, min(rEff − 1, servers now))).
 */
export function keepsServersWhileReloading (st: RoundState, without: RoundState): boolean {
  for (let b = 0; b < st.L; b++) if (without.cnt[b] < Math.max(1, Math.min(st.rEff - 1, st.cnt[b]))) return false
  return true
}

/**
 * Start blocks for `set` on `without` meeting `target` everywhere (≥ target load and ≥ rEff servers
 * on every block), lifted to the highest such target up to `bound`; null if `target` is out of reach.
 * The highest target is exact: feasibility only falls as the target rises, so a binary search over
 * whole units finds it (loads are sums of whole quantised throughputs).
 */
export function replaceSet (without: RoundState, set: readonly RoundNode[], target: number, bound: number): Int32Array | null {
  if (!mayReach(without, set, target)) return null
  let best = placeSmallSet(without, set, target)
  if (best == null) return null
  let lo = target; let hi = Math.floor(bound)
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2)
    const starts = mayReach(without, set, mid) ? placeSmallSet(without, set, mid) : null
    if (starts != null) { lo = mid; best = starts } else hi = mid - 1
  }
  return best
}

/**
 * Exact search for a placement of a few nodes meeting `target` (the deficit sweep without budget or
 * pruning, affordable for up to three nodes: at most 3 + 3·2 + 3·2·1 expansions). The first block
 * still short must be covered by a node starting exactly there (or at L − len): deficit-sweep.ts's
 * header shows any placement can be shifted into that form. `without` is restored before returning.
 * Nodes the target does not need get −1.
 */
function placeSmallSet (without: RoundState, set: readonly RoundNode[], target: number): Int32Array | null {
  const { L, load, cnt, rEff } = without
  const starts = new Int32Array(set.length).fill(-1)
  const search = (from: number): boolean => {
    let b = from
    while (b < L && load[b] >= target && cnt[b] >= rEff) b++
    if (b === L) return true
    for (let i = 0; i < set.length; i++) {
      if (starts[i] >= 0) continue
      const n = set[i]
      const s = Math.min(b, L - n.len)
      for (let x = s; x < s + n.len; x++) { load[x] += n.tq; cnt[x]++ }
      starts[i] = s
      const ok = search(b)
      for (let x = s; x < s + n.len; x++) { load[x] -= n.tq; cnt[x]-- }
      if (ok) return true
      starts[i] = -1
    }
    return false
  }
  return search(0) ? starts : null
}

/**
 * The deficit sweep's root cuts, without its allocations (most candidate sets fail them): the
 * shortfall below `target` and the missing servers must fit what `set` can add.
 */
function mayReach (without: RoundState, set: readonly RoundNode[], target: number): boolean {
  const { L, load, cnt, rEff } = without
  let need = 0; let maxShort = 0; let shortBlocks = 0; let needCount = 0; let thinBlocks = 0; let maxThin = 0
  for (let b = 0; b < L; b++) {
    const short = target - load[b]
    if (short > 0) { need += short; shortBlocks++; if (short > maxShort) maxShort = short }
    const thin = rEff - cnt[b]
    if (thin > 0) { needCount += thin; thinBlocks++; if (thin > maxThin) maxThin = thin }
  }
  if (maxThin > set.length) return false
  let canMass = 0; let canCount = 0
  for (const n of set) {
    canMass += Math.min(n.tq, maxShort) * Math.min(n.len, shortBlocks)
    canCount += Math.min(n.len, thinBlocks)
  }
  return need <= canMass && needCount <= canCount
}

/** Canonical candidate order: fastest first, then the planning order. */
export function replacementOrder (nodes: readonly RoundNode[], compare: (a: RoundNode, b: RoundNode) => number): RoundNode[] {
  return [...nodes].sort((a, b) => (b.tq - a.tq) || compare(a, b))
}

export interface ReplaceOptions {
  params: Pick<CoverageParams, 'minGain' | 'reloadMs' | 'horizonMs' | 'maxMoves'> & Partial<Pick<CoverageParams, 'cooldownGain'>>
  /** Upper bound on the bottleneck (quantised units). */
  bound: number
  /** Nodes inside their cool-down: a set with one must gain max(minGain, cooldownGain). */
  cooling?: (n: RoundNode) => boolean
}

/**
 * The best re-placement of a candidate set of `eligible` (already filtered: online, no block in a
 * locked region; in replacementOrder) that passes the economic test, or [] if none does; a set with a
 * node for which `cooling` holds must gain max(minGain, cooldownGain) instead of minGain.
 * `st` is not modified. While the set reloads, every block keeps max(1, min(rEff − 1, its servers
 * now)) servers: a move may take one replica away from a block for the reload, never its last one.
 */
export function planReplacement (st: RoundState, eligible: readonly RoundNode[], opts: ReplaceOptions): PlannedMove[] {
  const L = st.L
  const before = minOf(st.load)
  if (!(before > 0)) return []
  const { params } = opts
  const H = params.horizonMs
  const r = Math.min(params.reloadMs, H)
  if (H <= 0 || r >= H) return []
  const load = new Float64Array(L)
  const cnt = new Int32Array(L)
  let best: { moves: PlannedMove[], score: number, size: number } | null = null

  for (const set of candidateSets(eligible)) {
    if (set.length > params.maxMoves) continue
    const without = withoutSet(st, set, load, cnt)
    if (!keepsServersWhileReloading(st, without)) continue
    const during = minOf(load)
    const gain = opts.cooling != null && set.some(opts.cooling) ? Math.max(params.minGain, params.cooldownGain ?? Infinity) : params.minGain
    if (!Number.isFinite(gain)) continue
    // The bottleneck after the reload that makes the amortised average beat before × (1 + gain).
    const need = (before * (1 + gain) * H - r * during) / (H - r)
    const target = Math.floor(need) + 1
    if (target > opts.bound) continue
    const starts = replaceSet(without, set, target, opts.bound)
    if (starts == null) continue
    // A node the placement does not need, or puts back where it was: a smaller set covers that.
    if (set.some((n, i) => starts[i] < 0 || starts[i] === n.span!.start)) continue
    const moves = set.map((n, i): PlannedMove => ({ peerId: n.peerId, span: { start: starts[i], end: starts[i] + n.len }, from: n.span }))
    for (const m of moves) addSpan(without, m.span, set.find(n => n.peerId === m.peerId)!.tq, 1)
    // The true bottleneck after the moves (the search's target is only a floor).
    const after = minOf(load)
    if (!shouldMove({ before, after, during, params: { ...params, minGain: gain } })) continue
    const score = (r * during + (H - r) * after) / H
    // Best amortised bottleneck; on a tie the smaller set (fewer reloads), then the first found.
    if (best == null || score > best.score * (1 + 1e-12) ||
      (score >= best.score * (1 - 1e-12) && set.length < best.size)) {
      best = { moves, score, size: set.length }
    }
  }
  return best?.moves ?? []
}

/**
 * Local search on a placement with no hole: re-place the first candidate set (in
 * candidateSets order over `nodes`, which must be in replacementOrder and carry their current spans)
 * whose re-placement raises the bottleneck with rEff servers on every block (on a placement short of
 * replicas, only sets that also restore them count), and start over, at most REPLACE_STEPS times. `st` (which
 * includes the nodes' spans) is updated; returns the new spans of the nodes that changed.
 */
export function improveByReplacement (st: RoundState, nodes: readonly RoundNode[], bound: number): Map<string, Span> {
  const L = st.L
  const cur = nodes.filter(n => n.span != null && n.len > 0 && n.len < L).map(n => ({ ...n }))
  const changed = new Map<string, Span>()
  const load = new Float64Array(L)
  const cnt = new Int32Array(L)
  for (let step = 0; step < REPLACE_STEPS; step++) {
    const target = Math.floor(minOf(st.load)) + 1
    if (target > bound) break
    let improved = false
    for (const set of candidateSets(cur)) {
      const without = withoutSet(st, set, load, cnt)
      const starts = replaceSet(without, set, target, bound)
      if (starts == null) continue
      set.forEach((n, i) => {
        const span = starts[i] < 0 ? n.span! : { start: starts[i], end: starts[i] + n.len }
        addSpan(st, n.span!, n.tq, -1)
        addSpan(st, span, n.tq, 1)
        n.span = span
        changed.set(n.peerId, span)
      })
      improved = true
      break
    }
    if (!improved) break
  }
  return changed
}
