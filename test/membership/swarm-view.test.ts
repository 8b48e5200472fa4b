import { describe, it, expect } from 'vitest'
import { SwarmView, computeCoverage } from '../../src/node/swarm-view.ts'
import { keyAndId, record, signed, MODEL } from './helpers.ts'

const opts = (self: string) => ({ model: MODEL, totalBlocks: 24, selfPeerId: self, selfInstance: 1n, suspectAfterMs: 2500, offlineAfterMs: 5000, tombstoneMs: 60_000 })

describe('swarm view', () => {
  it('adds a member from gossip and updates it only with newer sequence numbers', async () => {
    const a = await keyAndId()
    const v = new SwarmView(opts('self'))
    const r1 = record(a.id, { seq: 10n })
    expect(v.applyRecord(r1, await signed(a.key, r1), 0, { kind: 'gossip' }).outcome).toBe('applied')
    const old = record(a.id, { seq: 9n, span: { start: 3, end: 5 } })
    expect(v.applyRecord(old, await signed(a.key, old), 1, { kind: 'gossip' }).outcome).toBe('stale')
    expect(v.get(a.id)?.record.span).toEqual({ start: 0, end: 12 })
    const r2 = record(a.id, { seq: 11n, span: { start: 12, end: 24 } })
    const res = v.applyRecord(r2, await signed(a.key, r2), 2, { kind: 'gossip' })
    expect(res.events.some(e => e.type === 'member-updated' && e.spanChanged)).toBe(true)
  })

  it('suspects then declares offline after silence, and prunes tombstones later', async () => {
    const a = await keyAndId()
    const v = new SwarmView(opts('self'))
    const r = record(a.id)
    v.applyRecord(r, await signed(a.key, r), 0, { kind: 'gossip' })
    expect(v.tick(2499)).toEqual([])
    expect(v.tick(2500).map(e => e.type)).toEqual(['member-suspect'])
    expect(v.tick(5000).map(e => e.type)).toEqual(['member-offline'])
    expect(v.tick(64_999)).toEqual([])
    expect(v.tick(65_000).map(e => e.type)).toEqual(['member-pruned'])
    expect(v.size()).toBe(0)
  })

  it('never resurrects an offline member from a snapshot or a replayed message (no ghosts)', async () => {
    const a = await keyAndId()
    const v = new SwarmView(opts('self'))
    const last = record(a.id, { seq: 50n })
    const lastSigned = await signed(a.key, last)
    v.applyRecord(last, lastSigned, 0, { kind: 'gossip' })
    v.applyHeartbeat(a.id, { instance: 7n, seq: 51n, timestampMs: 0, state: 'online', recordSeq: 50n, loadingDone: 0, tokensSinceLast: 0 }, 100)
    v.markOffline(a.id, 'crashed', 200)
    // The same record again (re-gossiped or relayed in a snapshot that still thinks it is online).
    expect(v.applyRecord(last, lastSigned, 300, { kind: 'gossip' }).outcome).toBe('stale')
    expect(v.applyRecord(last, lastSigned, 300, { kind: 'snapshot', heardAgoMs: 0, liveness: 'online' }).outcome).toBe('stale')
    // A replayed heartbeat.
    expect(v.applyHeartbeat(a.id, { instance: 7n, seq: 51n, timestampMs: 0, state: 'online', recordSeq: 50n, loadingDone: 0, tokensSinceLast: 0 }, 400).outcome).toBe('stale')
    // Even a newer record the crashed node published just before dying, relayed by a snapshot, does not revive it.
    const newer = record(a.id, { seq: 52n })
    v.applyRecord(newer, await signed(a.key, newer), 500, { kind: 'snapshot', heardAgoMs: 0, liveness: 'online' })
    expect(v.get(a.id)?.liveness).toBe('offline')
    // A newer heartbeat the node sent just before it died (150 < 200), delivered late by the mesh:
    // not a sign of life either.
    expect(v.applyHeartbeat(a.id, { instance: 7n, seq: 55n, timestampMs: 150, state: 'online', recordSeq: 50n, loadingDone: 0, tokensSinceLast: 0 }, 550).outcome).toBe('stale')
    const late = record(a.id, { seq: 56n, timestampMs: 190 })
    v.applyRecord(late, await signed(a.key, late), 560, { kind: 'gossip' })
    expect(v.get(a.id)?.liveness).toBe('offline')
    // Only the owner speaking again (fresh gossip, newer seq, sent after it was declared gone) brings it back.
    const res = v.applyHeartbeat(a.id, { instance: 8n, seq: 60n, timestampMs: 600, state: 'online', recordSeq: 52n, loadingDone: 0, tokensSinceLast: 0 }, 600)
    expect(res.events.map(e => e.type)).toContain('member-back')
    expect(v.get(a.id)?.liveness).toBe('alive')
  })

  it('keeps departed members as tombstones so older records cannot re-add them', async () => {
    const a = await keyAndId()
    const v = new SwarmView(opts('self'))
    const r = record(a.id, { seq: 10n })
    v.applyRecord(r, await signed(a.key, r), 0, { kind: 'gossip' })
    const leaving = record(a.id, { seq: 11n, state: 'leaving' })
    expect(v.applyRecord(leaving, await signed(a.key, leaving), 1, { kind: 'gossip' }).events.map(e => e.type)).toEqual(['member-left'])
    expect(v.applyRecord(r, await signed(a.key, r), 2, { kind: 'snapshot', heardAgoMs: 0, liveness: 'online' }).outcome).toBe('stale')
    expect(v.get(a.id)?.liveness).toBe('left')
    expect(v.memberInfos()[0].state).toBe('offline')
  })

  it('adds snapshot members the relaying peer already considers dead as offline, not alive', async () => {
    const a = await keyAndId()
    const v = new SwarmView(opts('self'))
    const r = record(a.id)
    expect(v.applyRecord(r, await signed(a.key, r), 10_000, { kind: 'snapshot', heardAgoMs: 9000, liveness: 'online' }).events).toEqual([])
    expect(v.get(a.id)?.liveness).toBe('offline')
  })

  it('reports its own id under another instance as a twin', async () => {
    const a = await keyAndId()
    const v = new SwarmView({ ...opts(a.id), selfInstance: 1n })
    const r = record(a.id, { instance: 2n })
    expect(v.applyRecord(r, await signed(a.key, r), 0, { kind: 'gossip' }).outcome).toBe('twin')
    expect(v.applyHeartbeat(a.id, { instance: 2n, seq: 5n, timestampMs: 0, state: 'online', recordSeq: 1n, loadingDone: 0, tokensSinceLast: 0 }, 0).outcome).toBe('twin')
    expect(v.applyHeartbeat(a.id, { instance: 1n, seq: 5n, timestampMs: 0, state: 'online', recordSeq: 1n, loadingDone: 0, tokensSinceLast: 0 }, 0).outcome).toBe('self')
  })

  it('derives coverage from online members only', () => {
    const cov = computeCoverage([
      { peerId: 'a', state: 'online', span: { start: 0, end: 4 }, capacity: 4, throughput: 10 },
      { peerId: 'b', state: 'online', span: { start: 2, end: 6 }, capacity: 4, throughput: 5 },
      { peerId: 'c', state: 'loading', span: { start: 6, end: 8 }, capacity: 2, throughput: 5 },
      { peerId: 'd', state: 'offline', span: { start: 6, end: 8 }, capacity: 2, throughput: 5 }
    ], 8)
    expect(cov.coveredBlocks).toBe(6)
    expect(cov.coveragePercent).toBe(75)
    expect(cov.readyForInference).toBe(false)
    expect(cov.blocks[3]).toMatchObject({ servers: ['a', 'b'], throughput: 15 })
    expect(cov.blocks[6].pending).toEqual(['c'])
    expect(cov.minReplication).toBe(0)
    expect(cov.onlineNodes).toBe(2)
  })
})
