import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  coverageReport, petalsChooseBestBlocks, petalsChooseBestStart, petalsComputeThroughputs,
  petalsShouldChooseOtherBlocks, planSpanPetals, planSwarm, upperBound
} from '../../src/protocols/coverage/index.ts'
import { applyPlan, heteroSwarm, member, online, rng } from './helpers.ts'

/** Petals' `_choose_best_start` verbatim in meaning: min over (sorted(window), start). */
function reference (T: number[], n: number): number {
  let best = -1; let bestKey: number[] = []
  for (let i = 0; i + n <= T.length; i++) {
    const key = T.slice(i, i + n).sort((a, b) => a - b)
    let less = best < 0
    if (!less) {
      for (let j = 0; j < n; j++) if (key[j] !== bestKey[j]) { less = key[j] < bestKey[j]; break }
    }
    if (less) { best = i; bestKey = key }
  }
  return best
}

describe('Petals choose_best_start', () => {
  it('picks the window whose weakest block is weakest, then the next weakest, then the lowest start', () => {
    // Windows of 2 over [3, 1, 2, 1, 5]: sorted [1,3] [1,2] [1,2] [1,5] → [1,2] first seen at start 1.
    expect(petalsChooseBestStart([3, 1, 2, 1, 5], 2)).toBe(1)
    expect(petalsChooseBestStart([0, 0, 0, 0], 3)).toBe(0)
    expect(petalsChooseBestStart([5, 5, 0, 5, 5, 0, 0], 3)).toBe(4)
    expect(petalsChooseBestStart([1, 2, 3], 3)).toBe(0)
    expect(petalsChooseBestStart([1, 2, 3], 7)).toBe(0)
  })

  it('matches the sort-every-window definition (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 120 }).chain(L => fc.tuple(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: L, maxLength: L }),
        fc.integer({ min: 1, max: L })
      )),
      ([T, n]) => { expect(petalsChooseBestStart(T, n)).toBe(reference(T, n)) }
    ), { numRuns: 600, seed: 1 })
  })
})

describe('Petals choose_best_blocks / should_choose_other_blocks', () => {
  it('counts JOINING (our joining/loading) and ONLINE servers, in peer-id order', () => {
    const ms = [online('b', 0, 2, 1.5), { ...member('a', 2, 2, 'loading'), span: { start: 1, end: 3 } }, { ...member('c', 2, 9, 'standby') }]
    expect(Array.from(petalsComputeThroughputs(ms, 4))).toEqual([1.5, 3.5, 2, 0])
    expect(petalsChooseBestBlocks({ totalBlocks: 4, numBlocks: 2, members: ms })).toEqual({ start: 2, end: 4 })
  })

  it('servers started together pick the same blocks (the complaint petalmesh fixes)', () => {
    const ms = [member('a', 2, 1), member('b', 2, 1)]
    const pa = planSpanPetals({ totalBlocks: 4, replication: 1, self: ms[0], members: [] }, { rng: rng(1) })
    const pb = planSpanPetals({ totalBlocks: 4, replication: 1, self: ms[1], members: [] }, { rng: rng(1) })
    expect(pa).toEqual(pb)
    const joint = planSwarm({ totalBlocks: 4, replication: 1, members: ms })
    expect(joint.decisions.get('a')).not.toEqual(joint.decisions.get('b'))
  })

  it('moves a server when the re-shuffle finds a bottleneck 25 % better (hand-computed)', () => {
    // A and B both on 0-2 (t=1), C on 2-4 (t=0.1): T = [2, 2, 0.1, 0.1], bottleneck 0.1.
    // A removed: [0.999, 0.999, 0.1, 0.1] → best start 2 ≠ 0, so A is moved there: [1, 1, 1.1, 1.1].
    // Nobody moves in the re-shuffle; new bottleneck 1, quality 0.1 / 1 < 0.75 → move.
    const ms = [online('A', 0, 2, 1), online('B', 0, 2, 1), online('C', 2, 4, 0.1)]
    expect(petalsShouldChooseOtherBlocks({ totalBlocks: 4, peerId: 'A', members: ms, rng: rng(3) })).toBe(true)
    expect(petalsShouldChooseOtherBlocks({ totalBlocks: 4, peerId: 'A', members: ms, rng: rng(3), balanceQuality: 0 })).toBe(false)
    expect(petalsShouldChooseOtherBlocks({ totalBlocks: 4, peerId: 'C', members: ms, rng: rng(3) })).toBe(false)
    expect(planSpanPetals({ totalBlocks: 4, replication: 1, self: ms[0], members: ms }, { rng: rng(3) }))
      .toEqual({ action: 'serve', span: { start: 2, end: 4 }, reason: 'rebalance' })
  })

  it('keeps a duplicate in place when moving would not lift the bottleneck (eps favours the old place)', () => {
    // A and B on 0-2, C on 2-4, all t=1: removing A leaves [0.999, 0.999, 1, 1] → start 0 again.
    const ms = [online('A', 0, 2, 1), online('B', 0, 2, 1), online('C', 2, 4, 1)]
    expect(petalsShouldChooseOtherBlocks({ totalBlocks: 4, peerId: 'A', members: ms, rng: rng(3) })).toBe(false)
  })

  it('refuses to move if that would disconnect the swarm, and always moves with balance_quality > 1', () => {
    const ms = [online('A', 0, 2, 1), online('C', 2, 4, 0.1)]
    expect(petalsShouldChooseOtherBlocks({ totalBlocks: 4, peerId: 'A', members: ms, rng: rng(3) })).toBe(false)
    expect(petalsShouldChooseOtherBlocks({ totalBlocks: 4, peerId: 'A', members: ms, rng: rng(3), balanceQuality: 1.5 })).toBe(true)
    expect(() => petalsShouldChooseOtherBlocks({ totalBlocks: 4, peerId: 'Z', members: ms, rng: rng(3) })).toThrow(/not present/)
  })
})

describe('petalmesh against the baseline on seeded heterogeneous swarms', () => {
  for (const [n, L, seed] of [[30, 80, 1], [60, 80, 2], [200, 80, 3], [400, 200, 4]] as const) {
    it(`${n} nodes, ${L} blocks: bottleneck ratio ≥ 0.9 and ≥ Petals placing one by one with full information`, () => {
      const ms = heteroSwarm(n, L, seed)
      const bound = upperBound(ms, L)
      const ours = coverageReport(L, applyPlan(ms, planSwarm({ totalBlocks: L, replication: 2, members: ms }).decisions), 2).bottleneck
      const placed: typeof ms = []
      for (const m of ms) placed.push({ ...m, state: 'online', span: petalsChooseBestBlocks({ totalBlocks: L, numBlocks: Math.min(Math.floor(m.capacity), L), members: placed }) })
      const theirs = coverageReport(L, placed, 2).bottleneck
      expect(ours / bound).toBeGreaterThanOrEqual(0.9)
      expect(ours).toBeGreaterThanOrEqual(theirs)
    })
  }
})
