// /v1/events: server-sent events of swarm and node changes over a real in-process swarm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent, PeerRow } from '../../src/node/api/types.ts'
import { json, SseReader, startApiSwarm, type ApiSwarm } from './helpers.ts'

let s: ApiSwarm
const readers: SseReader[] = []
function open (path: string, headers: Record<string, string> = {}): SseReader {
  const r = new SseReader(s.base + path, headers)
  readers.push(r)
  return r
}

beforeAll(async () => {
  s = await startApiSwarm()
})
afterAll(async () => {
  for (const r of readers) r.close()
  await s?.stop()
})

describe('/v1/events', () => {
  it('opens with a hello event and the right headers', async () => {
    const res = await fetch(s.base + '/v1/events', { signal: AbortSignal.timeout(5000) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    await res.body?.cancel()
    const r = open('/v1/events')
    const hello = await r.waitFor(e => e.event === 'hello', 5000)
    expect(hello).not.toBeNull()
    expect(typeof json<{ lastEventId: number }>(hello!).lastEventId).toBe('number')
  })

  it('delivers member-offline (and the coverage drop) when a node is stopped', async () => {
    const r = open('/v1/events')
    expect(await r.waitFor(e => e.event === 'hello', 5000)).not.toBeNull()
    const victim = s.swarm.nodes[2] // 16:24: blocks 20-23 have no other server
    const t0 = Date.now()
    await victim.stop({ graceful: false })
    const off = await r.waitFor(e => e.event === 'member-offline' && json<ApiEvent>(e).peerId === victim.peerId, 15_000)
    expect(off, 'member-offline event for the stopped node').not.toBeNull()
    const ev = json<ApiEvent & { member: PeerRow }>(off!)
    expect(ev.type).toBe('member-offline')
    expect(typeof ev.reason).toBe('string')
    expect(ev.member).toMatchObject({ peerId: victim.peerId, liveness: 'offline', state: 'offline', spanText: '16:24' })
    expect(Number(off!.id)).toBe(ev.id)
    expect(Date.now() - t0).toBeLessThan(15_000)
    const cov = await r.waitFor(e => e.event === 'coverage' && json<{ readyForInference: boolean }>(e).readyForInference === false, 5000)
    expect(cov, 'coverage event after the hole opened').not.toBeNull()
    expect(json<{ coveragePercent: number }>(cov!).coveragePercent).toBeCloseTo(100 * 20 / 24, 1)
  })

  it('replays missed events to a client that reconnects with Last-Event-ID', async () => {
    const offline = s.api.events.recent().find(e => e.type === 'member-offline')
    expect(offline).toBeDefined()
    const r = open('/v1/events', { 'last-event-id': String(offline!.id - 1) })
    const replayed = await r.waitFor(e => e.event === 'member-offline', 5000)
    expect(replayed?.id).toBe(String(offline!.id))
    // The query parameter works too (for clients that cannot set headers).
    const q = open(`/v1/events?lastEventId=${offline!.id - 1}`)
    expect(await q.waitFor(e => e.event === 'member-offline', 5000)).not.toBeNull()
    // Without it, history is not replayed.
    const fresh = open('/v1/events')
    await fresh.waitFor(e => e.event === 'hello', 5000)
    expect(fresh.events.some(e => e.event === 'member-offline')).toBe(false)
  })

  it('delivers member-left for a graceful stop and custom node events through notify()', async () => {
    const r = open('/v1/events')
    await r.waitFor(e => e.event === 'hello', 5000)
    const leaver = s.swarm.nodes[1]
    await leaver.stop()
    const left = await r.waitFor(e => e.event === 'member-left' && json<ApiEvent>(e).peerId === leaver.peerId, 10_000)
    expect(left).not.toBeNull()
    s.api.notify('node', { reason: 'petals restarted' })
    const custom = await r.waitFor(e => e.event === 'node', 5000)
    expect(json<ApiEvent>(custom!).reason).toBe('petals restarted')
  })

  it('ends the streams when the API closes', async () => {
    const r = open('/v1/events')
    await r.waitFor(e => e.event === 'hello', 5000)
    await s.api.close()
    expect(await r.waitEnded(5000)).toBe(true)
  })
})
