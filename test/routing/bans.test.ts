import { describe, expect, it } from 'vitest'
import { BanList, findRoute, PETALS_BAN_TIMEOUT_MS } from '../../src/protocols/routing/index.ts'
import { hopsOf, routeOf, srv } from './helpers.ts'

describe('BanList', () => {
  it('bans for 15 s, then doubles on each consecutive ban', () => {
    expect(PETALS_BAN_TIMEOUT_MS).toBe(15_000)
    const bans = new BanList()
    expect(bans.ban('A', 0)).toBe(15_000)
    expect(bans.isBanned('A', 14_999)).toBe(true)
    expect(bans.isBanned('A', 15_000)).toBe(false)
    expect(bans.ban('A', 20_000)).toBe(20_000 + 30_000)
    expect(bans.ban('A', 50_000)).toBe(50_000 + 60_000)
    expect(bans.ban('A', 110_000)).toBe(110_000 + 120_000)
    expect(bans.failures('A')).toBe(4)
    expect(bans.isBanned('B', 0)).toBe(false)
  })

  it('ignores failures during a ban, as hivemind does', () => {
    const bans = new BanList()
    bans.ban('A', 0)
    expect(bans.ban('A', 5_000)).toBe(15_000)
    expect(bans.failures('A')).toBe(1)
    expect(bans.bannedUntil('A', 5_000)).toBe(15_000)
    expect(bans.bannedUntil('A', 15_000)).toBeNull()
  })

  it('resets on success', () => {
    const bans = new BanList()
    bans.ban('A', 0)
    bans.ban('A', 15_000)
    expect(bans.isBanned('A', 20_000)).toBe(true)
    bans.success('A')
    expect(bans.isBanned('A', 20_000)).toBe(false)
    expect(bans.failures('A')).toBe(0)
    expect(bans.ban('A', 20_000)).toBe(35_000)
  })

  it('takes custom base, rate and cap, and lists banned peers', () => {
    const bans = new BanList({ baseMs: 1_000, backoffRate: 3, maxMs: 5_000 })
    expect(bans.ban('B', 0)).toBe(1_000)
    expect(bans.ban('B', 1_000)).toBe(4_000)
    expect(bans.ban('B', 4_000)).toBe(9_000)
    bans.ban('A', 4_000)
    expect(bans.banned(4_500)).toEqual(['A', 'B'])
    expect(bans.banned(6_000)).toEqual(['B'])
    bans.clear()
    expect(bans.banned(6_000)).toEqual([])
  })
})

describe('findRoute with bans', () => {
  // A is the better server; B is the fallback.
  const servers = [srv('A', 0, 4, 1000), srv('B', 0, 4, 100)]

  it('excludes banned servers and falls back to others, until the ban expires', () => {
    const bans = new BanList()
    expect(hopsOf(findRoute({ totalBlocks: 4, servers, mode: 'min-latency', bans, now: 0 }))).toEqual(['A 0:4'])
    bans.ban('A', 0)
    for (const mode of ['min-latency', 'max-throughput'] as const) {
      expect(hopsOf(findRoute({ totalBlocks: 4, servers, mode, bans, now: 1_000, seed: 7 }))).toEqual(['B 0:4'])
    }
    expect(hopsOf(findRoute({ totalBlocks: 4, servers, mode: 'min-latency', bans, now: 15_000 }))).toEqual(['A 0:4'])
  })

  it('uses a banned server when it is the only holder of a block, as Petals does', () => {
    // C [4,8) is the only holder of 4..7; A is banned but B covers 0..3, so only C is re-admitted.
    const all = [srv('A', 0, 4, 1000), srv('B', 0, 4, 100), srv('C', 4, 8)]
    const bans = new BanList()
    bans.ban('A', 0)
    bans.ban('C', 0)
    const route = routeOf(findRoute({ totalBlocks: 8, servers: all, mode: 'min-latency', bans, now: 1 }))
    expect(route.hops.map(h => h.peerId)).toEqual(['B', 'C'])
    expect(route.usedBannedPeers).toEqual(['C'])
  })

  it('can report banned-only blocks instead', () => {
    const all = [srv('A', 0, 4), srv('C', 4, 8)]
    const bans = new BanList()
    bans.ban('C', 0)
    const result = findRoute({ totalBlocks: 10, servers: all, mode: 'min-latency', bans, now: 1, ignoreBansAsLastResort: false })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.missing).toEqual([{ start: 8, end: 10 }])
    expect(result.error.bannedOnly).toEqual([{ start: 4, end: 8 }])
    expect(result.error.message).toBe('blocks 8–9 have no online server; blocks 4–7 have only banned servers')
  })
})
