// An upper bound on the bottleneck any placement could reach, so the simulator can report how close a
// planner gets (achieved / bound) without solving the NP-hard placement problem exactly.
//
// The math. Node i serves a contiguous span S_i of m_i = min(floor(capacity_i), L) blocks and adds t_i
// to each; T_b = Σ_{i: b∈S_i} t_i and the bottleneck is B = min_b T_b.
//
// (1) Capping. For every block b, Σ_{i∋b} min(t_i, B) ≥ B: if some t_i ≥ B is in the sum that term alone
//     is B, otherwise the sum is T_b ≥ B. (A node faster than the bottleneck cannot help more than B.)
// (2) Any weights y_b ≥ 0 with Σ_b y_b = 1 (a "dual certificate"). Multiply (1) by y_b and sum over b:
//       B ≤ Σ_i min(t_i, B) · y(S_i) ≤ Σ_i min(t_i, B) · ŷ(m_i),   ŷ(m) = max over windows W of m blocks of y(W).
// (3) φ_y(B) = Σ_i min(t_i, B)·ŷ(m_i) is concave and piecewise linear with φ_y(0) = 0, so {B : B ≤ φ_y(B)}
//     is an interval [0, B_y] and B ≤ B_y. Every y gives a valid bound; we return the smallest we find.
// (4) Without the capping, min_y Σ_i t_i·ŷ(m_i) is exactly the LP dual of the fractional relaxation (each
//     node spreads one unit of placement over its possible windows and the smallest block load is
//     maximised), so this is an LP-relaxation bound, tightened by (1). We try
//       - y uniform: ŷ = m/L, the classic "total throughput×blocks / L" bound (with capping);
//       - y equal on blocks 0, δ, 2δ, …: a span of m blocks holds at most ⌊(m−1)/δ⌋+1 of those k points,
//         which charges spans that cannot tile L without overlap (e.g. 21-block spans on 80 blocks);
//       - a few mirror-descent steps on the LP dual from the best of those. Each iterate is feasible, so
//         stopping early only loosens the bound, never invalidates it.
// (5) Integrality of coverage: if Σ_i m_i < L no placement covers every block and the bound is 0.
// (6) Counting (pigeonhole). The blocks hold at most M = Σ_i m_i node-blocks; let c = ⌊M / L⌋. Either
//     some block has at most c − 1 servers, and B ≤ the sum of the c − 1 largest t_i; or every block has
//     at least c, so at most M − cL blocks have more and at least (c + 1)L − M have exactly c. Each of
//     those needs a server with t_i ≥ B/c (c throughputs sum to ≥ B), and a node holds at most m_i of
//     them: Σ_{t_i ≥ B/c} m_i ≥ (c + 1)L − M. So B ≤ max(c−1 largest t summed, c · t_(k)), t_(k) the
//     throughput at which the fastest nodes' lengths first reach (c + 1)L − M. The LP misses this when
//     capacity is scarce, where fractional placement spreads every node thinly over all blocks.
//     For c = 2 the exactly-two blocks say more: each holds two servers whose throughputs sum to ≥ B,
//     on two node-block slots no other block uses, so the M slots (node i contributes m_i copies of
//     t_i) must hold 3L − M disjoint pairs summing to ≥ B (a relaxation: it allows a node to pair with
//     itself). The most such pairs a sorted multiset holds is what the two-pointer greedy finds, and it
//     only falls as B grows: bisect. A placement that uses fewer node-blocks is covered too (fewer
//     slots, more exactly-two blocks, or c < 2).
import { usableLength } from './coverage.ts'

export interface BoundNode { capacity: number, throughput: number }

export interface UpperBoundOptions {
  /** Mirror-descent steps on the dual; default scales down with (distinct lengths × L). */
  iterations?: number
}

interface Prepared {
  L: number
  /** Node throughputs ascending and their lengths, parallel arrays. */
  t: Float64Array
  m: Int32Array
  /** Distinct lengths and Σ t per length. */
  lengths: number[]
  tByLength: Map<number, number>
}

function prepare (nodes: readonly BoundNode[], L: number): Prepared | null {
  const items: Array<{ t: number, m: number }> = []
  let mass = 0
  for (const n of nodes) {
    const m = usableLength(n.capacity, L)
    if (m <= 0 || !(n.throughput > 0) || !Number.isFinite(n.throughput)) continue
    items.push({ t: n.throughput, m })
    mass += m
  }
  if (L <= 0 || mass < L) return null
  items.sort((a, b) => a.t - b.t || a.m - b.m)
  const t = new Float64Array(items.length)
  const m = new Int32Array(items.length)
  const tByLength = new Map<number, number>()
  items.forEach((it, i) => {
    t[i] = it.t; m[i] = it.m
    tByLength.set(it.m, (tByLength.get(it.m) ?? 0) + it.t)
  })
  return { L, t, m, lengths: [...tByLength.keys()].sort((a, b) => a - b), tByLength }
}

/** (6), with t sorted ascending. */
function countingBound (p: Prepared): number {
  let mass = 0
  for (let i = 0; i < p.m.length; i++) mass += p.m[i]
  const c = Math.floor(mass / p.L)
  let fewer = 0 // the c − 1 largest t summed
  for (let i = p.t.length - 1; i >= 0 && i > p.t.length - c; i--) fewer += p.t[i]
  const need = (c + 1) * p.L - mass
  if (need <= 0) return Infinity
  let fastest = Infinity
  let len = 0
  for (let i = p.t.length - 1; i >= 0; i--) {
    len += p.m[i]
    if (len >= need) { fastest = c * p.t[i]; break }
  }
  const pairs = c === 2 ? pairingBound(p, need) : Infinity
  return Math.max(fewer, Math.min(fastest, pairs))
}

/** (6) for c = 2: the smallest B (within 1e-9 relative) at which the slots hold fewer than `need` pairs summing to ≥ B. */
function pairingBound (p: Prepared, need: number): number {
  const slots: number[] = []
  for (let i = 0; i < p.t.length; i++) for (let k = 0; k < p.m[i]; k++) slots.push(p.t[i]) // t ascending, so slots are too
  const pairsAtLeast = (B: number): number => {
    let i = 0; let j = slots.length - 1; let k = 0
    while (i < j) {
      if (slots[i] + slots[j] >= B) { k++; j-- }
      i++
    }
    return k
  }
  let lo = 0
  let hi = 2 * p.t[p.t.length - 1] + 1 // never feasible: no pair sums above twice the fastest
  for (let it = 0; it < 100 && hi - lo > 1e-9 * hi; it++) {
    const mid = (lo + hi) / 2
    if (pairsAtLeast(mid) >= need) lo = mid; else hi = mid
  }
  return hi
}

/** Largest B with B ≤ Σ_i min(t_i, B)·w(m_i), nodes sorted by t ascending. */
function cappedFixedPoint (p: Prepared, w: (m: number) => number): number {
  const n = p.t.length
  let W = 0 // Σ w over nodes not yet capped (t_i > B)
  for (let i = 0; i < n; i++) W += w(p.m[i])
  let A = 0 // Σ t_i w_i over capped nodes (t_i ≤ B)
  let lo = 0
  for (let i = 0; i <= n; i++) {
    const hi = i < n ? p.t[i] : Infinity
    // On [lo, hi]: φ(B) = A + B·W; root of A + B·W − B. (W within float dust of 1 counts as 1: a
    // certificate's weights sum to 1 only up to rounding.)
    if (W >= 1 - 1e-12) {
      if (hi === Infinity) return Infinity
    } else {
      const root = A / (1 - W)
      if (root <= hi) return Math.max(root, lo)
    }
    if (i < n) {
      const wi = w(p.m[i])
      A += p.t[i] * wi
      W -= wi
      lo = hi
    }
  }
  return lo
}

/** ŷ(m) for every distinct length: max window sum of y, via prefix sums. */
function windowMaxima (y: Float64Array, lengths: readonly number[]): Map<number, { value: number, start: number }> {
  const L = y.length
  const pre = new Float64Array(L + 1)
  for (let b = 0; b < L; b++) pre[b + 1] = pre[b] + y[b]
  const out = new Map<number, { value: number, start: number }>()
  for (const m of lengths) {
    let best = -1; let bs = 0
    for (let s = 0; s + m <= L; s++) {
      const v = pre[s + m] - pre[s]
      if (v > best) { best = v; bs = s }
    }
    out.set(m, { value: best, start: bs })
  }
  return out
}

/**
 * An upper bound on the achievable bottleneck (smallest per-block summed throughput) for these nodes on
 * `totalBlocks` blocks, in the nodes' throughput units. See the derivation at the top of this file.
 */
export function upperBound (nodes: readonly BoundNode[], totalBlocks: number, opts: UpperBoundOptions = {}): number {
  const L = Math.floor(totalBlocks)
  const p = prepare(nodes, L)
  if (p == null) return 0
  let best = Math.min(cappedFixedPoint(p, m => m / L), countingBound(p))
  if (L <= 1) return best

  // Spaced points: score every δ uncapped (cheap, per distinct length), cap the best few.
  const scored: Array<{ d: number, v: number }> = []
  for (let d = 2; d < L; d++) {
    const k = Math.floor((L - 1) / d) + 1
    let v = 0
    for (const m of p.lengths) v += p.tByLength.get(m)! * Math.min(k, Math.floor((m - 1) / d) + 1) / k
    scored.push({ d, v })
  }
  scored.sort((a, b) => a.v - b.v || a.d - b.d)
  let bestY: Float64Array | null = null
  for (const { d } of scored.slice(0, 3)) {
    const k = Math.floor((L - 1) / d) + 1
    const b = cappedFixedPoint(p, m => Math.min(k, Math.floor((m - 1) / d) + 1) / k)
    if (b < best) {
      best = b
      bestY = new Float64Array(L)
      for (let j = 0; j < k; j++) bestY[j * d] = 1 / k
    }
  }

  // Mirror descent on the LP dual, from the best certificate mixed with uniform (multiplicative updates
  // cannot revive a zero weight).
  const work = p.lengths.length * L
  const iterations = opts.iterations ?? (work <= 100_000 ? 60 : work <= 1_000_000 ? 12 : 0)
  if (iterations > 0) {
    let y = new Float64Array(L)
    for (let b = 0; b < L; b++) y[b] = 0.8 / L + 0.2 * (bestY == null ? 1 / L : bestY[b])
    for (let it = 0; it < iterations; it++) {
      const wm = windowMaxima(y, p.lengths)
      const b = cappedFixedPoint(p, m => wm.get(m)!.value)
      if (b < best) best = b
      // Subgradient of Σ_i min(t_i, best)·ŷ(m_i): each node class pushes on its heaviest window.
      const g = new Float64Array(L + 1)
      for (let i = 0; i < p.t.length; i++) {
        const w = wm.get(p.m[i])!
        const c = Math.min(p.t[i], best)
        g[w.start] += c; g[w.start + p.m[i]] -= c
      }
      let run = 0; let gmax = 0
      const grad = new Float64Array(L)
      for (let j = 0; j < L; j++) { run += g[j]; grad[j] = run; if (run > gmax) gmax = run }
      if (gmax <= 0) break
      const eta = 2 / Math.sqrt(it + 1)
      let sum = 0
      const next = new Float64Array(L)
      for (let j = 0; j < L; j++) { next[j] = y[j] * Math.exp(-eta * grad[j] / gmax); sum += next[j] }
      for (let j = 0; j < L; j++) next[j] /= sum
      y = next
    }
  }
  return best
}

/** Achieved / bound in [0, 1]; 1 when the bound is 0 (nothing better was possible). */
export function bottleneckRatio (achieved: number, bound: number): number {
  if (!(bound > 0)) return 1
  return Math.max(0, Math.min(1, achieved / bound))
}

/**
 * The cheap form of the bound (uniform certificate with capping), O(N log N): what the planner uses as
 * its water level, where the tighter search would cost too much on every round.
 */
export function capacityBound (nodes: readonly BoundNode[], totalBlocks: number): number {
  const L = Math.floor(totalBlocks)
  const p = prepare(nodes, L)
  return p == null ? 0 : cappedFixedPoint(p, m => m / L)
}

/**
 * capacityBound for whole-block lengths and integer throughputs (the planner's quantised units), with a
 * native numeric sort: each (throughput, length) pair is packed into one exact double.
 */
export function capacityBoundOf (lens: Int32Array, tqs: Float64Array, totalBlocks: number): number {
  const L = Math.floor(totalBlocks)
  if (L >= 65536) return capacityBound(Array.from(lens, (c, i) => ({ capacity: c, throughput: tqs[i] })), L)
  const keys = new Float64Array(lens.length)
  let n = 0; let mass = 0
  for (let i = 0; i < lens.length; i++) {
    const m = Math.min(lens[i], L)
    if (m <= 0 || !(tqs[i] > 0)) continue
    keys[n++] = tqs[i] * 65536 + m
    mass += m
  }
  if (L <= 0 || mass < L) return 0
  const sorted = keys.subarray(0, n).sort()
  const t = new Float64Array(n); const m = new Int32Array(n)
  for (let i = 0; i < n; i++) { const mi = sorted[i] % 65536; m[i] = mi; t[i] = (sorted[i] - mi) / 65536 }
  return cappedFixedPoint({ L, t, m, lengths: [], tByLength: new Map() }, x => x / L)
}
