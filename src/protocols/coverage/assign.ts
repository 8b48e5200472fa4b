// Joint assignment of every pending node at once: the cold-start fix. Each planner computes the same
// placement for all pending nodes it knows and takes its own slot, so nodes that start together land on
// different blocks without random sleeps.
import type { Span } from '../types.ts'
import { canonicalCompare } from './order.ts'
import { liftBottleneck, SWEEP_MAX_WORK } from './deficit-sweep.ts'
import { petalsChooseBestStart } from './petals-baseline.ts'
import { improveByReplacement, replacementOrder } from './replace.ts'
import { addSpan, bestWindow, better, scoreWindow } from './round-state.ts'
import type { RoundNode, RoundState } from './round-state.ts'

/** Greedy orders tried; the first is always run, the others only while the pool is small. */
const ORDERS: ReadonlyArray<(n: RoundNode) => number> = [
  n => n.len * n.tq, // most block-throughput first: big fast nodes set the shape, small ones fill gaps
  n => n.len, // longest spans first (first-fit-decreasing)
  n => n.tq // fastest first
]
/** Pool size × blocks under which all orders are tried (each costs a greedy plus polishing). */
const MULTI_START_WORK = 400_000
/** Water-level rounds and step of the max-min polish. */
const LEVEL_ROUNDS = 20
const LEVEL_STEP = 0.01

function minLoad (st: RoundState): number {
  let m = Infinity
  for (let b = 0; b < st.L; b++) if (st.load[b] < m) m = st.load[b]
  return m
}

/** Re-place each node where it scores strictly better, until nothing moves or `passes` run out. */
function polish (st: RoundState, order: readonly RoundNode[], placed: Map<string, Span>, passes: number): void {
  for (let pass = 0; pass < passes; pass++) {
    let moved = false
    for (const n of order) {
      const cur = placed.get(n.peerId)
      if (cur == null || n.len >= st.L) continue
      addSpan(st, cur, n.tq, -1)
      const here = scoreWindow(st, cur.start, n.len, n.tq)
      const w = bestWindow(st, n.len, n.tq)
      let span = cur
      if (w != null && w.start !== cur.start && better(w, here)) {
        span = { start: w.start, end: w.start + n.len }
        placed.set(n.peerId, span)
        moved = true
      }
      addSpan(st, span, n.tq, 1)
    }
    if (!moved) break
  }
}

/** Places each node of `order` in turn at its bestWindow on `st` (mutated), recording it in `placed`. */
function placeGreedily (st: RoundState, order: readonly RoundNode[], placed: Map<string, Span>): void {
  for (const n of order) {
    const w = bestWindow(st, n.len, n.tq)
    if (w == null) continue
    const span = { start: w.start, end: w.start + n.len }
    addSpan(st, span, n.tq, 1)
    placed.set(n.peerId, span)
  }
}

function runOrder (st: RoundState, order: readonly RoundNode[], polishPasses: number): Map<string, Span> {
  const placed = new Map<string, Span>()
  placeGreedily(st, order, placed)
  if (polishPasses <= 0) return placed
  polish(st, order, placed, polishPasses)
  // Max-min focus: lower the water level to just above the current bottleneck and polish again, so only
  // the weakest blocks pull; repeat while the bottleneck rises (a deterministic leximin local search).
  const tau = st.tau
  for (let round = 0; round < LEVEL_ROUNDS; round++) {
    const b0 = minLoad(st)
    if (!(b0 > 0) || b0 >= tau) break
    st.tau = Math.min(tau, b0 * (1 + LEVEL_STEP))
    polish(st, order, placed, polishPasses)
    st.tau = tau
    if (minLoad(st) <= b0) break
  }
  return placed
}

/** (holes, missing replicas, −bottleneck): smaller is better. */
type Quality = [number, number, number]
/** Spans of pool nodes and the quality of the round state they give. */
interface Placement { placed: Map<string, Span>, q: Quality }

function copyState (st: RoundState): RoundState {
  return { ...st, cnt: Int32Array.from(st.cnt), load: Float64Array.from(st.load) }
}

function quality (st: RoundState): Quality {
  let holes = 0; let missing = 0
  for (let b = 0; b < st.L; b++) {
    if (st.cnt[b] === 0) holes++
    if (st.cnt[b] < st.rEff) missing += st.rEff - st.cnt[b]
  }
  return [holes, missing, -minLoad(st)]
}

function lexLess (a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i]
  return false
}

/**
 * A lone newcomer (pool of one) with no hole or replica to fill (every window scores (0, 0); else
 * null and the general search below places it): the window whose loads, sorted ascending, are
 * lexicographically smallest (Petals' `_choose_best_start`, earliest start on a tie). The squared-deficit
 * sum trades the weakest block against several slightly stronger ones, so a lone node could leave the
 * bottleneck where it was; the leximin window lifts the weakest blocks first, which is what the
 * bottleneck, averaged over the time until the next newcomer, rewards. Joint placement of several
 * nodes keeps the squared-deficit search below (there the shape of the whole packing matters).
 */
function placeAlone (st: RoundState, n: RoundNode): Map<string, Span> | null {
  const w = bestWindow(st, n.len, n.tq)
  if (w == null || w.cover !== 0 || w.repl !== 0) return null
  const start = petalsChooseBestStart(st.load, n.len)
  const span = { start, end: start + n.len }
  addSpan(st, span, n.tq, 1)
  return new Map([[n.peerId, span]])
}

/**
 * Places `pool` on top of `st` (mutated): a greedy pass (coverage, then replication, then squared
 * deficit to the water level), then free re-placement of pool nodes (moving a node that has loaded
 * nothing costs nothing, which is why only the pool is polished). Small pools try several greedy
 * orders and keep the best result. Returns the span of every pool node that can hold a block.
 */
export function assignPool (st: RoundState, pool: readonly RoundNode[], polishPasses: number): Map<string, Span> {
  const nodes = pool.filter(n => n.len > 0)
  if (nodes.length === 0) return new Map()
  if (nodes.length === 1) {
    const alone = placeAlone(st, nodes[0])
    if (alone != null) return alone
  }
  const variants = nodes.length * st.L <= MULTI_START_WORK ? ORDERS.length : 1
  let best: Placement | null = null
  for (let v = 0; v < variants; v++) {
    const key = ORDERS[v]
    const order = [...nodes].sort((a, b) => (key(b) - key(a)) || canonicalCompare(a, b))
    const trial = copyState(st)
    const placed = runOrder(trial, order, polishPasses)
    const q = quality(trial)
    if (best == null || lexLess(q, best.q)) best = { placed, q }
  }
  const lifted = best!.q[0] === 0 ? liftPlacement(st, nodes, best!) : null
  if (lifted != null) best = lifted
  for (const n of nodes) {
    const span = best!.placed.get(n.peerId)
    if (span != null) addSpan(st, span, n.tq, 1)
  }
  return best!.placed
}

/**
 * Lifts a placement that covers every block (at `rEff` or not): the deficit sweep (deficit-sweep.ts)
 * finds the highest bottleneck it can meet with the pool at `rEff` servers everywhere (a tight triple
 * cover, say, that the greedy misses), the nodes it did not need placed greedily on
 * top (first order above); the better of that and `greedy` then goes through the re-placement local
 * search (replace.ts), which also makes the plan a point the rebalancer finds nothing to improve on.
 * Returns the result if its quality beats `greedy`'s, else null.
 */
function liftPlacement (st: RoundState, nodes: readonly RoundNode[], greedy: Placement): Placement | null {
  if (nodes.length < 2 || nodes.length * st.L > SWEEP_MAX_WORK) return null
  const canonical = [...nodes].sort(canonicalCompare)
  const key = sweepKey(st, canonical, greedy)
  let out = sweepMemo.get(key)
  if (out !== undefined) {
    sweepMemo.delete(key) // re-inserted below: most recently used last
  } else {
    out = liftUncached(st, canonical, greedy)
    if (sweepMemo.size >= SWEEP_MEMO_SIZE) sweepMemo.delete(sweepMemo.keys().next().value!)
  }
  sweepMemo.set(key, out)
  // A copy: callers add to what they are given.
  return out == null ? null : { placed: new Map(out.placed), q: [...out.q] }
}

/**
 * The sweep costs milliseconds, and a node re-validates the same cohort at every plan run while it
 * negotiates (and, in a simulator process, every node does): the same input gives the same answer,
 * so recent answers are kept. Keyed by everything the result depends on.
 */
const sweepMemo = new Map<string, Placement | null>()
const SWEEP_MEMO_SIZE = 64

function sweepKey (st: RoundState, canonical: readonly RoundNode[], greedy: Placement): string {
  const parts: string[] = [String(st.L), String(st.rEff), String(st.tau), greedy.q.join(','), st.load.join(','), st.cnt.join(',')]
  for (const n of canonical) parts.push(`${n.peerId}:${n.len}:${n.tq}:${greedy.placed.get(n.peerId)?.start ?? -1}`)
  return parts.join('|')
}

function liftUncached (st: RoundState, canonical: readonly RoundNode[], greedy: Placement): Placement | null {
  let placed = greedy.placed
  // A greedy result short of replicas is no floor: the sweep then looks for any placement meeting rEff.
  const sweep = liftBottleneck(st, canonical, greedy.q[1] === 0 ? -greedy.q[2] : 0, st.tau)
  if (sweep != null) {
    const swept = new Map<string, Span>()
    const trial = copyState(st)
    const rest: RoundNode[] = []
    canonical.forEach((n, i) => {
      const start = sweep.starts[i]
      if (start < 0) { rest.push(n); return }
      const span = { start, end: start + n.len }
      addSpan(trial, span, n.tq, 1)
      swept.set(n.peerId, span)
    })
    const first = ORDERS[0]
    rest.sort((a, b) => (first(b) - first(a)) || canonicalCompare(a, b))
    placeGreedily(trial, rest, swept)
    if (lexLess(quality(trial), greedy.q)) placed = swept
  }
  const trial = copyState(st)
  for (const n of canonical) {
    const span = placed.get(n.peerId)
    if (span != null) addSpan(trial, span, n.tq, 1)
  }
  const withSpans = canonical.map(n => ({ ...n, span: placed.get(n.peerId) ?? null }))
  const improved = improveByReplacement(trial, replacementOrder(withSpans, canonicalCompare), st.tau)
  if (improved.size > 0) {
    placed = new Map(placed)
    for (const [id, span] of improved) placed.set(id, span)
  }
  const q = quality(trial)
  return lexLess(q, greedy.q) ? { placed, q } : null
}
