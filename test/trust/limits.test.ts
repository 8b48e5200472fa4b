// The pure parts of the hostile-peer defence: token buckets, misbehaviour points, bans, the guard's verdict.
import { describe, it, expect } from 'vitest'
import { RateLimiter } from '../../src/node/trust/rate-limit.ts'
import { PeerPenalties } from '../../src/node/trust/penalties.ts'
import { TempBans } from '../../src/node/trust/bans.ts'
import { guardVerdict, startGuard } from '../../src/node/trust/guard.ts'
import { GossipLimits } from '../../src/node/trust/limits.ts'
import { peerIdFromString } from '@libp2p/peer-id'

describe('RateLimiter (token bucket)', () => {
  it('allows the burst, then the sustained rate', () => {
    const r = new RateLimiter({ ratePerSec: 10, burst: 20 })
    let ok = 0
    for (let i = 0; i < 100; i++) if (r.take('a', 0)) ok++
    expect(ok).toBe(20)
    expect(r.take('a', 50)).toBe(false) // 0.5 token
    expect(r.take('a', 100)).toBe(true) // 1 token after 100 ms
    expect(r.take('a', 100)).toBe(false)
    // A second later: 10 more.
    let later = 0
    for (let i = 0; i < 100; i++) if (r.take('a', 1100)) later++
    expect(later).toBe(10)
  })

  it('keeps keys apart and never goes above the burst after a long silence', () => {
    const r = new RateLimiter({ ratePerSec: 1, burst: 3 })
    for (let i = 0; i < 3; i++) expect(r.take('a', 0)).toBe(true)
    expect(r.take('a', 0)).toBe(false)
    expect(r.take('b', 0)).toBe(true)
    expect(r.available('a', 1_000_000)).toBe(3)
  })

  it('a clock going backwards refills nothing', () => {
    const r = new RateLimiter({ ratePerSec: 1000, burst: 1 })
    expect(r.take('a', 10_000)).toBe(true)
    expect(r.take('a', 0)).toBe(false)
  })

  it('bounds its memory', () => {
    const r = new RateLimiter({ ratePerSec: 1, burst: 1, maxKeys: 100 })
    for (let i = 0; i < 1000; i++) r.take(`k${i}`, 0)
    expect(r.size).toBe(100)
  })

  it('refuses nonsense settings', () => {
    expect(() => new RateLimiter({ ratePerSec: 0, burst: 1 })).toThrow(/ratePerSec > 0/)
    expect(() => new RateLimiter({ ratePerSec: 1, burst: 0 })).toThrow(/burst >= 1/)
  })
})

describe('GossipLimits', () => {
  it('rejects a peer over its per-topic rate; an author over its rate is rejected only when it delivered the message itself', () => {
    const g = new GossipLimits({ perPeer: 5, perAuthor: 2 })
    const peerVerdicts = Array.from({ length: 20 }, () => g.checkPeer('heartbeats', 'p', 0))
    expect(peerVerdicts.filter(v => v == null)).toHaveLength(10)
    expect(peerVerdicts.at(-1)).toMatchObject({ ignore: false, reason: expect.stringMatching(/rate limit/) })
    expect(g.checkPeer('records', 'p', 0)).toBeNull() // another topic, another bucket
    for (let i = 0; i < 4; i++) expect(g.checkAuthor('records', 'a', 'a', 0)).toBeNull()
    expect(g.checkAuthor('records', 'a', 'a', 0)).toMatchObject({ ignore: false })
    expect(g.checkAuthor('records', 'a', 'relay', 0)).toMatchObject({ ignore: true })
    expect(g.checkAuthor('obituaries', 'a', 'a', 0)).toBeNull()
  })
})

describe('PeerPenalties', () => {
  it('adds points, halves them every half-life, remembers reasons', () => {
    const p = new PeerPenalties({ halfLifeMs: 1000 })
    p.add('x', 10, 'bad record', 0)
    p.add('x', 10, 'bad record', 0)
    expect(p.points('x', 0)).toBe(20)
    expect(p.points('x', 1000)).toBeCloseTo(10)
    expect(p.points('x', 2000)).toBeCloseTo(5)
    expect(p.points('y', 0)).toBe(0)
    expect(p.reasons('x')).toEqual({ 'bad record': 2 })
    expect(p.offenders(0).map(o => o.peer)).toEqual(['x'])
    p.forget('x')
    expect(p.points('x', 0)).toBe(0)
  })
})

describe('TempBans', () => {
  it('bans for baseMs, doubles on each new ban, up to maxMs, and forgives after a quiet period', () => {
    const b = new TempBans({ baseMs: 1000, maxMs: 5000, forgiveMs: 60_000 })
    expect(b.ban('x', 0, 'r')).toBe(1000)
    expect(b.isBanned('x', 999)).toBe(true)
    expect(b.isBanned('x', 1000)).toBe(false)
    expect(b.ban('x', 1000, 'r')).toBe(3000) // 2 s
    expect(b.ban('x', 3000, 'r')).toBe(7000) // 4 s
    expect(b.ban('x', 7000, 'r')).toBe(12_000) // capped at 5 s
    expect(b.active(8000)).toHaveLength(1)
    // Quiet for longer than forgiveMs after the ban ran out: back to the first length.
    expect(b.ban('x', 12_000 + 60_001, 'r')).toBe(12_000 + 60_001 + 1000)
  })
})

describe('guard', () => {
  it('verdict: disconnect below the score threshold or at the points threshold', () => {
    const t = { disconnectScore: -1000, disconnectPenalty: 20 }
    expect(guardVerdict(-10, 5, t)).toBeNull()
    expect(guardVerdict(-1001, 0, t)).toMatch(/gossipsub score/)
    expect(guardVerdict(0, 20, t)).toMatch(/misbehaviour points/)
  })

  it('bans and hangs up on offenders, never on exempt peers', async () => {
    const ids = ['12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp', '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo']
    const hungUp: string[] = []
    const penalties = new PeerPenalties()
    const bans = new TempBans({ baseMs: 5000 })
    penalties.add(ids[0], 50, 'flood', Date.now())
    penalties.add(ids[1], 50, 'flood', Date.now())
    const guard = startGuard({
      peerId: peerIdFromString(ids[1]),
      getPeers: () => ids.map(i => peerIdFromString(i)),
      hangUp: async (p) => { hungUp.push(p.toString()) }
    }, { disconnectScore: -1000, disconnectPenalty: 20, checkMs: 60_000, penalties, bans, score: () => 0, exempt: (p) => p === ids[1] })
    try {
      const events = await guard.check()
      expect(events.map(e => e.peer)).toEqual([ids[0]])
      expect(hungUp).toEqual([ids[0]])
      expect(bans.isBanned(ids[0], Date.now())).toBe(true)
      expect(bans.isBanned(ids[1], Date.now())).toBe(false)
      expect(penalties.points(ids[0], Date.now())).toBe(0) // spent by the ban
    } finally {
      guard.stop()
    }
  })
})
