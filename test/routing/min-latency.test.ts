import { describe, expect, it } from 'vitest'
import { findRoute } from '../../src/protocols/routing/index.ts'
import { hopsOf, routeOf, srv } from './helpers.ts'

// Cost of a hop = rtt + 18 ms overhead + blocks × 1000 / throughput ms (unknown rtt: 300 ms).
const rtts = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries))

describe('findRoute min-latency', () => {
  it('finds the optimum on a small hand-checked graph', () => {
    // L = 6. P [0,3) 100 t/s rtt 40; Q [0,6) 50 t/s rtt 80; R [3,6) 100 t/s rtt 40; S [2,6) 100 t/s rtt 5.
    //   Q                 = 80+18+6×20                 = 218
    //   P[0,3) R[3,6)     = (40+18+30) × 2             = 176
    //   P[0,2) S[2,6)     = (40+18+20) + (5+18+40)     = 141
    //   P[0,3) S[3,6)     = (40+18+30) + (5+18+30)     = 141  ← tie: Petals-like, P runs to its span end
    //   Q[0,2) S[2,6)     = (80+18+40) + 63            = 201
    const input = {
      totalBlocks: 6,
      mode: 'min-latency' as const,
      servers: [srv('Q', 0, 6, 50), srv('S', 2, 6), srv('P', 0, 3), srv('R', 3, 6)],
      rtts: rtts({ P: 40, Q: 80, R: 40, S: 5 })
    }
    const result = findRoute(input)
    expect(hopsOf(result)).toEqual(['P 0:3', 'S 3:6'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(141, 9)
    expect(routeOf(result).bottleneckThroughput).toBe(100)
  })

  it('splits at the cheapest boundary: two fast servers beat one slow one', () => {
    // L = 4. A [0,4) 100 t/s rtt 50 → 50+18+40 = 108.
    // B [0,2) + C [2,4), 1000 t/s rtt 10 → (10+18+2) × 2 = 60.  B + A[2,4) → 30 + 88 = 118.
    const result = findRoute({
      totalBlocks: 4,
      mode: 'min-latency',
      servers: [srv('A', 0, 4, 100), srv('B', 0, 2, 1000), srv('C', 2, 4, 1000)],
      rtts: rtts({ A: 50, B: 10, C: 10 })
    })
    expect(hopsOf(result)).toEqual(['B 0:2', 'C 2:4'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(60, 9)
  })

  // A [0,8) 200 t/s (5 ms/block); B [0,4) and C [4,8) 1000 t/s (1 ms/block).
  const servers = [srv('A', 0, 8, 200), srv('B', 0, 4, 1000), srv('C', 4, 8, 1000)]

  it('prefers fewer hops when RTT dominates', () => {
    // rtt 100: A = 100+18+40 = 158; B+C = 2 × (100+18+4) = 244; B+A[4,8) = 122+138 = 260.
    const result = findRoute({ totalBlocks: 8, mode: 'min-latency', servers, rtts: rtts({ A: 100, B: 100, C: 100 }) })
    expect(hopsOf(result)).toEqual(['A 0:8'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(158, 9)
  })

  it('prefers higher throughput when compute dominates', () => {
    // rtt 1: A = 1+18+40 = 59; B+C = 2 × (1+18+4) = 46; B+A[4,8) = 23+39 = 62.
    const result = findRoute({ totalBlocks: 8, mode: 'min-latency', servers, rtts: rtts({ A: 1, B: 1, C: 1 }) })
    expect(hopsOf(result)).toEqual(['B 0:4', 'C 4:8'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(46, 9)
  })

  it('may leave a server before its span ends (better than Petals on this graph)', () => {
    // A [0,8) 100 t/s, B [4,8) 1000 t/s, rtt 10 each.
    // A alone = 10+18+80 = 108; A[0,4) + B[4,8) = (10+18+40) + (10+18+4) = 100.
    const result = findRoute({ totalBlocks: 8, mode: 'min-latency', servers: [srv('A', 0, 8, 100), srv('B', 4, 8, 1000)], rtts: rtts({ A: 10, B: 10 }) })
    expect(hopsOf(result)).toEqual(['A 0:4', 'B 4:8'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(100, 9)
  })

  it('enters a server in the middle of its span, running the previous one to its end on ties', () => {
    // A [0,6), B [3,10), both 100 t/s, rtt unknown (300): every split A[0,a) B[a,10), a ∈ 3..6, costs
    // 2 × 318 + 100 = 736. Ties go to the Petals shape, A used to the end of its span.
    const result = findRoute({ totalBlocks: 10, mode: 'min-latency', servers: [srv('B', 3, 10), srv('A', 0, 6)] })
    expect(hopsOf(result)).toEqual(['A 0:6', 'B 6:10'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(736, 9)
  })

  it('breaks exact ties by peer id, whatever the input order', () => {
    const x = srv('X', 0, 4)
    const y = srv('Y', 0, 4)
    expect(hopsOf(findRoute({ totalBlocks: 4, mode: 'min-latency', servers: [x, y] }))).toEqual(['X 0:4'])
    expect(hopsOf(findRoute({ totalBlocks: 4, mode: 'min-latency', servers: [y, x] }))).toEqual(['X 0:4'])
  })

  it('uses unknown-RTT and unreachable defaults from Petals', () => {
    // K [0,4) unknown rtt → 300+18+40 = 358; U [0,4) unreachable → clamped to 10 000 ms, avoided.
    const result = findRoute({ totalBlocks: 4, mode: 'min-latency', servers: [srv('U', 0, 4), srv('K', 0, 4)], rtts: rtts({ U: Infinity }) })
    expect(hopsOf(result)).toEqual(['K 0:4'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(358, 9)
    expect(routeOf(result).hops[0].rttMs).toBeNull()
    // Alone, the unreachable one is still used (penalised, not dropped), and its hop reports Infinity.
    const alone = routeOf(findRoute({ totalBlocks: 4, mode: 'min-latency', servers: [srv('U', 0, 4)], rtts: rtts({ U: Infinity }) }))
    expect(alone.estimatedLatencyMs).toBeCloseTo(10_000 + 18 + 40, 9)
    expect(alone.hops[0].rttMs).toBe(Infinity)
  })

  it('applies the alloc penalty to servers without enough attention cache', () => {
    // Needs 100 tokens × 2 × 4 blocks = 800 cache tokens. A has 500 → +10 000 ms; B is slower but has room.
    const servers = [srv('A', 0, 4, 1000, { cacheTokensLeft: 500 }), srv('B', 0, 4, 10, { cacheTokensLeft: 800 })]
    expect(hopsOf(findRoute({ totalBlocks: 4, mode: 'min-latency', servers }))).toEqual(['A 0:4'])
    const result = findRoute({ totalBlocks: 4, mode: 'min-latency', servers, cacheTokensNeeded: 100 })
    expect(hopsOf(result)).toEqual(['B 0:4'])
    expect(routeOf(result).estimatedLatencyMs).toBeCloseTo(300 + 18 + 400, 9)
  })

  it('prefers inferenceRps over throughput for compute cost', () => {
    // A: throughput 1000 but inference 10 t/s → 300+18+400; B: 100 t/s → 300+18+40.
    const servers = [srv('A', 0, 4, 1000, { inferenceRps: 10 }), srv('B', 0, 4, 100)]
    expect(hopsOf(findRoute({ totalBlocks: 4, mode: 'min-latency', servers }))).toEqual(['B 0:4'])
  })

  it('routes a sub-range only', () => {
    const result = findRoute({ totalBlocks: 10, range: { start: 4, end: 8 }, mode: 'min-latency', servers: [srv('A', 0, 6), srv('B', 5, 10)] })
    expect(hopsOf(result)).toEqual(['A 4:6', 'B 6:8'])
    expect(routeOf(result).range).toEqual({ start: 4, end: 8 })
    expect(() => findRoute({ totalBlocks: 10, range: { start: 4, end: 11 }, mode: 'min-latency', servers: [] })).toThrow(RangeError)
  })

  it('ignores servers that are not online and clips spans to the model', () => {
    const servers = [srv('A', 0, 4, 10_000, { state: 'loading' }), srv('B', 0, 9), srv('C', 0, 4, 10_000, { state: 'joining' })]
    const route = routeOf(findRoute({ totalBlocks: 4, mode: 'min-latency', servers }))
    expect(route.hops.map(h => [h.peerId, h.span])).toEqual([['B', { start: 0, end: 4 }]])
  })

  it('copies Petals identities into hops', () => {
    const route = routeOf(findRoute({
      totalBlocks: 2,
      mode: 'min-latency',
      servers: [srv('A', 0, 2, 100, { petalsPeerId: 'QmA', petalsMultiaddrs: ['/ip4/1.2.3.4/tcp/31337'] })]
    }))
    expect(route.hops[0]).toMatchObject({ petalsPeerId: 'QmA', petalsMultiaddrs: ['/ip4/1.2.3.4/tcp/31337'], throughput: 100 })
  })
})
