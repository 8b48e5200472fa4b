// The offline crash replay behind the README's crash row (sim/bound/after-crash.ts): the victim's
// throughput is gone, the heals keep coverage, and the rebalancer never lowers the bottleneck.
import { describe, expect, it } from 'vitest'
import { afterCrash } from '../../sim/bound/after-crash.ts'
import { jointPlan, quality } from '../../sim/bound/best-known.ts'
import { heterogeneous } from '../../sim/net/negotiated.ts'
import { upperBound } from '../../src/protocols/coverage/index.ts'

describe('after-crash replay', () => {
  const L = 48
  const nodes = heterogeneous(2, 20)

  it('starts from the joint plan and reports ratios against the survivors\' bound', () => {
    const c = afterCrash(nodes, L, 2, 14)
    const planned = -quality(nodes, jointPlan(nodes, L, 2), L, 2)[2]
    expect(c.plan).toBeCloseTo(planned / upperBound(nodes, L), 9)
    for (const r of [c.healed, c.settled, c.rebalanced]) {
      expect(r).toBeGreaterThan(0) // no hole left
      expect(r).toBeLessThanOrEqual(1 + 1e-9)
    }
    // A rebalance must pay: it never lowers the bottleneck.
    expect(c.settled).toBeGreaterThanOrEqual(c.healed)
    expect(c.rebalanced).toBeGreaterThanOrEqual(c.settled)
    // Seed 2 is one where a move pays so much (0.758 → 0.940 of the bound, README crash row) that
    // it is made inside the cool-down (cooldownGain), and nothing is left for after it.
    expect(c.settleMoves).toBe(1)
    expect(c.settled).toBeGreaterThan(0.93)
    expect(c.rebalanceMoves).toBe(0)
    expect(afterCrash(nodes, L, 2, 14)).toEqual(c) // deterministic
  })

  it('loses nothing when the victim is a node the layout does not need', () => {
    const withIdle = [...nodes, { capacity: 0, throughput: 100 }]
    const c = afterCrash(withIdle, L, 2, nodes.length)
    expect(c.healMoves).toBe(0)
    expect(c.healed).toBeCloseTo(c.plan, 9)
  })
})

describe('after-join replay', () => {
  it('places each newcomer alone, compares with the Petals baseline, and rebalances only upward', async () => {
    const { afterJoin } = await import('../../sim/bound/after-join.ts')
    const j = afterJoin(heterogeneous(1, 12), 24, 2)
    // Seed 1 (README join row): petalmesh keeps every block at 2 servers where the baseline leaves
    // one; moves that gain over cooldownGain take the bottleneck past the baseline's inside the
    // cool-down already (0.543 → 0.793 vs 0.623), and the rebalancer further after it.
    expect(j.joinedMinServers).toBe(2)
    expect(j.petalsMinServers).toBe(1)
    expect(j.settleMoves).toBeGreaterThan(0)
    expect(j.settled).toBeGreaterThan(j.petals)
    expect(j.rebalanceMoves).toBeGreaterThan(0)
    expect(j.rebalanced).toBeGreaterThanOrEqual(j.settled)
    expect(j.rebalanced).toBeGreaterThan(j.joined)
    expect(j.rebalanced).toBeGreaterThan(j.petals)
    expect(j.rebalanced).toBeLessThanOrEqual(1 + 1e-9)
    expect(afterJoin(heterogeneous(1, 12), 24, 2)).toEqual(j)
  })
})

describe('migration to the survivors\' joint plan (sim/bound/migrate.ts)', () => {
  it('seed 37: the layout the crash replay ends with reaches the joint plan in waves that never uncover a block', async () => {
    const { migrationWaves } = await import('../../sim/bound/migrate.ts')
    const { layoutStats } = await import('../../sim/bound/after-crash.ts')
    const c = afterCrash(heterogeneous(37, 20), 48, 2, 13)
    // The exact double tiling that repair cannot fix: a block keeps one server.
    expect(layoutStats(c.final, 48).minServers).toBe(1)
    const m = migrationWaves(c.final, 48, 2)
    expect(m.reached).toBe(true)
    expect(m.target.minServers).toBe(2)
    expect(m.waves.length).toBeGreaterThan(1)
    expect(m.waves.reduce((a, w) => a + w.moves, 0)).toBe(m.toMove)
    for (const w of m.waves) expect(w.during).toBeGreaterThan(0) // never a hole
    expect(m.waves.at(-1)!.thinAfter).toBe(0)
    expect(m.waves.at(-1)!.after).toBe(m.target.min)
    expect(m.target.min / c.bound).toBeGreaterThan(0.95)
  })
})
