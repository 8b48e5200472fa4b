import { describe, expect, it } from 'vitest'
import { findRoute, RttCache } from '../../src/protocols/routing/index.ts'
import type { PingFn } from '../../src/protocols/routing/index.ts'
import { hopsOf, srv } from './helpers.ts'

/** A fake ping whose answers the test releases by hand. */
function manualPing (): { ping: PingFn, calls: string[], signals: AbortSignal[], answer: (id: string, rtt: number | Error) => void } {
  const calls: string[] = []
  const signals: AbortSignal[] = []
  const pending = new Map<string, { resolve: (n: number) => void, reject: (e: Error) => void }>()
  return {
    calls,
    signals,
    ping: async (id, signal) => await new Promise<number>((resolve, reject) => {
      calls.push(id)
      signals.push(signal)
      pending.set(id, { resolve, reject })
    }),
    answer (id, rtt) {
      const p = pending.get(id)
      if (p == null) throw new Error(`no ping in flight to ${id}`)
      pending.delete(id)
      if (rtt instanceof Error) p.reject(rtt)
      else p.resolve(rtt)
    }
  }
}

describe('RttCache', () => {
  it('pings every peer in parallel', async () => {
    const fake = manualPing()
    const cache = new RttCache({ ping: fake.ping, now: () => 0 })
    const result = cache.measure(['A', 'B', 'C', 'A'])
    await Promise.resolve()
    // All three pings are in flight before any answers.
    expect(fake.calls.sort()).toEqual(['A', 'B', 'C'])
    fake.answer('C', 30)
    fake.answer('A', 10)
    fake.answer('B', 20)
    expect(await result).toEqual(new Map([['A', 10], ['B', 20], ['C', 30]]))
  })

  it('times out slow pings as unreachable and aborts them', async () => {
    const fake = manualPing()
    const cache = new RttCache({ ping: fake.ping, timeoutMs: 20, now: () => 0 })
    const started = Date.now()
    const result = cache.measure(['slow', 'fast'])
    await Promise.resolve()
    fake.answer('fast', 5)
    const rtts = await result
    expect(rtts.get('fast')).toBe(5)
    expect(rtts.get('slow')).toBe(Infinity)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(fake.signals[fake.calls.indexOf('slow')].aborted).toBe(true)
    expect(fake.signals[fake.calls.indexOf('fast')].aborted).toBe(false)
  })

  it('caches results for the TTL, then measures again', async () => {
    let now = 0
    let calls = 0
    const cache = new RttCache({ ping: async () => { calls++; return 10 * calls }, ttlMs: 30_000, emaAlpha: 1, now: () => now })
    expect(await cache.measure(['A'])).toEqual(new Map([['A', 10]]))
    now = 29_999
    expect(await cache.measure(['A'])).toEqual(new Map([['A', 10]]))
    expect(calls).toBe(1)
    expect(cache.get('A')).toBe(10)
    now = 30_000
    expect(cache.get('A')).toBeUndefined()
    expect(await cache.measure(['A'])).toEqual(new Map([['A', 20]]))
    expect(calls).toBe(2)
    expect(await cache.measure(['A'], { force: true })).toEqual(new Map([['A', 30]]))
  })

  it('smooths new samples with Petals\' EMA (alpha 0.2)', async () => {
    let now = 0
    const samples = [10, 20]
    const cache = new RttCache({ ping: async () => samples.shift() ?? 0, now: () => now })
    await cache.measure(['A'])
    now = 60_000
    // 0.2 × 20 + 0.8 × 10
    expect((await cache.measure(['A'])).get('A')).toBeCloseTo(12, 9)
  })

  it('records failures as unreachable for a short time only', async () => {
    let now = 0
    let fail = true
    let calls = 0
    const cache = new RttCache({
      ping: async () => { calls++; if (fail) throw new Error('connection refused'); return 7 },
      failureTtlMs: 5_000,
      now: () => now
    })
    expect((await cache.measure(['A'])).get('A')).toBe(Infinity)
    now = 4_000
    expect((await cache.measure(['A'])).get('A')).toBe(Infinity)
    expect(calls).toBe(1)
    fail = false
    now = 5_000
    expect((await cache.measure(['A'])).get('A')).toBe(7)
    expect(calls).toBe(2)
  })

  it('shares in-flight pings between concurrent calls', async () => {
    const fake = manualPing()
    const cache = new RttCache({ ping: fake.ping, now: () => 0 })
    const first = cache.measure(['A'])
    const second = cache.measure(['A', 'B'])
    await Promise.resolve()
    expect(fake.calls.sort()).toEqual(['A', 'B'])
    fake.answer('A', 12)
    fake.answer('B', 3)
    expect((await first).get('A')).toBe(12)
    expect(await second).toEqual(new Map([['A', 12], ['B', 3]]))
  })

  it('feeds findRoute through snapshot()', async () => {
    let now = 0
    const rtts: Record<string, number> = { A: 900, B: 5 }
    const cache = new RttCache({ ping: async id => rtts[id], now: () => now })
    await cache.measure(['A', 'B'])
    const servers = [srv('A', 0, 4), srv('B', 0, 4)]
    expect(hopsOf(findRoute({ totalBlocks: 4, servers, mode: 'min-latency', rtts: cache.snapshot() }))).toEqual(['B 0:4'])
    now = 60_000
    expect(cache.snapshot().size).toBe(0)
    cache.forget('A')
    expect(cache.get('A')).toBeUndefined()
  })
})
