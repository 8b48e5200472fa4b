// How much of the gap between a placement and the upper bound (upper-bound.ts) is the planner's: a
// seeded local search (simulated annealing over every node's start block) looks for a better placement
// than the planner's joint plan of the same swarm. Finding nothing is weak evidence only: in session 5
// it found nothing better than the greedy, yet a MIP solver and then the deficit sweep
// (deficit-sweep.ts) found placements up to 5 % better. Replication first, as the planner orders it: a
// candidate must cover every block and meet the replication the capacities allow before its
// bottleneck counts.
import { effectiveReplication, planSwarm, usableLength } from '../../src/protocols/coverage/index.ts'
import type { PlanMember } from '../../src/protocols/coverage/types.ts'

export interface SearchNode { capacity: number, throughput: number }

/** [holes, missing replicas, −bottleneck]: lexicographically smaller is better. */
export type Quality = [number, number, number]

export function quality (nodes: readonly SearchNode[], starts: readonly number[], L: number, rEff: number): Quality {
  const load = new Float64Array(L)
  const cnt = new Int32Array(L)
  nodes.forEach((n, i) => {
    const m = usableLength(n.capacity, L)
    for (let b = starts[i]; b < starts[i] + m; b++) { load[b] += n.throughput; cnt[b]++ }
  })
  let holes = 0; let missing = 0; let min = Infinity
  for (let b = 0; b < L; b++) {
    if (cnt[b] === 0) holes++
    if (cnt[b] < rEff) missing += rEff - cnt[b]
    if (load[b] < min) min = load[b]
  }
  return [holes, missing, -min]
}

function less (a: Quality, b: Quality): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i]
  return false
}

/** The planner's joint placement of every node (all pending at once, as in a cold start). */
export function jointPlan (nodes: readonly SearchNode[], L: number, R: number): number[] {
  const members: PlanMember[] = nodes.map((n, i) => ({ peerId: `node-${String(i).padStart(5, '0')}`, capacity: n.capacity, throughput: n.throughput, state: 'joining', span: null, since: -Infinity }))
  const plan = planSwarm({ totalBlocks: L, replication: R, members, now: Number.MAX_SAFE_INTEGER })
  return members.map(m => { const d = plan.decisions.get(m.peerId); return d?.action === 'serve' ? d.span.start : 0 })
}

/** Deterministic xorshift32 stream in [0, 1). */
function stream (seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32 }
}

/**
 * Simulated annealing from `starts`: moves one or two nodes to random starts, accepts any move that
 * keeps coverage and replication and does not lower the bottleneck by much (temperature falls to 0).
 * Returns the best placement seen (never worse than `starts`). Bounded by `iterations`.
 */
export function anneal (nodes: readonly SearchNode[], starts: readonly number[], L: number, R: number, iterations: number, seed: number): { starts: number[], quality: Quality } {
  const rEff = effectiveReplication(nodes.map(n => usableLength(n.capacity, L)), L, R)
  const r = stream(seed)
  const cur = [...starts]
  let cq = quality(nodes, cur, L, rEff)
  let best = { starts: [...cur], quality: cq }
  const span = nodes.map(n => L - usableLength(n.capacity, L) + 1)
  const heat = Math.max(1, ...nodes.map(n => n.throughput)) / 5
  for (let it = 0; it < iterations; it++) {
    const i = Math.floor(r() * nodes.length)
    const oi = cur[i]
    cur[i] = Math.floor(r() * span[i])
    let j = -1; let oj = 0
    if (r() < 0.5) { j = Math.floor(r() * nodes.length); oj = cur[j]; cur[j] = Math.floor(r() * span[j]) }
    const q = quality(nodes, cur, L, rEff)
    const T = heat * (1 - it / iterations)
    const sameTier = q[0] === cq[0] && q[1] === cq[1]
    if (less(q, cq) || (sameTier && T > 0 && r() < Math.exp((cq[2] - q[2]) / T))) {
      cq = q
      if (less(q, best.quality)) best = { starts: [...cur], quality: q }
    } else {
      // Undo in reverse order (j may equal i).
      if (j >= 0) cur[j] = oj
      cur[i] = oi
    }
  }
  return best
}
