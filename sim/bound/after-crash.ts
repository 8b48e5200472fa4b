// What the planner makes of a crash, offline: the joint cold-start plan of a swarm, one node removed,
// the heals planSwarm asks for applied, then what else it asks for inside the cool-down (re-placement
// sets that gain cooldownGain), then the clock moved past cooldownMs and its rebalance moves applied
// until it stays. Reports each layout's bottleneck against the survivors' upper bound, i.e.
// how much of the throughput a crash costs and how much the rebalancer wins back. Moves commit at
// once here (no reload time), so this is the rebalancer's best case.
import { planSwarm, upperBound } from '../../src/protocols/coverage/index.ts'
import type { PlanMember } from '../../src/protocols/coverage/types.ts'
import type { SearchNode } from './best-known.ts'

export interface AfterCrash {
  /** The joint plan's bottleneck / the whole swarm's bound. */
  plan: number
  /** After the victim is gone and the heals are applied, / the survivors' bound. */
  healed: number
  healMoves: number
  /**
   * Then every move planSwarm asks for inside the cool-down (re-placement sets that gain
   * cooldownGain), / the survivors' bound.
   */
  settled: number
  settleMoves: number
  /** After the rebalancer's moves (clock past cooldownMs), / the survivors' bound. */
  rebalanced: number
  rebalanceMoves: number
  /** The layout it ends with (the survivors, online). */
  final: PlanMember[]
  /** The survivors' upper bound (quantised throughput units as given). */
  bound: number
}

const HOUR = 3_600_000

/** A layout's bottleneck (smallest summed throughput over blocks) and the fewest servers any block has. */
export function layoutStats (members: readonly PlanMember[], L: number): { min: number, minServers: number } {
  const load = new Float64Array(L); const cnt = new Int32Array(L)
  for (const m of members) if (m.span != null) for (let b = m.span.start; b < m.span.end; b++) { load[b] += m.throughput; cnt[b]++ }
  return { min: Math.min(...load), minServers: Math.min(...cnt) }
}

const minLoad = (members: readonly PlanMember[], L: number): number => layoutStats(members, L).min

/**
 * One planSwarm pass with every serve decision (or only those for `reason`) applied at once; returns
 * the new members and how many moved.
 */
export function step (members: PlanMember[], L: number, R: number, now: number, reason?: string): { members: PlanMember[], moved: number } {
  const decisions = planSwarm({ totalBlocks: L, replication: R, members, now }).decisions
  let moved = 0
  const next = members.map(m => {
    const d = decisions.get(m.peerId)
    if (d?.action !== 'serve' || (reason != null && d.reason !== reason)) return m
    moved++
    return { ...m, state: 'online' as const, span: d.span, since: now }
  })
  return { members: next, moved }
}

/** The crash of node `victim` (an index into `nodes`) in the planner's joint plan of `nodes`. */
export function afterCrash (nodes: readonly SearchNode[], L: number, R: number, victim: number, maxSteps = 20): AfterCrash {
  const ids = nodes.map((_, i) => `node-${String(i).padStart(5, '0')}`)
  let members: PlanMember[] = nodes.map((n, i) => ({ peerId: ids[i], capacity: n.capacity, throughput: n.throughput, state: 'joining', span: null, since: 0 }))
  let now = 10_000
  members = step(members, L, R, now).members.map(m => ({ ...m, state: 'online' as const }))
  const plan = minLoad(members, L) / upperBound(nodes, L)
  const bound = upperBound(nodes.filter((_, i) => i !== victim), L)
  members = members.filter(m => m.peerId !== ids[victim])
  // Heals right away (they have no cool-down), a minute apart.
  let healMoves = 0
  for (let k = 0; k < maxSteps; k++) {
    now += 60_000
    const r = step(members, L, R, now, 'heal')
    if (r.moved === 0) break
    members = r.members; healMoves += r.moved
  }
  const healed = minLoad(members, L) / bound
  const s = settleInsideCooldown(members, L, R, now, maxSteps)
  const r = rebalanceAfterCooldown(s.members, L, R, s.now, maxSteps)
  return { plan, healed, healMoves, settled: minLoad(s.members, L) / bound, settleMoves: s.moves, rebalanced: minLoad(r.members, L) / bound, rebalanceMoves: r.moves, final: r.members, bound }
}

/**
 * Whatever planSwarm asks for next, a minute apart, until it stays (at most maxSteps passes), all
 * well inside the cool-down of nodes that moved at about `now`: moves of sets that gain cooldownGain.
 */
export function settleInsideCooldown (members: PlanMember[], L: number, R: number, now: number, maxSteps: number): { members: PlanMember[], moves: number, now: number } {
  let moves = 0
  for (let k = 0; k < maxSteps; k++) {
    now += 60_000
    const r = step(members, L, R, now)
    if (r.moved === 0) break
    members = r.members; moves += r.moved
  }
  return { members, moves, now }
}

/**
 * The clock moved 2 h on (everyone past cooldownMs, 1 h by default: the rebalancer may move anyone),
 * then planSwarm's moves applied, a minute apart, until it stays (at most maxSteps passes).
 */
export function rebalanceAfterCooldown (members: PlanMember[], L: number, R: number, now: number, maxSteps: number): { members: PlanMember[], moves: number } {
  let t = now + 2 * HOUR
  let moves = 0
  for (let k = 0; k < maxSteps; k++) {
    const r = step(members, L, R, t)
    if (r.moved === 0) break
    members = r.members; moves += r.moved
    t += 60_000
  }
  return { members, moves }
}
