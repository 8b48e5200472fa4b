// Mutable per-block arrays for one planning round, plus the window search every step shares.
// One round = one deterministic pass of the planner over a view; nothing here outlives the call.
import type { NodeState, Span } from '../types.ts'

/** A member reduced to what planning needs; `len` and `tq` are whole blocks and quantised throughput. */
export interface RoundNode {
  peerId: string
  capacity: number
  throughput: number
  len: number
  tq: number
  state: NodeState
  span: Span | null
  since: number
}

export interface RoundState {
  L: number
  /** Replication target actually reachable (min(R, covers the capacities allow)). */
  rEff: number
  /** Water level for the throughput objective, quantised units (an upper bound on the bottleneck). */
  tau: number
  cnt: Int32Array
  load: Float64Array
}

export function newRoundState (L: number, rEff: number, tau: number): RoundState {
  return { L, rEff, tau, cnt: new Int32Array(L), load: new Float64Array(L) }
}

export function addSpan (st: RoundState, span: Span, tq: number, sign: 1 | -1): void {
  for (let b = span.start; b < span.end; b++) {
    st.cnt[b] += sign
    st.load[b] += sign * tq
  }
}

/** Lexicographic window score: blocks newly covered, blocks lifted toward the replication target, throughput gain. */
export interface WindowScore { start: number, cover: number, repl: number, gain: number }

const REL_EPS = 1e-9

/** a > b in the lexicographic score order, with a relative tolerance on the float part. */
export function better (a: WindowScore, b: WindowScore): boolean {
  if (a.cover !== b.cover) return a.cover > b.cover
  if (a.repl !== b.repl) return a.repl > b.repl
  return a.gain > b.gain + REL_EPS * Math.max(1e-12, Math.abs(b.gain))
}

/**
 * Gain of adding throughput x at a block with load `load`, against the water level tau: the drop of the
 * squared deficit (tau − load)². Squared so the weakest blocks weigh most (a smooth stand-in for max-min),
 * and zero above tau so no throughput is spent where the bottleneck can't be.
 */
function blockGain (load: number, tau: number, x: number): number {
  if (tau <= 0) return 0
  const d = (tau - load) / tau
  if (d <= 0) return 0
  const xn = x / tau
  const e = d - xn
  return e > 0 ? d * d - e * e : d * d
}

let scratch = new Float64Array(0)

/** Score of one given window (summed directly, so a node's current place is judged the same way every time). */
export function scoreWindow (st: RoundState, start: number, len: number, tq: number): WindowScore {
  let cover = 0; let repl = 0; let gain = 0
  for (let b = start; b < start + len; b++) {
    const c = st.cnt[b]
    if (c === 0) cover++
    if (c < st.rEff) repl++
    gain += blockGain(st.load[b], st.tau, tq)
  }
  return { start, cover, repl, gain }
}

/**
 * Best window of `len` blocks for a node adding `tq`, by (cover, repl, gain), earliest start on ties.
 * Blocks marked in `locked` are not allowed. O(L). Returns null if no window fits.
 */
export function bestWindow (st: RoundState, len: number, tq: number, locked?: Uint8Array): WindowScore | null {
  const L = st.L
  if (len <= 0 || len > L) return null
  if (scratch.length < L) scratch = new Float64Array(L)
  const g = scratch
  for (let b = 0; b < L; b++) g[b] = blockGain(st.load[b], st.tau, tq)
  let cover = 0; let repl = 0; let gain = 0; let lockedIn = 0
  let best: WindowScore | null = null
  for (let b = 0; b < L; b++) {
    if (st.cnt[b] === 0) cover++
    if (st.cnt[b] < st.rEff) repl++
    gain += g[b]
    if (locked != null && locked[b] !== 0) lockedIn++
    const out = b - len
    if (out >= 0) {
      if (st.cnt[out] === 0) cover--
      if (st.cnt[out] < st.rEff) repl--
      gain -= g[out]
      if (locked != null && locked[out] !== 0) lockedIn--
    }
    if (out >= -1 && lockedIn === 0) {
      const cand: WindowScore = { start: out + 1, cover, repl, gain: gain < 0 ? 0 : gain }
      if (best == null || better(cand, best)) best = cand
    }
  }
  return best
}

/** Sparse table for O(1) range minimum over a fixed array. */
export interface RangeMin { query: (start: number, end: number) => number }

export function rangeMin (a: ArrayLike<number>): RangeMin {
  const n = a.length
  const levels: Float64Array[] = [Float64Array.from(a)]
  for (let k = 1; (1 << k) <= n; k++) {
    const prev = levels[k - 1]
    const cur = new Float64Array(n - (1 << k) + 1)
    const half = 1 << (k - 1)
    for (let i = 0; i < cur.length; i++) cur[i] = Math.min(prev[i], prev[i + half])
    levels.push(cur)
  }
  return {
    query (start: number, end: number): number {
      if (end <= start) return Infinity
      const k = 31 - Math.clz32(end - start)
      const lv = levels[k]
      return Math.min(lv[start], lv[end - (1 << k)])
    }
  }
}
