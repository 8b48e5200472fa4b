import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  coverageReport, effectiveReplication, planSpan, planSwarm, resolveClaims, usableLength, type PlanMember
} from '../../src/protocols/coverage/index.ts'
import { applyPlan, heteroSwarm, member, online, shuffled } from './helpers.ts'

const L = 10

describe('planSpan on hand-checked swarms', () => {
  it('a lone node takes the first window of its capacity', () => {
    const d = planSpan({ totalBlocks: L, replication: 1, self: member('a', 4, 100), members: [] })
    expect(d).toEqual({ action: 'serve', span: { start: 0, end: 4 }, reason: 'join' })
  })

  it('a newcomer covers the hole first', () => {
    const members = [online('x', 0, 6, 100)]
    const d = planSpan({ totalBlocks: L, replication: 1, self: member('a', 4, 1), members })
    expect(d).toEqual({ action: 'serve', span: { start: 6, end: 10 }, reason: 'join' })
  })

  it('then replication, then the weakest blocks', () => {
    // Blocks 0-4 have two servers, 5-9 one: R=2 sends the newcomer to 5-9 even though 0-4 is slower.
    const members = [online('x', 0, 5, 10), online('y', 0, 5, 10), online('z', 5, 10, 1000)]
    expect(planSpan({ totalBlocks: L, replication: 2, self: member('a', 5, 50), members }))
      .toEqual({ action: 'serve', span: { start: 5, end: 10 }, reason: 'join' })
    // With R=1 the bottleneck (blocks 0-4 at 20) wins.
    expect(planSpan({ totalBlocks: L, replication: 1, self: member('a', 5, 50), members }))
      .toEqual({ action: 'serve', span: { start: 0, end: 5 }, reason: 'join' })
  })

  it('a lone newcomer with nothing to cover or replicate lifts the weakest block, not the largest deficit sum', () => {
    // Loads 100, 150, 150, 100.4, 100.4, 100.4. The squared-deficit sum (even at the lowered water
    // level) prefers 3-5 (three blocks just above the minimum) and leaves the bottleneck at 100; the
    // leximin window 0-2 (Petals' rule, taken by a pool of one) lifts it to 100.4.
    const members = [online('A', 0, 6, 100), online('B', 1, 3, 50), online('C', 3, 6, 0.4)]
    const plan = planSwarm({ totalBlocks: 6, replication: 1, members: [...members, member('N', 3, 50, 'joining', null, 0)], now: 5000 })
    const d = plan.decisions.get('N')
    expect(d).toEqual({ action: 'serve', span: { start: 0, end: 3 }, reason: 'join' })
    const after = [...members, online('N', 0, 3, 50)]
    expect(coverageReport(6, after, 1).bottleneck).toBeCloseTo(100.4, 9)
    // Two newcomers together are still placed jointly (both fit without touching the rule above).
    const two = planSwarm({ totalBlocks: 6, replication: 1, members: [...members, member('N', 3, 50, 'joining', null, 0), member('M', 3, 50, 'joining', null, 0)], now: 5000 })
    expect([two.decisions.get('N'), two.decisions.get('M')].every(x => x?.action === 'serve')).toBe(true)
  })

  it('never returns a span longer than the capacity or outside the model', () => {
    const d = planSpan({ totalBlocks: L, replication: 1, self: member('a', 25.7, 1), members: [] })
    expect(d).toEqual({ action: 'serve', span: { start: 0, end: 10 }, reason: 'join' })
  })

  it('stands by when it cannot hold a block', () => {
    expect(planSpan({ totalBlocks: L, replication: 1, self: member('a', 0.5, 100), members: [] }))
      .toEqual({ action: 'standby', reason: 'capacity' })
    expect(planSpan({ totalBlocks: L, replication: 1, self: member('a', 0, 100, 'standby'), members: [] }))
      .toEqual({ action: 'stay' })
  })

  it('a configured spare stands by while nothing is missing, and fills a hole first', () => {
    const full = [online('x', 0, 10, 100)]
    expect(planSpan({ totalBlocks: L, replication: 1, self: { ...member('s', 4, 10), standby: true }, members: full }))
      .toEqual({ action: 'standby', reason: 'spare' })
    const holed = [online('x', 0, 6, 100), online('y', 0, 10, 100, 10)]
    const spare = { ...member('s', 4, 10, 'standby'), standby: true }
    // Blocks 6-9 have one server, R=2: the spare fills them before any donor moves.
    expect(planSpan({ totalBlocks: L, replication: 2, self: spare, members: holed }))
      .toEqual({ action: 'serve', span: { start: 6, end: 10 }, reason: 'heal' })
  })

  it('waits for its round (join epoch + round lead, half the settle delay unless set) before joining negotiation', () => {
    const self = member('a', 4, 1, 'joining', null, 1000)
    expect(planSpan({ totalBlocks: L, replication: 1, self, members: [], now: 1499, params: { settleMs: 1000 } })).toEqual({ action: 'stay' })
    expect(planSpan({ totalBlocks: L, replication: 1, self, members: [], now: 1500, params: { settleMs: 1000 } }).action).toBe('serve')
    expect(planSpan({ totalBlocks: L, replication: 1, self, members: [], now: 1999, params: { settleMs: 1000, roundLeadMs: 1000 } })).toEqual({ action: 'stay' })
    expect(planSpan({ totalBlocks: L, replication: 1, self, members: [], now: 2000, params: { settleMs: 1000, roundLeadMs: 1000 } }).action).toBe('serve')
  })

  it('a serving node in a balanced swarm stays', () => {
    const members = [online('x', 0, 5, 10), online('y', 5, 10, 10)]
    expect(planSpan({ totalBlocks: L, replication: 1, self: members[0], members })).toEqual({ action: 'stay' })
  })
})

describe('simultaneous starters', () => {
  it('each node computes the same joint plan and takes a different slot', () => {
    const ms = Array.from({ length: 5 }, (_, i) => member(`n${i}`, 2, 10))
    const spans = ms.map(self => planSpan({ totalBlocks: L, replication: 1, self, members: ms }))
    const starts = spans.map(d => (d.action === 'serve' ? d.span.start : -1)).sort((a, b) => a - b)
    expect(starts).toEqual([0, 2, 4, 6, 8])
  })

  it('30 mixed nodes started together: full coverage and replication, no span claimed twice beyond need', () => {
    const ms = heteroSwarm(30, 80, 11)
    const plan = planSwarm({ totalBlocks: 80, replication: 2, members: ms })
    for (const m of ms) expect(planSpan({ totalBlocks: 80, replication: 2, self: m, members: ms })).toEqual(plan.decisions.get(m.peerId))
    const r = coverageReport(80, applyPlan(ms, plan.decisions), 2)
    expect(r.coveragePct).toBe(100)
    expect(r.minReplicas).toBeGreaterThanOrEqual(2)
    // Their claims, once gossiped, form one cohort in which nobody loses: no span claimed twice by accident.
    const claimed = ms.map(m => {
      const d = plan.decisions.get(m.peerId)!
      return d.action === 'serve' ? { ...m, span: d.span, since: 5000 } : m
    })
    expect(resolveClaims({ totalBlocks: 80, replication: 2, members: claimed, now: 6000 }).losers).toEqual([])
  })
})

describe('replication 3 where capacities allow exactly three covers', () => {
  // The simulator's 12-node / 24-block swarms, seeds 17 and 30: their lengths split into three
  // groups of ≥ 24 blocks only one way or few, which the two-ended greedy count missed (it said
  // two), and whose greedy placement falls short of three servers somewhere; the deficit sweep,
  // run from a zero floor when the greedy is short of replicas, finds the triple cover.
  for (const seed of [17, 30]) {
    it(`seed ${seed}: every block gets three servers`, async () => {
      const { heterogeneous } = await import('../../sim/net/negotiated.ts')
      const ms = heterogeneous(seed, 12).map((n, i) => member(`n${String(i).padStart(2, '0')}`, n.capacity, n.throughput))
      expect(effectiveReplication(ms.map(m => usableLength(m.capacity, 24)), 24, 3)).toBe(3)
      const plan = planSwarm({ totalBlocks: 24, replication: 3, members: ms, now: 10_000 })
      expect(coverageReport(24, applyPlan(ms, plan.decisions), 3).minReplicas).toBe(3)
    })
  }
})

describe('determinism', () => {
  it('the same view in any order gives the same decisions', () => {
    const ms: PlanMember[] = [
      ...heteroSwarm(40, 80, 5).slice(0, 25).map((m, i) => ({ ...m, state: 'online' as const, span: { start: (i * 7) % 60, end: (i * 7) % 60 + Math.min(usableLength(m.capacity, 80), 20) } })),
      ...heteroSwarm(40, 80, 5).slice(25)
    ]
    const a = planSwarm({ totalBlocks: 80, replication: 2, members: ms, now: 1e6 })
    const b = planSwarm({ totalBlocks: 80, replication: 2, members: shuffled(ms, 3), now: 1e6 })
    expect([...b.decisions.entries()].sort()).toEqual([...a.decisions.entries()].sort())
    expect(b.actions).toEqual(a.actions)
  })
})

describe('planner invariants (property tests)', () => {
  const swarm = fc.record({
    L: fc.integer({ min: 1, max: 40 }),
    R: fc.integer({ min: 1, max: 3 }),
    nodes: fc.array(fc.record({ capacity: fc.oneof(fc.integer({ min: 0, max: 45 }), fc.double({ min: 0, max: 45, noNaN: true })), throughput: fc.integer({ min: 1, max: 1000 }) }), { minLength: 1, maxLength: 25 })
  })

  it('spans are in range, never longer than capacity; enough capacity covers everything; replication where capacity allows', () => {
    fc.assert(fc.property(swarm, ({ L, R, nodes }) => {
      const ms = nodes.map((n, i) => member(`p${i}`, n.capacity, n.throughput))
      const plan = planSwarm({ totalBlocks: L, replication: R, members: ms })
      for (const m of ms) {
        const d = plan.decisions.get(m.peerId)!
        if (usableLength(m.capacity, L) === 0) expect(d).toEqual({ action: 'standby', reason: 'capacity' })
        if (d.action !== 'serve') continue
        expect(d.span.start).toBeGreaterThanOrEqual(0)
        expect(d.span.end).toBeLessThanOrEqual(L)
        expect(d.span.end - d.span.start).toBeGreaterThan(0)
        expect(d.span.end - d.span.start).toBeLessThanOrEqual(m.capacity)
      }
      const lens = ms.map(m => usableLength(m.capacity, L))
      const r = coverageReport(L, applyPlan(ms, plan.decisions), R)
      if (lens.reduce((a, b) => a + b, 0) >= L) expect(r.coveragePct).toBe(100)
      expect(r.minReplicas).toBeGreaterThanOrEqual(effectiveReplication(lens, L, R))
    }), { numRuns: 400, seed: 42 })
  })

  it('coverage before replication: a newcomer never adds a replica while a block it could cover has none', () => {
    fc.assert(fc.property(swarm, fc.integer({ min: 1, max: 45 }), ({ L, R, nodes }, cap) => {
      const placed = applyPlan(nodes.map((n, i) => member(`p${i}`, n.capacity, n.throughput)), new Map())
      // Some established servers at arbitrary places.
      const ms = placed.map((m, i) => {
        const len = usableLength(m.capacity, L)
        return len === 0 ? m : { ...m, state: 'online' as const, span: { start: (i * 3) % (L - len + 1), end: (i * 3) % (L - len + 1) + len } }
      })
      const before = coverageReport(L, ms, R)
      const d = planSpan({ totalBlocks: L, replication: R, self: member('new', cap, 1), members: ms })
      if (before.missing.length > 0 && d.action === 'serve') {
        let covers = 0
        for (let b = d.span.start; b < d.span.end; b++) if (before.replicas[b] === 0) covers++
        expect(covers).toBeGreaterThan(0)
      }
    }), { numRuns: 300, seed: 9 })
  })
})
