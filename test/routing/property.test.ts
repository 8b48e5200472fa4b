import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BanList, DEFAULT_COST_MODEL, findRoute, missingBlocks } from '../../src/protocols/routing/index.ts'
import type { RouteServer } from '../../src/protocols/routing/index.ts'
import { NODE_STATES } from '../../src/protocols/types.ts'

const arbSwarm = fc.integer({ min: 1, max: 24 }).chain(totalBlocks => fc.record({
  totalBlocks: fc.constant(totalBlocks),
  servers: fc.uniqueArray(
    fc.record({
      peerId: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'),
      state: fc.oneof({ weight: 4, arbitrary: fc.constant('online' as const) }, { weight: 1, arbitrary: fc.constantFrom(...NODE_STATES) }),
      start: fc.integer({ min: 0, max: totalBlocks + 1 }),
      len: fc.integer({ min: 1, max: totalBlocks + 2 }),
      throughput: fc.oneof(fc.double({ min: 0.5, max: 5000, noNaN: true }), fc.constant(0)),
      rtt: fc.option(fc.oneof(fc.double({ min: 0, max: 2000, noNaN: true }), fc.constant(Infinity))),
      banned: fc.boolean()
    }),
    { minLength: 0, maxLength: 8, selector: s => s.peerId }
  ),
  mode: fc.constantFrom('min-latency' as const, 'max-throughput' as const),
  seed: fc.integer()
}))

function build (raw: { servers: Array<{ peerId: string, state: RouteServer['state'], start: number, len: number, throughput: number, rtt: number | null, banned: boolean }> }): { servers: RouteServer[], rtts: Map<string, number>, bans: BanList } {
  const bans = new BanList()
  const rtts = new Map<string, number>()
  const servers = raw.servers.map(s => {
    if (s.banned) bans.ban(s.peerId, 0)
    if (s.rtt != null) rtts.set(s.peerId, s.rtt)
    return { peerId: s.peerId, state: s.state, span: { start: s.start, end: s.start + s.len }, capacity: s.len, throughput: s.throughput }
  })
  return { servers, rtts, bans }
}

/** Exhaustive min-latency cost over every chain of (server, sub-span) hops: the reference optimum. */
function bruteForce (totalBlocks: number, servers: RouteServer[], rtts: Map<string, number>): number {
  const c = DEFAULT_COST_MODEL
  const memo = new Map<number, number>()
  const from = (a: number): number => {
    if (a === totalBlocks) return 0
    const hit = memo.get(a)
    if (hit != null) return hit
    let best = Infinity
    for (const s of servers) {
      if (s.state !== 'online' || s.span == null || s.span.start > a || s.span.end <= a) continue
      const rtt = rtts.get(s.peerId)
      const hop = (rtt == null ? c.defaultRttMs : Math.min(rtt, c.maxRttMs)) + c.overheadMs
      const ms = 1000 / (s.throughput > 0 ? s.throughput : c.defaultInferenceRps)
      for (let b = a + 1; b <= Math.min(s.span.end, totalBlocks); b++) best = Math.min(best, hop + (b - a) * ms + from(b))
    }
    memo.set(a, best)
    return best
  }
  return from(0)
}

describe('routing properties', () => {
  it('when no block is missing, every route is a contiguous chain over 0..L within the servers\' spans', () => {
    fc.assert(fc.property(arbSwarm, raw => {
      const { servers, rtts, bans } = build(raw)
      const missing = missingBlocks(raw.totalBlocks, servers)
      const result = findRoute({ totalBlocks: raw.totalBlocks, servers, mode: raw.mode, rtts, bans, now: 1, seed: raw.seed })
      if (missing.length > 0) {
        expect(result.ok).toBe(false)
        if (!result.ok) expect(result.error.missing).toEqual(missing)
        return
      }
      expect(result.ok).toBe(true)
      if (!result.ok) return
      const { hops } = result.route
      expect(hops[0].span.start).toBe(0)
      expect(hops[hops.length - 1].span.end).toBe(raw.totalBlocks)
      hops.forEach((hop, i) => {
        expect(hop.span.start).toBeLessThan(hop.span.end)
        if (i > 0) expect(hop.span.start).toBe(hops[i - 1].span.end)
        const server = servers.find(s => s.peerId === hop.peerId)
        expect(server?.state).toBe('online')
        expect(server?.span?.start).toBeLessThanOrEqual(hop.span.start)
        expect(server?.span?.end).toBeGreaterThanOrEqual(hop.span.end)
      })
      // Banned servers appear only when they were needed, and are reported.
      for (const hop of hops) {
        if (bans.isBanned(hop.peerId, 1)) expect(result.route.usedBannedPeers).toContain(hop.peerId)
      }
    }), { numRuns: 500 })
  })

  it('min-latency matches an exhaustive search when no server is banned', () => {
    fc.assert(fc.property(arbSwarm, raw => {
      const { servers, rtts } = build(raw)
      if (missingBlocks(raw.totalBlocks, servers).length > 0) return
      const result = findRoute({ totalBlocks: raw.totalBlocks, servers, mode: 'min-latency', rtts })
      if (!result.ok) throw new Error(result.error.message)
      const expected = bruteForce(raw.totalBlocks, servers, rtts)
      // Relative: the two searches add the same costs in different orders, and a 12,000 ms route can
      // differ in the last bits by more than an absolute 5e-7 (seen once in CI-like runs).
      expect(Math.abs((result.route.estimatedLatencyMs ?? Number.NaN) - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)))
    }), { numRuns: 500 })
  })
})
