// Pieces that keep liveness honest in big or busy swarms: silence during our own stall is excused,
// and a signed record is verified once per node (a cache that a tampered copy can never hit).
import { describe, it, expect } from 'vitest'
import { SwarmView } from '../../src/node/swarm-view.ts'
import { verifySignedRecord } from '../../src/protocols/membership/record.ts'
import { VerifiedRecords } from '../../src/protocols/membership/verified-cache.ts'
import { stalledSince, watchLoopStalls } from '../../src/node/loop-stall.ts'
import { keyAndId, record, signed, MODEL } from './helpers.ts'

const opts = (self: string) => ({ model: MODEL, totalBlocks: 24, selfPeerId: self, selfInstance: 1n, suspectAfterMs: 2500, offlineAfterMs: 5000, tombstoneMs: 60_000 })

describe('liveness under load', () => {
  it('silence during our own stall does not count towards a member\'s timeouts', async () => {
    const a = await keyAndId()
    const v = new SwarmView(opts('self'))
    const r = record(a.id)
    v.applyRecord(r, await signed(a.key, r), 0, { kind: 'gossip' })
    // We stalled for 4 s: at t = 6 s the member has really been silent for 2 s only.
    v.excuseSilence(4000, 6000)
    expect(v.tick(6000)).toEqual([])
    expect(v.tick(8500).map(e => e.type)).toEqual(['member-suspect'])
    expect(v.tick(11_000).map(e => e.type)).toEqual(['member-offline'])
  })

  it('an excuse never moves a member\'s last-heard time into the future', async () => {
    const a = await keyAndId()
    const v = new SwarmView(opts('self'))
    const r = record(a.id)
    v.applyRecord(r, await signed(a.key, r), 1000, { kind: 'gossip' })
    v.excuseSilence(60_000, 2000)
    expect(v.get(a.id)?.lastHeardMs).toBe(2000)
  })

  it('notices a stall of the event loop', async () => {
    const release = watchLoopStalls()
    try {
      const t0 = Date.now()
      await new Promise(resolve => setTimeout(resolve, 150))
      const busyUntil = Date.now() + 600
      while (Date.now() < busyUntil) { /* a blocked event loop */ }
      expect(stalledSince(t0)).toBeGreaterThanOrEqual(300)
      await new Promise(resolve => setTimeout(resolve, 250))
      expect(stalledSince(Date.now())).toBe(0)
    } finally {
      release()
    }
  })
})

describe('verified record cache', () => {
  it('a record verified once is accepted again from the cache; a tampered copy still fails', async () => {
    const a = await keyAndId()
    const s = await signed(a.key, record(a.id))
    const cache = new VerifiedRecords()
    const ctx = { now: Date.now(), model: MODEL, totalBlocks: 24, verified: cache }
    expect((await verifySignedRecord(s, ctx)).ok).toBe(true)
    expect(cache.has(s)).toBe(true)
    expect((await verifySignedRecord(s, ctx)).ok).toBe(true)
    // Same signature, other record bytes (one more field at the end): not a cache hit, and invalid.
    const other = await signed(a.key, record(a.id, { publicName: 'other' }))
    const forged = { record: other.record, signature: s.signature }
    expect(cache.has(forged)).toBe(false)
    expect((await verifySignedRecord(forged, ctx)).ok).toBe(false)
    // A record signed by another key is never cached.
    const b = await keyAndId()
    const wrongKey = await signed(b.key, record(a.id))
    expect((await verifySignedRecord(wrongKey, ctx)).ok).toBe(false)
    expect(cache.has(wrongKey)).toBe(false)
  })

  it('stays within its bound, dropping the least recently used', async () => {
    const a = await keyAndId()
    const cache = new VerifiedRecords(2)
    const [r1, r2, r3] = await Promise.all([1n, 2n, 3n].map(async seq => await signed(a.key, record(a.id, { seq }))))
    cache.add(r1); cache.add(r2)
    expect(cache.has(r1)).toBe(true) // r1 is now the most recent
    cache.add(r3)
    expect(cache.size).toBe(2)
    expect(cache.has(r2)).toBe(false)
    expect(cache.has(r1)).toBe(true)
    expect(cache.has(r3)).toBe(true)
  })
})
