// Reproducibility: a seed fixes every plan decision. The swarm is drawn from the simulator's
// seeded generator and planned over several rounds (joins, crashes, rebalancing), both with the
// petalmesh planner and with the seeded Petals baseline; two runs with one seed must decide the
// same thing at every step, and another seed must not.
import { describe, expect, it } from 'vitest'
import { planSwarm, type PlanDecision, type PlanMember } from '../../src/protocols/coverage/index.ts'
import { planSpanPetals } from '../../src/protocols/coverage/petals-baseline.ts'
import { heteroSwarm, rng } from './helpers.ts'

const L = 60

/** Applies a decision as the node would once its claim settled and its weights loaded. */
function apply (m: PlanMember, d: PlanDecision | undefined, now: number): PlanMember {
  if (d == null || d.action !== 'serve') return d?.action === 'standby' ? { ...m, state: 'standby', span: null } : m
  return { ...m, state: 'online', span: d.span, since: now }
}

/** Seeded rounds of petalmesh planning: members join in waves and a few crash. Returns every decision. */
function petalmeshRun (seed: number): string[] {
  const r = rng(seed + 1000)
  const pool = heteroSwarm(30, L, seed)
  let members: PlanMember[] = pool.slice(0, 12)
  const log: string[] = []
  for (let round = 1; round <= 6; round++) {
    const now = round * 60_000
    const plan = planSwarm({ totalBlocks: L, replication: 2, members, now })
    for (const a of plan.actions) log.push(`${round} ${a.peerId} ${JSON.stringify(a.decision)}`)
    members = members.map(m => apply(m, plan.decisions.get(m.peerId), now))
    // A seeded crash, then a wave of joiners.
    if (members.length > 4) members.splice(Math.floor(r() * members.length), 1)
    members.push(...pool.slice(12 + (round - 1) * 3, 12 + round * 3).map(m => ({ ...m, since: now })))
  }
  return log
}

/** The Petals baseline: each node in turn chooses (or re-checks) with the seeded generator. */
function petalsRun (seed: number): string[] {
  const random = rng(seed + 2000)
  let members: PlanMember[] = heteroSwarm(20, L, seed)
  const log: string[] = []
  for (let round = 1; round <= 4; round++) {
    for (const self of [...members]) {
      const cur = members.find(m => m.peerId === self.peerId)!
      const d = planSpanPetals({ totalBlocks: L, replication: 1, self: cur, members, now: round * 60_000 }, { rng: random })
      log.push(`${round} ${cur.peerId} ${JSON.stringify(d)}`)
      members = members.map(m => m.peerId === cur.peerId ? apply(m, d, round * 60_000) : m)
    }
  }
  return log
}

describe('reproducibility', () => {
  it('the petalmesh planner: the same seed gives the same decisions, round after round', () => {
    const a = petalmeshRun(11)
    expect(a.length).toBeGreaterThan(12)
    expect(petalmeshRun(11)).toEqual(a)
    expect(petalmeshRun(12)).not.toEqual(a)
  })

  it('the Petals baseline with a seeded generator: the same seed gives the same choices', () => {
    const a = petalsRun(21)
    expect(a.filter(l => l.includes('"serve"')).length).toBeGreaterThan(0)
    expect(petalsRun(21)).toEqual(a)
    expect(petalsRun(22)).not.toEqual(a)
  })
})
