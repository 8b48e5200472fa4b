// Per-block accounting: who serves or has claimed which block, and how much throughput each block gets.
// Throughput is summed in integer milli-units so a sum is exact whatever order members arrive in: every
// node computes bit-identical arrays from the same set of members, which the deterministic planner needs.
import type { NodeState, Span } from '../types.ts'

/** Throughput is compared and summed as round(throughput × SCALE), an exact integer in a double. */
export const THROUGHPUT_SCALE = 1000

export function quantize (throughput: number): number {
  return Number.isFinite(throughput) && throughput > 0 ? Math.round(throughput * THROUGHPUT_SCALE) : 0
}

/** Blocks a node can hold: whole blocks only, at most the model. */
export function usableLength (capacity: number, totalBlocks: number): number {
  if (!Number.isFinite(capacity) || capacity < 1) return 0
  return Math.min(Math.floor(capacity), totalBlocks)
}

/** Online members serve traffic. */
export function isServing (state: NodeState): boolean {
  return state === 'online'
}

/** Online members and settled or pending claims (joining/loading with a span) count as planned capacity. */
export function isPlanned (state: NodeState): boolean {
  return state === 'online' || state === 'loading' || state === 'joining'
}

/** The part of a span inside `[0, totalBlocks)`, or null if nothing is left (gossip may carry nonsense). */
export function clampSpan (span: Span | null, totalBlocks: number): Span | null {
  if (span == null || !Number.isFinite(span.start) || !Number.isFinite(span.end)) return null
  const start = Math.max(0, Math.floor(span.start))
  const end = Math.min(totalBlocks, Math.floor(span.end))
  return end > start ? { start, end } : null
}

export interface BlockLoad {
  /** Servers per block. */
  replicas: Int32Array
  /** Summed throughput per block, in milli-units (see THROUGHPUT_SCALE). */
  load: Float64Array
}

export interface LoadMember { state: NodeState, span: Span | null, throughput: number }

/** Per-block replicas and throughput over the members whose state passes `counts` (difference arrays: O(N + L)). */
export function blockLoad (totalBlocks: number, members: readonly LoadMember[], counts: (s: NodeState) => boolean = isPlanned): BlockLoad {
  const dr = new Int32Array(totalBlocks + 1)
  const dt = new Float64Array(totalBlocks + 1)
  for (const m of members) {
    if (!counts(m.state)) continue
    const s = clampSpan(m.span, totalBlocks)
    if (s == null) continue
    const q = quantize(m.throughput)
    dr[s.start]++; dr[s.end]--
    dt[s.start] += q; dt[s.end] -= q
  }
  const replicas = new Int32Array(totalBlocks)
  const load = new Float64Array(totalBlocks)
  let r = 0; let t = 0
  for (let b = 0; b < totalBlocks; b++) {
    r += dr[b]; t += dt[b]
    replicas[b] = r; load[b] = t
  }
  return { replicas, load }
}

/** Maximal runs of blocks with fewer than `min` replicas, as half-open spans. */
export function rangesBelow (replicas: Int32Array, min: number): Span[] {
  const out: Span[] = []
  let start = -1
  for (let b = 0; b <= replicas.length; b++) {
    const low = b < replicas.length && replicas[b] < min
    if (low && start < 0) start = b
    if (!low && start >= 0) { out.push({ start, end: b }); start = -1 }
  }
  return out
}

/** The smallest per-block value (the swarm's bottleneck when given per-block throughput); 0 for no blocks. */
export function minOf (a: ArrayLike<number>): number {
  if (a.length === 0) return 0
  let m = Infinity
  for (let i = 0; i < a.length; i++) if (a[i] < m) m = a[i]
  return m
}

/**
 * How many full covers of the model the given span lengths can make: the replication the swarm can reach
 * "where capacity allows". A k-fold cover of a line by intervals splits into k covers, and a group of
 * spans covers the line iff its lengths sum to ≥ L, so this is bin covering; we use the two-ended greedy
 * (largest first, topped up with the smallest), a lower estimate that is exact in the common cases, and
 * when it finds one cover and the cap allows two, an exact test for two (twoCovers): the greedy missed
 * a second cover in about 1 of 70 of the simulator's tight swarms, which then planned for one replica;
 * likewise from two to three (threeCovers). Beyond three covers it stays a lower estimate.
 */
export function coverCount (lengths: ArrayLike<number>, totalBlocks: number, cap = Infinity): number {
  if (totalBlocks <= 0) return 0
  const b = new Float64Array(lengths.length)
  let n = 0
  for (let i = 0; i < lengths.length; i++) if (lengths[i] > 0) b[n++] = Math.min(lengths[i], totalBlocks)
  const a = b.subarray(0, n).sort().reverse()
  let i = 0; let j = a.length - 1; let k = 0
  while (i <= j && k < cap) {
    let sum = a[i++]
    while (sum < totalBlocks && i <= j) sum += a[j--]
    if (sum < totalBlocks) break
    k++
  }
  if (k === 1 && cap >= 2 && twoCovers(a, totalBlocks)) k = 2
  if (k === 2 && cap >= 3 && threeCovers(a, totalBlocks)) k = 3
  return k
}

/** Σ ⌊length⌋: the node-blocks the exact cover tests work with. */
function wholeBlocks (lengths: ArrayLike<number>): number {
  let mass = 0
  for (let i = 0; i < lengths.length; i++) mass += Math.floor(lengths[i])
  return mass
}

/**
 * Whether the lengths split into two groups of sum ≥ L each: some subset has its sum in [L, M − L].
 * Dropping members from a group that still reaches L keeps the other one ≥ L, so a smallest such
 * subset sums to less than L + the longest length ≤ 2L: subset sums below 2L suffice (O(n · L)).
 */
function twoCovers (lengths: ArrayLike<number>, totalBlocks: number): boolean {
  const L = Math.floor(totalBlocks)
  const mass = wholeBlocks(lengths)
  if (mass < 2 * L) return false
  const reach = new Uint8Array(2 * L)
  reach[0] = 1
  for (let i = 0; i < lengths.length; i++) {
    const len = Math.floor(lengths[i])
    if (len <= 0) continue
    for (let s = 2 * L - 1 - len; s >= 0; s--) if (reach[s] === 1) reach[s + len] = 1
  }
  for (let s = L; s <= Math.min(2 * L - 1, mass - L); s++) if (reach[s] === 1) return true
  return false
}

/**
 * Whether the lengths split into three groups of sum ≥ L each. As for two: the first two groups can
 * be shrunk to sums in [L, 2L) (what they drop joins the third), so it suffices that two disjoint
 * subsets have sums s1, s2 in [L, 2L) with s1 + s2 ≤ M − L. Subset-sum pairs below 2L, one bit row
 * per s1 (O(n · L) row operations on 2L-bit rows).
 */
function threeCovers (lengths: ArrayLike<number>, totalBlocks: number): boolean {
  const L = Math.floor(totalBlocks)
  const mass = wholeBlocks(lengths)
  if (mass < 3 * L) return false
  const W = 2 * L
  const mask = (1n << BigInt(W)) - 1n
  const rows: bigint[] = new Array<bigint>(W).fill(0n)
  rows[0] = 1n
  for (let i = 0; i < lengths.length; i++) {
    const len = Math.floor(lengths[i])
    if (len <= 0) continue
    const shift = BigInt(len)
    // Descending s1, and each row's update from its old value: every length joins at most one group.
    for (let s1 = W - 1; s1 >= 0; s1--) {
      const r = rows[s1]
      if (r === 0n) continue
      if (s1 + len < W) rows[s1 + len] |= r
      rows[s1] |= (r << shift) & mask
    }
  }
  for (let s1 = L; s1 < W; s1++) {
    const hi = Math.min(W - 1, mass - L - s1)
    if (hi < L) continue
    const window = (1n << BigInt(hi - L + 1)) - 1n
    if (((rows[s1] >> BigInt(L)) & window) !== 0n) return true
  }
  return false
}

/** The replication target that is actually reachable: min(R, number of covers the capacities allow). */
export function effectiveReplication (lengths: ArrayLike<number>, totalBlocks: number, replication: number): number {
  const r = Math.max(1, Math.floor(replication))
  return coverCount(lengths, totalBlocks, r)
}

export interface CoverageReport {
  totalBlocks: number
  coveredBlocks: number
  /** 0..100 */
  coveragePct: number
  missing: Span[]
  underReplicated: Span[]
  minReplicas: number
  /** Smallest per-block throughput, in the members' own units. */
  bottleneck: number
  /** Per-block throughput in the members' own units. */
  throughput: Float64Array
  replicas: Int32Array
}

/** Coverage of the model by the members counted by `counts` (default: online + claims). */
export function coverageReport (totalBlocks: number, members: readonly LoadMember[], replication: number, counts: (s: NodeState) => boolean = isPlanned): CoverageReport {
  const { replicas, load } = blockLoad(totalBlocks, members, counts)
  let covered = 0
  for (let b = 0; b < totalBlocks; b++) if (replicas[b] > 0) covered++
  const throughput = new Float64Array(totalBlocks)
  for (let b = 0; b < totalBlocks; b++) throughput[b] = load[b] / THROUGHPUT_SCALE
  return {
    totalBlocks,
    coveredBlocks: covered,
    coveragePct: totalBlocks === 0 ? 100 : (100 * covered) / totalBlocks,
    missing: rangesBelow(replicas, 1),
    underReplicated: rangesBelow(replicas, Math.max(1, replication)),
    minReplicas: totalBlocks === 0 ? 0 : minOf(replicas),
    bottleneck: minOf(throughput),
    throughput,
    replicas
  }
}
