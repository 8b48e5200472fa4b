// Lifting the bottleneck of a joint placement with a bounded exact-style search.
//
// The greedy + polish of assign.ts is a local search on a smooth stand-in (squared deficit to a water
// level) and stops in local optima up to 15 % below what a better packing reaches (the simulator's
// heterogeneous swarms, README "How far the bottleneck ratio is from 1"). This module asks the
// max-min question directly: "can the pool be placed so that every block has load ≥ B and at least
// rEff servers?", answered by a depth-first search that sweeps the blocks left to right, and
// binary-searches B upward from the greedy's bottleneck.
//
// Why sweeping is enough. Take any placement meeting target B and shift every span right while its
// first block keeps ≥ B and ≥ rEff servers without it (or the span reaches the model's end). Then each
// span starts either at the end (L − len) or at a block that, counting only spans starting earlier,
// falls short. So a search that, at the first block still short, tries every unused node starting
// there (or at L − len when the span would run past the end) can reach that placement: it is complete
// up to its budget. Identical nodes (same len and tq) are tried once, and the members placed at one
// block go in non-decreasing class order (a set of them is one choice, not one per ordering).
//
// Cuts: the deficit from the first short block on must fit what the unused nodes can still add, each
// at most min(tq, the largest shortfall) on at most min(len, short blocks) blocks, and likewise for
// missing servers. The search is a limited discrepancy search (see the end of sweepToTarget): a
// budgeted plain depth-first search spent its budget under its first bad early choice. Measured on
// the joint cold-start plans of the simulator's heterogeneous swarms (40 seeds per size; README
// "How far the bottleneck ratio is from 1"), against the plain search with 300 expansions: mean
// ratio to the bound 0.904 → 0.925 (12 nodes / 24 blocks), 0.914 → 0.926 (20 / 48), 0.941 → 0.944
// (30 / 30), at 4-7 ms per joint plan.
//
// The budget (expansions per target) keeps the cost bounded and the result deterministic: every node
// runs the same count-limited search on the same input, so it finds the same placement or none.
import type { RoundNode, RoundState } from './round-state.ts'

/** Search nodes expanded per target before giving up on it (a protocol constant: plans must agree). */
export const SWEEP_BUDGET = 1000
/** Binary search on the target stops when the bracket is within this fraction of the bottleneck. */
export const SWEEP_PRECISION = 0.01
/** Pool size × L above which the sweep is skipped (each expansion costs O(pool × len + L)). */
export const SWEEP_MAX_WORK = 20_000

export interface SweepResult {
  /** Start block per pool node (same order as the input), −1 for nodes the target did not need. */
  starts: Int32Array
  /** The target met: every block has load ≥ level and ≥ rEff servers with the used nodes placed. */
  level: number
}

/**
 * One target: a placement of (some of) `nodes` on top of `st` (not modified) such that every block
 * has load ≥ `target` and ≥ `st.rEff` servers, found within `budget` expansions, or null.
 */
export function sweepToTarget (st: RoundState, nodes: readonly RoundNode[], target: number, budget: number): Int32Array | null {
  const L = st.L
  const n = nodes.length
  const load = Float64Array.from(st.load)
  const cnt = Int32Array.from(st.cnt)
  const starts = new Int32Array(n).fill(-1)
  const rEff = st.rEff
  const len = Int32Array.from(nodes, x => x.len)
  const tq = Float64Array.from(nodes, x => x.tq)
  // Identical nodes (same len and tq) form a class; only its first unused member is tried.
  const classOf = new Int32Array(n)
  const classes = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const key = `${len[i]}:${tq[i]}`
    let c = classes.get(key)
    if (c == null) { c = classes.size; classes.set(key, c) }
    classOf[i] = c
  }
  const tried = new Uint8Array(classes.size)
  let expansions = 0
  const candI = new Int32Array(n)
  const candTier = new Int8Array(n)
  const candKey = new Float64Array(n)

  const place = (i: number, s: number, sign: 1 | -1): void => {
    for (let x = s; x < s + len[i]; x++) { load[x] += sign * tq[i]; cnt[x] += sign }
    starts[i] = sign === 1 ? s : -1
  }

  // minClass: members placed at the same short block go in non-decreasing class order (any set of
  // them can be, and the order among them changes nothing), so each set is tried once, not once per
  // ordering.
  const search = (from: number, minClass: number, disc: number): boolean => {
    let b = from
    while (b < L && load[b] >= target && cnt[b] >= rEff) b++
    if (b === L) return true
    if (b !== from) minClass = 0
    if (++expansions > budget) return false
    let need = 0; let needCount = 0; let maxShort = 0; let shortBlocks = 0; let thinBlocks = 0; let maxThin = 0
    for (let x = b; x < L; x++) {
      const short = target - load[x]
      if (short > 0) { need += short; shortBlocks++; if (short > maxShort) maxShort = short }
      const thin = rEff - cnt[x]
      if (thin > 0) { needCount += thin; thinBlocks++; if (thin > maxThin) maxThin = thin }
    }
    // What the unused members can still add: each at most min(tq, the largest shortfall) to each of
    // at most min(len, short blocks) short blocks, and one server to at most min(len, thin blocks)
    // blocks (this implies the plainer Σ min(tq, target) × len and Σ len cuts).
    let canMass = 0; let canCount = 0; let unused = 0
    for (let i = 0; i < n; i++) {
      if (starts[i] >= 0 || len[i] <= 0) continue
      unused++
      canMass += Math.min(tq[i], maxShort) * Math.min(len[i], shortBlocks)
      canCount += Math.min(len[i], thinBlocks)
    }
    if (need > canMass || needCount > canCount || maxThin > unused) return false
    // Candidates, one per (len, tq) class, ordered: nodes that alone lift block b to the target first,
    // least wasted throughput first (throughput landing above the target or on blocks already there);
    // then the others, most useful first.
    const d = target - load[b]
    let k = 0
    tried.fill(0)
    for (let i = 0; i < n; i++) {
      if (starts[i] >= 0 || len[i] <= 0 || classOf[i] < minClass || tried[classOf[i]] !== 0) continue
      tried[classOf[i]] = 1
      const s = Math.min(b, L - len[i])
      let use = 0
      for (let x = s; x < s + len[i]; x++) { const short = target - load[x]; if (short > 0) use += Math.min(tq[i], short) }
      candI[k] = i
      candTier[k] = tq[i] >= d ? 0 : 1
      candKey[k] = tq[i] >= d ? Math.min(tq[i], target) * len[i] - use : -use
      k++
    }
    const order = Array.from({ length: k }, (_, j) => j)
    order.sort((x, y) => (candTier[x] - candTier[y]) || (candKey[x] - candKey[y]) || (candI[x] - candI[y]))
    const picks = order.map(j => candI[j])
    for (let j = 0; j < picks.length; j++) {
      if (j > disc) { cut = true; break }
      const i = picks[j]
      const s = Math.min(b, L - len[i])
      place(i, s, 1)
      if (search(b, classOf[i], disc - j)) return true
      place(i, s, -1)
      if (expansions > budget) return false
    }
    return false
  }
  // Limited discrepancy search: first the paths that take the ordering's first choice everywhere,
  // then those straying from it by at most 1, 2, ... positions in all (taking the j-th candidate
  // costs j). A budgeted depth-first search spends its budget deep in the subtree of its first bad
  // early choice; this spreads it over the paths the ordering likes best. Complete: the limit grows
  // until a pass cuts nothing.
  let cut = true
  for (let limit = 0; cut && expansions <= budget; limit++) {
    cut = false
    if (search(0, 0, limit)) return starts
  }
  return null
}

/**
 * The highest target (within SWEEP_PRECISION) above `floor` that the sweep meets, searching up to
 * `ceiling` (an upper bound on the bottleneck, e.g. the water level tau); null when it meets none
 * above `floor`.
 */
export function liftBottleneck (st: RoundState, nodes: readonly RoundNode[], floor: number, ceiling: number, budget = SWEEP_BUDGET): SweepResult | null {
  let lo = floor
  let hi = Math.floor(ceiling)
  let best: SweepResult | null = null
  // Loads are sums of integer tq, so integer targets suffice.
  while (lo < hi && hi - lo > lo * SWEEP_PRECISION) {
    const mid = Math.ceil((lo + hi) / 2)
    const starts = sweepToTarget(st, nodes, mid, budget)
    if (starts != null) { lo = mid; best = { starts, level: mid } } else hi = mid - 1
  }
  return best
}
