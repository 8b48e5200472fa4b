// The placement MIP (sim/bound/mip.ts) that checks the planner against a proven bound: on swarms small
// enough to enumerate, HiGHS's optimum must be the brute-force optimum, with and without a
// replication target, and the LP bound of upper-bound.ts must lie above it.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { placementLp, solvePlacementMip } from '../../sim/bound/mip.ts'
import { upperBound, usableLength } from '../../src/protocols/coverage/index.ts'

interface N { capacity: number, throughput: number }

/** Best bottleneck over every placement (each node one window or none) meeting `r` servers per block; null if none does. */
function bruteForce (nodes: readonly N[], L: number, r: number): number | null {
  let best: number | null = null
  const load = new Array<number>(L).fill(0)
  const cnt = new Array<number>(L).fill(0)
  const go = (i: number): void => {
    if (i === nodes.length) {
      if (cnt.every(c => c >= r)) best = Math.max(best ?? -1, Math.min(...load))
      return
    }
    go(i + 1) // unused
    const m = usableLength(nodes[i].capacity, L)
    for (let s = 0; m > 0 && s + m <= L; s++) {
      for (let b = s; b < s + m; b++) { load[b] += nodes[i].throughput; cnt[b]++ }
      go(i + 1)
      for (let b = s; b < s + m; b++) { load[b] -= nodes[i].throughput; cnt[b]-- }
    }
  }
  go(0)
  return best
}

describe('placement MIP bound', () => {
  it('writes one binary per window and one load row per block', () => {
    const lp = placementLp([{ capacity: 2, throughput: 10 }, { capacity: 3, throughput: 20 }], 4, 2)
    expect(lp.match(/x\d+_\d+/g)?.filter((v, i, a) => a.indexOf(v) === i)).toHaveLength(3 + 2)
    expect(lp.match(/^ load\d+:/gm)).toHaveLength(4)
    expect(lp.match(/^ servers\d+:.*>= 2$/gm)).toHaveLength(4)
    expect(placementLp([{ capacity: 2, throughput: 10 }], 4, 0)).not.toContain('servers')
  })

  it('finds the brute-force optimum of small swarms, which the LP bound never undercuts', async () => {
    const swarm = fc.record({
      L: fc.integer({ min: 1, max: 6 }),
      r: fc.integer({ min: 0, max: 2 }),
      nodes: fc.array(fc.record({ capacity: fc.integer({ min: 1, max: 6 }), throughput: fc.integer({ min: 1, max: 200 }) }), { minLength: 1, maxLength: 4 })
    })
    await fc.assert(fc.asyncProperty(swarm, async ({ L, r, nodes }) => {
      const exact = bruteForce(nodes, L, r)
      const mip = await solvePlacementMip(nodes, L, r, 10)
      if (exact == null) {
        expect(mip.status).toBe('Infeasible')
        expect(mip.dualBound).toBe(0)
        return
      }
      expect(mip.status).toBe('Optimal')
      expect(mip.best).toBeCloseTo(exact, 6)
      expect(mip.dualBound).toBeCloseTo(exact, 6)
      expect(upperBound(nodes, L)).toBeGreaterThanOrEqual(exact - 1e-6)
    }), { numRuns: 60, seed: 11 })
  }, 60_000)
})
