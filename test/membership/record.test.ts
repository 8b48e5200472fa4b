import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { decodeRecord, decodeHeartbeat, decodeSwarmMessage, decodeObituary, encodeRecord, encodeSwarmMessage, encodeHeartbeat, verifySignedRecord, LIMITS } from '../../src/protocols/membership/record.ts'
import { SignedRecord, SnapshotRequest, SnapshotResponse } from '../../src/protocols/membership/wire.ts'
import { keyAndId, record, signed, MODEL } from './helpers.ts'

const ctx = () => ({ now: Date.now(), model: MODEL, totalBlocks: 24 })
const PLANNER = { revision: 1, name: 'petalmesh', settleMs: 1000, minGain: 0.01, reloadMs: 600_000, cooldownMs: 3_600_000 }

describe('node record validation', () => {
  it('round-trips a record and verifies its signature', async () => {
    const a = await keyAndId()
    const r = record(a.id, { petals: { peerId: 'QmServer', multiaddrs: ['/ip4/127.0.0.1/tcp/31337/p2p/QmServer'], torchDtype: 'float16', quantType: 'nf4', adapters: ['a/b'], state: 'online' } })
    const s = await signed(a.key, r)
    const res = await verifySignedRecord(s, ctx())
    expect(res.ok && res.value).toMatchObject({ peerId: a.id, span: { start: 0, end: 12 }, petals: { quantType: 'nf4' } })
    expect(s.record.length).toBeLessThan(LIMITS.maxRecordBytes)
  })

  it('round-trips 64-bit counters across 2^31 and 2^32 (protons-runtime writes [2^31, 2^32) wrongly unpatched)', async () => {
    const a = await keyAndId()
    for (const n of [2 ** 31 - 1, 2 ** 31, 3_000_000_000, 2 ** 32 - 1, 2 ** 32, 2 ** 40]) {
      const res = await verifySignedRecord(await signed(a.key, record(a.id, { tokensTotal: n, tokensSinceLast: n, planner: { ...PLANNER, cooldownMs: Math.min(n, LIMITS.maxPlannerMs) } })), ctx())
      expect(res.ok && [res.value.tokensTotal, res.value.planner?.cooldownMs]).toEqual([n, Math.min(n, LIMITS.maxPlannerMs)])
    }
  })

  it('carries the planner settings, and none in records that predate them', async () => {
    const a = await keyAndId()
    const res = await verifySignedRecord(await signed(a.key, record(a.id, { planner: PLANNER })), ctx())
    expect(res.ok && res.value.planner).toEqual({ ...PLANNER, minGain: Math.fround(PLANNER.minGain) })
    const old = await verifySignedRecord(await signed(a.key, record(a.id)), ctx())
    expect(old.ok && old.value.planner).toBeNull()
  })

  it('carries petals.dht_ready when told, and leaves it absent (not false) in records that predate it', async () => {
    const a = await keyAndId()
    const petals = { peerId: 'QmServer', multiaddrs: ['/ip4/127.0.0.1/tcp/31337/p2p/QmServer'], torchDtype: '', quantType: '', adapters: [], state: 'starting' }
    for (const dhtReady of [true, false]) {
      const res = await verifySignedRecord(await signed(a.key, record(a.id, { petals: { ...petals, dhtReady } })), ctx())
      expect(res.ok && res.value.petals).toEqual({ ...petals, dhtReady })
    }
    const old = await verifySignedRecord(await signed(a.key, record(a.id, { petals })), ctx())
    expect(old.ok && old.value.petals).toEqual(petals)
    expect(old.ok && old.value.petals != null && 'dhtReady' in old.value.petals).toBe(false)
  })

  it.each([
    ['span past the end', { span: { start: 20, end: 30 } }, /outside/],
    ['empty span', { span: { start: 5, end: 5 } }, /outside/],
    ['span longer than capacity', { span: { start: 0, end: 12 }, capacity: 4 }, /longer than capacity/],
    ['other swarm', { model: 'other' }, /expected/],
    ['other block count', { totalBlocks: 80 }, /differs/],
    ['future timestamp', { timestampMs: Date.now() + 120_000 }, /future/],
    ['old timestamp (replay)', { timestampMs: Date.now() - 3_600_000 }, /too old/],
    ['negative throughput', { throughput: -1 }, /throughput/],
    ['control characters', { publicName: 'evil\u0000name' }, /public name/],
    ['long strings', { publicName: 'x'.repeat(300) }, /public name/],
    ['incompatible version', { protocol: 2 }, /incompatible protocol/],
    ['bad petals multiaddr', { petals: { peerId: 'x', multiaddrs: ['not a multiaddr'], torchDtype: '', quantType: '', adapters: [], state: '' } }, /multiaddrs/],
    ['claim_ms far ahead of the timestamp', { claimMs: Date.now() + 16 * 60_000 }, /claim_ms .* ahead/],
    ['negative planner min_gain', { planner: { ...PLANNER, minGain: -1 } }, /planner settings/],
    ['NaN planner min_gain', { planner: { ...PLANNER, minGain: NaN } }, /planner settings/],
    ['planner cool-down beyond 30 days', { planner: { ...PLANNER, cooldownMs: 31 * 86_400_000 } }, /planner settings/],
    ['control characters in the planner name', { planner: { ...PLANNER, name: 'x\u0007' } }, /planner settings/]
  ])('rejects %s', async (_name, over, reason) => {
    const a = await keyAndId()
    const res = decodeRecord(encodeRecord(record(a.id, over)), ctx())
    expect(res.ok).toBe(false)
    if (!res.ok) expect(res.reason).toMatch(reason)
  })

  it('rejects a record whose signature is by another key (a peer speaking for another)', async () => {
    const a = await keyAndId()
    const b = await keyAndId()
    const s = await signed(b.key, record(a.id))
    const res = await verifySignedRecord(s, ctx())
    expect(res.ok).toBe(false)
  })

  it('rejects truncated and oversized messages', async () => {
    const a = await keyAndId()
    const s = await signed(a.key, record(a.id))
    // Protobuf cannot tell a cut after a field boundary from a shorter message: the signature can.
    for (const cut of [1, 3, 10, 40]) {
      expect((await verifySignedRecord({ record: s.record.subarray(0, s.record.length - cut), signature: s.signature }, ctx())).ok).toBe(false)
      const wire = encodeSwarmMessage({ record: s })
      const m = decodeSwarmMessage(wire.subarray(0, wire.length - cut))
      if (m.ok && m.value.record != null) expect((await verifySignedRecord(m.value.record, ctx())).ok).toBe(false)
    }
    expect(decodeRecord(new Uint8Array(LIMITS.maxRecordBytes + 1), ctx()).ok).toBe(false)
    expect(decodeSwarmMessage(new Uint8Array(LIMITS.maxSwarmMessageBytes + 1)).ok).toBe(false)
    expect(decodeHeartbeat(new Uint8Array(LIMITS.maxHeartbeatBytes + 1), Date.now()).ok).toBe(false)
  })

  it('keeps heartbeats small', () => {
    const hb = encodeHeartbeat({ instance: 2n ** 63n, seq: BigInt(Date.now()) * 1000n, timestampMs: Date.now(), state: 'loading', recordSeq: BigInt(Date.now()) * 1000n, loadingDone: 40, tokensSinceLast: 123456 })
    expect(hb.length).toBeLessThanOrEqual(48)
    expect(decodeHeartbeat(hb, Date.now()).ok).toBe(true)
  })
})

describe('decoders never throw on hostile bytes (property)', () => {
  const now = Date.now()
  it('every decoder returns a typed rejection or a value for random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
      decodeRecord(bytes, { now, model: MODEL })
      decodeHeartbeat(bytes, now)
      const m = decodeSwarmMessage(bytes)
      if (m.ok && m.value.obituary != null) decodeObituary(m.value.obituary, now)
      if (m.ok && m.value.record != null) await verifySignedRecord(m.value.record, { now, model: MODEL })
      await verifySignedRecord({ record: bytes, signature: bytes.subarray(0, 64) }, { now, model: MODEL })
    }), { numRuns: 3000 })
  })

  it('mutated valid records are rejected or decode within bounds', async () => {
    const a = await keyAndId()
    const good = SignedRecord.encode(await signed(a.key, record(a.id)))
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (muts) => {
      const bytes = Uint8Array.from(good)
      for (const [i, v] of muts) bytes[i] = v
      let s
      try { s = SignedRecord.decode(bytes) } catch { return }
      const res = await verifySignedRecord(s, { now, model: MODEL, totalBlocks: 24 })
      if (res.ok) {
        // A mutation that still verifies must be a no-op on the signed bytes.
        expect(res.value.peerId).toBe(a.id)
        if (res.value.span != null) expect(res.value.span.end).toBeLessThanOrEqual(24)
      }
    }), { numRuns: 2000 })
  })

  it('snapshot messages with random bytes fail cleanly', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      for (const dec of [() => SnapshotRequest.decode(bytes), () => SnapshotResponse.decode(bytes, { limits: { entries: 100 } })]) {
        try { dec() } catch (err) { expect(err).toBeInstanceOf(Error) }
      }
    }), { numRuns: 3000 })
  })
})
