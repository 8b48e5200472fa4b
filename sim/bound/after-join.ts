// What the planner makes of a one-by-one join, offline: each node of a swarm arrives alone and is
// placed by planSwarm on the layout of those before it (the live `join` scenario's order, without
// timing), and likewise by Petals' choose_best_blocks. Then the moves planSwarm asks for inside the
// cool-down (sets that gain cooldownGain), then the clock moves past cooldownMs and the
// rebalancer's moves are applied until it stays (at once: its best case). Ratios are against the
// whole swarm's upper bound; `minServers` is the fewest servers any block has.
import { petalsChooseBestBlocks, planSwarm, upperBound } from '../../src/protocols/coverage/index.ts'
import type { PlanMember } from '../../src/protocols/coverage/types.ts'
import type { SearchNode } from './best-known.ts'
import { layoutStats, rebalanceAfterCooldown, settleInsideCooldown } from './after-crash.ts'

export interface AfterJoin {
  joined: number
  joinedMinServers: number
  petals: number
  petalsMinServers: number
  /** After the moves inside the cool-down. */
  settled: number
  settleMoves: number
  rebalanced: number
  rebalanceMoves: number
}

export function afterJoin (nodes: readonly SearchNode[], L: number, R: number, maxSteps = 20): AfterJoin {
  const bound = upperBound(nodes, L)
  const now = 1e12
  const ours: PlanMember[] = []
  const theirs: PlanMember[] = []
  nodes.forEach((n, i) => {
    const me: PlanMember = { peerId: `node-${String(i).padStart(5, '0')}`, capacity: n.capacity, throughput: n.throughput, state: 'joining', span: null, since: -Infinity }
    const d = planSwarm({ totalBlocks: L, replication: R, members: [...ours, me], now }).decisions.get(me.peerId)
    ours.push({ ...me, state: d?.action === 'serve' ? 'online' : 'standby', span: d?.action === 'serve' ? d.span : null, since: now })
    theirs.push({ ...me, state: 'online', span: petalsChooseBestBlocks({ totalBlocks: L, numBlocks: Math.min(n.capacity, L), members: theirs }), since: now })
  })
  const joined = layoutStats(ours, L); const petals = layoutStats(theirs, L)
  const s = settleInsideCooldown(ours, L, R, now, maxSteps)
  const r = rebalanceAfterCooldown(s.members, L, R, s.now, maxSteps)
  return {
    joined: joined.min / bound,
    joinedMinServers: joined.minServers,
    petals: petals.min / bound,
    petalsMinServers: petals.minServers,
    settled: layoutStats(s.members, L).min / bound,
    settleMoves: s.moves,
    rebalanced: layoutStats(r.members, L).min / bound,
    rebalanceMoves: r.moves
  }
}
