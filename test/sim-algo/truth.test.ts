import { describe, expect, it } from 'vitest'
import { createTruth } from '../../sim/algo/truth.ts'
import type { NodeSpec } from '../../sim/algo/swarm-gen.ts'
import { aheadOnIssueOrder } from '../../sim/algo/issue-order.ts'
import type { SimResult } from '../../sim/types.ts'

const spec = (i: number): NodeSpec => ({ peerId: `n${i}`, capacity: 4, throughput: 100 })

describe('ground truth', () => {
  it('replicatedShare is the share of time after the trigger with every block at the reachable replication', () => {
    // 3 nodes of 4 blocks on 4 blocks, R 2: two replicas are reachable. From the trigger (100) to the
    // end (300) the swarm is at two replicas from 100 to 150 and from 250 on: 100 of 200 ms.
    const truth = createTruth([spec(0), spec(1), spec(2)], { L: 4, R: 2, measureFrom: 0, end: 300, trigger: 100 })
    const all = { start: 0, end: 4 }
    for (const i of [0, 1, 2]) truth.setAlive(0, i, true)
    truth.setPlanned(0, 0, all); truth.setPlanned(0, 1, all)
    truth.sample(100)
    truth.setPlanned(150, 1, null)
    truth.sample(200)
    truth.setPlanned(250, 2, all)
    truth.sample(250)
    const s = truth.finish(300)
    expect(s.brokenEpisodes).toBe(1)
    expect(s.replicatedShare).toBeCloseTo(0.5, 9)
  })
})

describe('comparing on the issue\'s order', () => {
  const run = (availability: number, replicatedShare: number, bottleneckRatio: number): SimResult =>
    ({ availability, bottleneckRatio, extra: { replicatedShare } }) as unknown as SimResult
  it('coverage first, then time at the replication target, then the bottleneck', () => {
    expect(aheadOnIssueOrder(run(1, 0.99, 0.6), run(1, 0.75, 0.8))).toBe(true) // the baseline gave up replicas
    expect(aheadOnIssueOrder(run(1, 0.995, 0.6), run(1, 0.999, 0.8))).toBe(false) // level shares: bottleneck
    expect(aheadOnIssueOrder(run(0.9, 1, 0.9), run(1, 0.5, 0.5))).toBe(false) // blocks went dark
    expect(aheadOnIssueOrder(run(1, 1, 0.7), run(1, 1, 0.7))).toBe(true)
  })
})
