// The annealing search that tells the bound's slack from the planner's (sim/bound/best-known.ts):
// it must actually search (a bad start improves) and never report worse than where it started.
import { describe, expect, it } from 'vitest'
import { anneal, jointPlan, quality } from '../../sim/bound/best-known.ts'
import { heterogeneous } from '../../sim/net/negotiated.ts'

describe('best-known placement search', () => {
  const L = 24
  const nodes = heterogeneous(3, 10)

  it('improves a placement that piles every node on block 0', () => {
    const piled = nodes.map(() => 0)
    const start = quality(nodes, piled, L, 2)
    expect(start[0]).toBeGreaterThan(0) // holes
    const res = anneal(nodes, piled, L, 2, 50_000, 1)
    expect(res.quality[0]).toBe(0)
    expect(res.quality[1]).toBe(0)
    // Within 10 % of the planner's joint plan from scratch.
    const plan = quality(nodes, jointPlan(nodes, L, 2), L, 2)
    expect(-res.quality[2]).toBeGreaterThanOrEqual(0.9 * -plan[2])
    for (const [i, s] of res.starts.entries()) {
      expect(s).toBeGreaterThanOrEqual(0)
      expect(s + Math.min(nodes[i].capacity, L)).toBeLessThanOrEqual(L)
    }
  })

  it('never reports a placement worse than its start', () => {
    const plan = jointPlan(nodes, L, 2)
    const q0 = quality(nodes, plan, L, 2)
    const res = anneal(nodes, plan, L, 2, 5_000, 7)
    expect(res.quality[0]).toBeLessThanOrEqual(q0[0])
    expect(-res.quality[2]).toBeGreaterThanOrEqual(-q0[2])
  })
})
