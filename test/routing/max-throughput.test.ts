import { describe, expect, it } from 'vitest'
import { findRoute, seededRng } from '../../src/protocols/routing/index.ts'
import type { RouteServer } from '../../src/protocols/routing/index.ts'
import { hopsOf, routeOf, srv } from './helpers.ts'

const swarm: RouteServer[] = [
  srv('A', 0, 10), srv('B', 0, 4), srv('C', 3, 12), srv('D', 8, 16), srv('E', 10, 16), srv('F', 12, 16), srv('G', 5, 9)
]

function covers (hops: ReadonlyArray<{ span: { start: number, end: number } }>, from: number, to: number): boolean {
  let at = from
  for (const h of hops) {
    if (h.span.start !== at || h.span.end <= at) return false
    at = h.span.end
  }
  return at === to
}

describe('findRoute max-throughput', () => {
  it('is deterministic for a given seed, whatever the input order', () => {
    const a = findRoute({ totalBlocks: 16, servers: swarm, mode: 'max-throughput', seed: 42 })
    const b = findRoute({ totalBlocks: 16, servers: [...swarm].reverse(), mode: 'max-throughput', seed: 42 })
    expect(hopsOf(a)).toEqual(hopsOf(b))
    expect(hopsOf(findRoute({ totalBlocks: 16, servers: swarm, mode: 'max-throughput', seed: 'client-1' })))
      .toEqual(hopsOf(findRoute({ totalBlocks: 16, servers: swarm, mode: 'max-throughput', seed: 'client-1' })))
  })

  it('covers every block for every seed, and different seeds spread the load', () => {
    const routes = new Set<string>()
    for (let seed = 0; seed < 200; seed++) {
      const route = routeOf(findRoute({ totalBlocks: 16, servers: swarm, mode: 'max-throughput', seed }))
      expect(covers(route.hops, 0, 16)).toBe(true)
      for (const h of route.hops) {
        const s = swarm.find(x => x.peerId === h.peerId)
        expect(s?.span?.start).toBeLessThanOrEqual(h.span.start)
        // Petals uses a chosen server to the end of its span.
        expect(h.span.end).toBe(s?.span?.end)
      }
      routes.add(hopsOf(findRoute({ totalBlocks: 16, servers: swarm, mode: 'max-throughput', seed })).join(' | '))
    }
    expect(routes.size).toBeGreaterThan(3)
  })

  it('weights by span length as Petals does', () => {
    // Block 0: A (length 8) vs B (length 2) → A with probability 0.8.
    const servers = [srv('A', 0, 8), srv('B', 0, 2), srv('C', 2, 8)]
    const rng = seededRng(1)
    let a = 0
    for (let i = 0; i < 2000; i++) {
      if (routeOf(findRoute({ totalBlocks: 8, servers, mode: 'max-throughput', rng })).hops[0].peerId === 'A') a++
    }
    expect(a / 2000).toBeGreaterThan(0.75)
    expect(a / 2000).toBeLessThan(0.85)
  })

  it('can weight by throughput instead', () => {
    const servers = [srv('A', 0, 4, 900), srv('B', 0, 4, 100)]
    const rng = seededRng(2)
    let a = 0
    for (let i = 0; i < 2000; i++) {
      if (routeOf(findRoute({ totalBlocks: 4, servers, mode: 'max-throughput', rng, maxThroughputWeight: 'throughput' })).hops[0].peerId === 'A') a++
    }
    expect(a / 2000).toBeGreaterThan(0.86)
    expect(a / 2000).toBeLessThan(0.94)
  })

  it('nearly never picks an unreachable server while another is available', () => {
    const servers = [srv('A', 0, 8), srv('B', 0, 8)]
    const rtts = new Map([['A', Infinity], ['B', 30]])
    for (let seed = 0; seed < 100; seed++) {
      const route = routeOf(findRoute({ totalBlocks: 8, servers, mode: 'max-throughput', rtts, seed }))
      expect(route.hops.map(h => h.peerId)).toEqual(['B'])
      expect(route.hops[0].rttMs).toBe(30)
    }
  })

  it('reports the bottleneck and an estimated latency', () => {
    const route = routeOf(findRoute({ totalBlocks: 8, servers: [srv('A', 0, 4, 50), srv('B', 4, 8, 200)], mode: 'max-throughput', seed: 0 }))
    expect(route.bottleneckThroughput).toBe(50)
    // (300+18+4×20) + (300+18+4×5)
    expect(route.estimatedLatencyMs).toBeCloseTo(398 + 338, 9)
  })
})
