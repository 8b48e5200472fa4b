// Petals' own block selection (src/petals/server/block_selection.py @ 22afba62), rewritten in TypeScript
// in the same shape, used only by the simulator so every benchmark runs both planners on one swarm.
// Kept faithful on purpose, including what the issue complains about: the greedy "weakest window"
// choice, the simulated re-shuffle behind `should_choose_other_blocks`, the 0.75 quality threshold.
// The only changes: randomness comes from an injected RNG (reproducible runs), `choose_best_start`
// is computed level by level instead of by sorting every window (same answer, O(L) per level), and the
// re-shuffle loop can be capped for very large simulated swarms (Petals has no cap).
import type { Span } from '../types.ts'
import { clampSpan, isPlanned, usableLength } from './coverage.ts'
import { byPeerId } from './order.ts'
import type { PlanDecision, PlanInput, PlanMember } from './types.ts'

/** A [0, 1) random source; the simulator passes a seeded one. */
export type Rng = () => number

/** `compute_throughputs`: per-block sum over JOINING and ONLINE servers, added in peer-id order (float-exact like Petals). */
export function petalsComputeThroughputs (members: readonly PlanMember[], totalBlocks: number): Float64Array {
  const T = new Float64Array(totalBlocks)
  for (const m of [...members].sort(byPeerId)) {
    if (!isPlanned(m.state)) continue
    const s = clampSpan(m.span, totalBlocks)
    if (s == null) continue
    for (let b = s.start; b < s.end; b++) T[b] += m.throughput
  }
  return T
}

// Scratch buffers reused across calls (the simulator calls this millions of times).
let bufL = 0
let dq = new Int32Array(0); let masked = new Float64Array(0); let mins = new Float64Array(0)
let pc = new Int32Array(0); let cand = new Int32Array(0)
function ensure (L: number): void {
  if (L <= bufL) return
  bufL = L
  dq = new Int32Array(L); masked = new Float64Array(L); mins = new Float64Array(L)
  pc = new Int32Array(L + 1); cand = new Int32Array(L)
}

let sa = new Float64Array(0); let sb = new Float64Array(0)

/**
 * Is window s (sorted) lexicographically smaller than window b (b < s)? Blocks both windows share
 * add the same counts to both sides, so only the blocks in one window and not the other are compared.
 */
function windowLess (T: ArrayLike<number>, n: number, s: number, b: number): boolean {
  const d = Math.min(s - b, n)
  if (sa.length < d) { sa = new Float64Array(Math.max(d, 2 * sa.length)); sb = new Float64Array(sa.length) }
  const a = sa.subarray(0, d); const c = sb.subarray(0, d)
  for (let i = 0; i < d; i++) { a[i] = T[b + i]; c[i] = T[s + n - d + i] }
  a.sort(); c.sort()
  for (let i = 0; i < d; i++) if (c[i] !== a[i]) return c[i] < a[i]
  return false
}

/** Levels of the sliding-minimum method before switching to pairwise comparison of the survivors. */
const LEVELS_BEFORE_SCAN = 6

/** Sliding-window minimum of a[lo..hi) over windows of `n`: out[s] for s in [lo, hi-n]. */
function slidingMin (a: ArrayLike<number>, lo: number, hi: number, n: number, out: Float64Array): void {
  let head = 0; let tail = 0
  for (let b = lo; b < hi; b++) {
    const v = a[b]
    while (tail > head && a[dq[tail - 1]] >= v) tail--
    dq[tail++] = b
    if (dq[head] <= b - n) head++
    if (b >= lo + n - 1) out[b - n + 1] = a[dq[head]]
  }
}

/**
 * `_choose_best_start`: the start whose window, sorted ascending, is lexicographically smallest (the
 * window whose weakest block is weakest, then the next weakest…), lowest start on a full tie.
 * Comparing sorted windows equals comparing (v1, −count(v1), v2, −count(v2), …) over their distinct
 * values, so each level is a masked sliding minimum plus a prefix count, restricted to the blocks the
 * remaining candidate windows span (overlapping windows tie for many levels).
 */
export function petalsChooseBestStart (throughputs: ArrayLike<number>, numBlocks: number): number {
  const T = throughputs
  const L = T.length
  const n = Math.min(numBlocks, L)
  const W = L - n + 1
  if (W <= 1) return 0
  ensure(L)
  for (let s = 0; s < W; s++) cand[s] = s
  let nc = W
  let prev = -Infinity
  for (let level = 0; ; level++) {
    const lo = cand[0]; const hi = cand[nc - 1] + n
    if (level === 0) slidingMin(T, lo, hi, n, mins)
    else {
      for (let b = lo; b < hi; b++) masked[b] = T[b] > prev ? T[b] : Infinity
      slidingMin(masked, lo, hi, n, mins)
    }
    let best = Infinity
    for (let i = 0; i < nc; i++) if (mins[cand[i]] < best) best = mins[cand[i]]
    if (best === Infinity) return cand[0]
    let k = 0
    for (let i = 0; i < nc; i++) if (mins[cand[i]] === best) cand[k++] = cand[i]
    nc = k
    if (nc === 1) return cand[0]
    const lo2 = cand[0]; const hi2 = cand[nc - 1] + n
    pc[lo2] = 0
    for (let b = lo2; b < hi2; b++) pc[b + 1] = pc[b] + (T[b] === best ? 1 : 0)
    let most = -1
    for (let i = 0; i < nc; i++) { const c = pc[cand[i] + n] - pc[cand[i]]; if (c > most) most = c }
    k = 0
    for (let i = 0; i < nc; i++) if (pc[cand[i] + n] - pc[cand[i]] === most) cand[k++] = cand[i]
    nc = k
    if (nc === 1) return cand[0]
    prev = best
    if (level + 1 >= LEVELS_BEFORE_SCAN) {
      // Survivors overlap and tie on many values (piecewise-constant loads): scan them pairwise.
      // Knockout rounds between neighbours keep the compared windows close (cheap to compare);
      // on a tie the lower start stays, as in Petals' min over (sorted window, start).
      let m = nc
      while (m > 1) {
        let k2 = 0
        for (let i = 0; i < m; i += 2) {
          if (i + 1 < m && windowLess(T, n, cand[i + 1], cand[i])) cand[k2++] = cand[i + 1]
          else cand[k2++] = cand[i]
        }
        m = k2
      }
      return cand[0]
    }
  }
}

/** `choose_best_blocks`: the best window of `numBlocks` given everyone else's JOINING/ONLINE spans. */
export function petalsChooseBestBlocks (input: { totalBlocks: number, numBlocks: number, members: readonly PlanMember[] }): Span {
  const T = petalsComputeThroughputs(input.members, input.totalBlocks)
  const n = Math.min(input.numBlocks, input.totalBlocks)
  const start = petalsChooseBestStart(T, n)
  return { start, end: start + n }
}

/** A server span as the re-shuffle sees it (mutable copy). */
export interface PetalsSpan { peerId: string, start: number, len: number, throughput: number }

function addTo (T: Float64Array, start: number, len: number, v: number): void {
  for (let b = start; b < start + len; b++) T[b] += v
}

function minOf (T: Float64Array): number {
  let m = Infinity
  for (let b = 0; b < T.length; b++) if (T[b] < m) m = T[b]
  return m
}

export interface ShouldChooseOptions {
  balanceQuality?: number
  rng: Rng
  /** Cap on re-shuffle passes (Petals: none). */
  maxPasses?: number
  /** Filled with the number of re-shuffle passes run (for the simulator's statistics). */
  stats?: { passes: number }
}

/**
 * `should_choose_other_blocks` on precomputed state: `T` is compute_throughputs (mutated), `spans`
 * are all JOINING/ONLINE servers in peer-id order (mutated), `local` indexes this server in `spans`.
 */
export function petalsShouldChooseOtherFrom (T: Float64Array, spans: PetalsSpan[], local: number, opts: ShouldChooseOptions): boolean {
  const balanceQuality = opts.balanceQuality ?? 0.75
  if (balanceQuality > 1.0) return true
  const initial = minOf(T)
  const eps = 1e-3
  const me = spans[local]
  addTo(T, me.start, me.len, -me.throughput * (1 + eps))
  if (initial > eps && minOf(T) <= 0) return false // moving would disconnect the swarm
  let newStart = petalsChooseBestStart(T, me.len)
  if (me.start === newStart) return false // already at the best place
  addTo(T, me.start, me.len, me.throughput * eps)
  me.start = newStart
  addTo(T, me.start, me.len, me.throughput)

  const order = spans.map((_, i) => i)
  let moved = true
  let passes = 0
  while (moved && passes < (opts.maxPasses ?? Infinity)) {
    passes++
    // np.random.shuffle: Fisher–Yates from the end.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(opts.rng() * (i + 1))
      const t = order[i]; order[i] = order[j]; order[j] = t
    }
    moved = false
    for (const i of order) {
      const s = spans[i]
      addTo(T, s.start, s.len, -s.throughput * (1 + eps))
      newStart = petalsChooseBestStart(T, s.len)
      addTo(T, s.start, s.len, s.throughput * eps)
      if (s.start !== newStart) { s.start = newStart; moved = true }
      addTo(T, s.start, s.len, s.throughput)
    }
  }
  if (opts.stats != null) opts.stats.passes += passes
  const newThroughput = minOf(T)
  if (newThroughput < initial || newThroughput < eps) return false
  const quality = initial / newThroughput
  return quality < balanceQuality - eps
}

/** `should_choose_other_blocks(local_peer_id, module_infos, balance_quality)` over a member list. */
export function petalsShouldChooseOtherBlocks (input: { totalBlocks: number, peerId: string, members: readonly PlanMember[] } & ShouldChooseOptions): boolean {
  const L = input.totalBlocks
  const T = petalsComputeThroughputs(input.members, L)
  const spans: PetalsSpan[] = []
  for (const m of [...input.members].sort(byPeerId)) {
    if (!isPlanned(m.state)) continue
    const s = clampSpan(m.span, L)
    if (s != null) spans.push({ peerId: m.peerId, start: s.start, len: s.end - s.start, throughput: m.throughput })
  }
  const local = spans.findIndex(s => s.peerId === input.peerId)
  if (local < 0) throw new Error('Span served by this server is not present in the DHT')
  return petalsShouldChooseOtherFrom(T, spans, local, input)
}

/**
 * The baseline as a planner with petalmesh's input/output shape. A node without a span chooses
 * (Petals sleeps 0–10 s first: the caller's job); a serving node runs the balance check and, if it
 * fails, restarts on the best window of a view without itself.
 */
export function planSpanPetals (input: PlanInput, opts: ShouldChooseOptions): PlanDecision {
  const L = input.totalBlocks
  const n = usableLength(input.self.capacity, L)
  if (n === 0) return { action: 'standby', reason: 'capacity' }
  const others = input.members.filter(m => m.peerId !== input.self.peerId)
  const mine = clampSpan(input.self.span, L)
  if (mine == null || !isPlanned(input.self.state)) {
    return { action: 'serve', span: petalsChooseBestBlocks({ totalBlocks: L, numBlocks: n, members: others }), reason: 'join' }
  }
  const all = [...others, input.self]
  if (!petalsShouldChooseOtherBlocks({ totalBlocks: L, peerId: input.self.peerId, members: all, ...opts })) return { action: 'stay' }
  return { action: 'serve', span: petalsChooseBestBlocks({ totalBlocks: L, numBlocks: n, members: others }), reason: 'rebalance' }
}
