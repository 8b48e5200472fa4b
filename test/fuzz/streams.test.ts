// Property-based fuzzing of the stream handlers through real libp2p streams: a raw libp2p node sends
// random bytes and length-prefixed frames (honest, absurd and truncated lengths, random protobuf
// bodies) on every petalmesh stream protocol of a running node. The node must not crash or leak an
// unhandled rejection, and must still answer snapshots and keep its view afterwards.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { startSwarm, waitFor, type Swarm } from '../../sim/swarm.ts'
import { createPetalmeshLibp2p, type PetalmeshLibp2p } from '../../src/node/libp2p.ts'
import { SNAPSHOT_PROTOCOL, fetchSnapshotOverStream } from '../../src/protocols/snapshot/snapshot.ts'
import { COVERAGE_PROTOCOL } from '../../src/protocols/negotiation/claim-stream.ts'
import { SnapshotRequest, ClaimPush } from '../../src/protocols/membership/wire.ts'
import { STREAM_RUNS } from './runs.ts'

function varint (n: number): number[] {
  const out: number[] = []
  let v = n
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128) }
  out.push(v)
  return out
}

/** A payload: raw bytes, a frame with the right length, a frame claiming far more, or a real message's frame cut short. */
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  fc.uint8Array({ maxLength: 2000 }).map(b => new Uint8Array([...varint(b.length), ...b])),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.uint8Array({ maxLength: 64 })).map(([len, b]) => new Uint8Array([...varint(len), ...b])),
  fc.tuple(fc.string({ maxLength: 300 }), fc.boolean(), fc.nat(50)).map(([model, inc, cut]) => {
    const body = SnapshotRequest.encode({ protocol: 1, model, includeDeparted: inc })
    const frame = new Uint8Array([...varint(body.length), ...body])
    return frame.subarray(0, Math.max(0, frame.length - (cut % (frame.length + 1))))
  }),
  fc.uint8Array({ maxLength: 300 }).map(b => { const body = ClaimPush.encode({ protocol: 1, claim: { record: b, signature: b.subarray(0, 64) } }); return new Uint8Array([...varint(body.length), ...body]) })
)

let swarm: Swarm
let attacker: PetalmeshLibp2p
const unhandled: unknown[] = []
const onUnhandled = (err: unknown): void => { unhandled.push(err) }

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  // Limits high enough that the handlers, not the rate limiter or the guard, see every case.
  swarm = await startSwarm({ nodes: 2, transport: 'memory', model: 'fuzz', totalBlocks: 8, heartbeatMs: 1000, dht: false, spec: (i) => ({ span: i === 0 ? '0:8' : '0:4' }), trust: { rateLimits: { streamsPerPeer: 1e6 }, guard: { disconnectPenalty: 1e9, disconnectScore: -1e15 } } })
  attacker = await createPetalmeshLibp2p({ privateKey: await generateKeyPair('Ed25519'), transport: 'memory', listen: [`/memory/fuzz-attacker-${process.pid}`], dhtMode: 'off' })
  await attacker.start()
  await attacker.dial(swarm.nodes[0].libp2p.getMultiaddrs()[0])
  await waitFor(() => swarm.nodes.every(n => n.membership.view.live().length === 1), 20_000)
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  await attacker?.stop()
  await swarm?.stop()
})

describe(`fuzz: stream handlers over real libp2p streams (${STREAM_RUNS} cases per protocol)`, () => {
  for (const protocol of [SNAPSHOT_PROTOCOL, COVERAGE_PROTOCOL]) {
    it(`${protocol}: random input never crashes the node`, async () => {
      const target = peerIdFromString(swarm.nodes[0].peerId)
      await fc.assert(fc.asyncProperty(payload, fc.boolean(), async (data, closeWrite) => {
        const stream = await attacker.dialProtocol(target, protocol, { signal: AbortSignal.timeout(2000) })
        try {
          stream.send(data)
          // Half the time we close our side (EOF), half the time we abort mid-message.
          if (closeWrite) await stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => {})
          else stream.abort(new Error('fuzz: gone'))
        } catch {
          stream.abort(new Error('fuzz: gone'))
        }
      }), { numRuns: STREAM_RUNS })
      expect(swarm.nodes[0].libp2p.status).toBe('started')
      // Still serving: an honest peer gets a snapshot, and the views did not change.
      const honest = swarm.nodes[1]
      const s = await honest.libp2p.dialProtocol(target, SNAPSHOT_PROTOCOL, { signal: AbortSignal.timeout(3000) })
      const res = await fetchSnapshotOverStream(s, { protocol: 1, model: 'fuzz', includeDeparted: true })
      expect(res.entries.length).toBeGreaterThanOrEqual(2)
      expect(swarm.nodes[0].membership.view.all().map(m => m.peerId)).toEqual([honest.peerId])
      expect(unhandled).toEqual([])
    }, 120_000)
  }

  it('the handlers refused what they could not use and counted it against the sender', () => {
    const refused = swarm.nodes[0].defense.refused.get(attacker.peerId.toString()) ?? 0
    expect(refused).toBeGreaterThan(STREAM_RUNS / 2)
  })
})
