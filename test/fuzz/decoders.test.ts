// Property-based fuzzing of every wire decoder and validator: random and mutated bytes never throw
// out of our decoders (they return a typed rejection), and the generated protobuf codecs either
// decode or throw an Error (which every caller catches), never anything else.
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  decodeRecord, decodeHeartbeat, decodeSwarmMessage, decodeObituary, verifySignedRecord, signRecord, encodeSwarmMessage, encodeHeartbeat,
  type NodeRecordData
} from '../../src/protocols/membership/record.ts'
import { ClaimPush, ClaimReply, SnapshotRequest, SnapshotResponse, SignedRecord, NodeRecord, Heartbeat, SwarmMessage, Obituary } from '../../src/protocols/membership/wire.ts'
import { validateConfig } from '../../src/node/config.ts'
import { ConfigError } from '../../src/util/errors.ts'
import { parseAdmissionLists } from '../../src/node/trust/policy.ts'
import { swarmKeyProblem } from '../../src/node/trust/swarm-key.ts'
import { FUZZ_RUNS } from './runs.ts'

const NOW = 1_750_000_000_000
const ctx = { now: NOW, model: 'fuzz-model', totalBlocks: 24 }
const bytes = fc.uint8Array({ maxLength: 5000 })

/** A decoder result must be a well-formed Result, never a throw. */
function isResult (r: unknown): boolean {
  const x = r as { ok?: unknown, reason?: unknown }
  return x.ok === true || (x.ok === false && typeof x.reason === 'string')
}

function throwsOnlyErrors (fn: () => unknown): boolean {
  try { fn(); return true } catch (err) { return err instanceof Error }
}

async function validRecord (): Promise<{ signed: SignedRecord, record: NodeRecordData }> {
  const key = await generateKeyPair('Ed25519')
  const record: NodeRecordData = {
    protocol: 1, peerId: peerIdFromPrivateKey(key).toString(), instance: 5n, seq: 10n, timestampMs: NOW, model: 'fuzz-model', totalBlocks: 24,
    span: { start: 0, end: 8 }, state: 'online', loading: null, capacity: 8, throughput: 10, hardware: { type: 'cpu', device: 'x', vramGb: 1 },
    publicName: 'n', softwareVersion: '0.1.0', petals: { peerId: 'Qm', multiaddrs: ['/ip4/127.0.0.1/tcp/1'], torchDtype: '', quantType: '', adapters: [], state: 'online' },
    tokensSinceLast: 0, tokensTotal: 0, claimMs: NOW, reachability: 'direct', replication: 1, prev: null, addrs: ['/ip4/127.0.0.1/tcp/2']
  }
  return { signed: await signRecord(record, key), record }
}

/** Mutations of a valid encoding: flipped bytes, truncations, insertions. */
function mutated (base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), fc.uint8Array({ maxLength: 16 })).map(([flips, cut, extra]) => {
    const out = new Uint8Array([...base.subarray(0, base.length - (cut % Math.max(1, Math.floor(base.length / 4)))), ...extra])
    for (const [i, v] of flips) if (out.length > 0) out[i % out.length] = v
    return out
  })
}

describe(`fuzz: decoders (${FUZZ_RUNS} cases each; PETALMESH_FUZZ_RUNS for more)`, () => {
  it('decodeSwarmMessage, decodeHeartbeat, decodeRecord: random bytes give a typed result', () => {
    fc.assert(fc.property(bytes, (b) => {
      expect(isResult(decodeSwarmMessage(b))).toBe(true)
      expect(isResult(decodeHeartbeat(b, NOW))).toBe(true)
      expect(isResult(decodeRecord(b, ctx))).toBe(true)
    }), { numRuns: FUZZ_RUNS })
  })

  it('mutated valid records, swarm messages and heartbeats give a typed result', async () => {
    const { signed } = await validRecord()
    const msg = encodeSwarmMessage({ record: signed })
    const hb = encodeHeartbeat({ instance: 1n, seq: 2n, timestampMs: NOW, state: 'online', recordSeq: 1n, loadingDone: 0, tokensSinceLast: 0 })
    fc.assert(fc.property(mutated(signed.record), mutated(msg), mutated(hb), (r, m, h) => {
      expect(isResult(decodeRecord(r, ctx))).toBe(true)
      expect(isResult(decodeSwarmMessage(m))).toBe(true)
      expect(isResult(decodeHeartbeat(h, NOW))).toBe(true)
    }), { numRuns: FUZZ_RUNS })
  })

  it('verifySignedRecord never throws and never accepts a changed record', async () => {
    const { signed } = await validRecord()
    expect((await verifySignedRecord(signed, ctx)).ok).toBe(true)
    await fc.assert(fc.asyncProperty(mutated(signed.record), mutated(signed.signature), async (record, signature) => {
      const r = await verifySignedRecord({ record: new Uint8Array(record), signature: new Uint8Array(signature) }, ctx)
      expect(isResult(r)).toBe(true)
      const same = record.length === signed.record.length && record.every((x, i) => x === signed.record[i]) &&
        signature.length === signed.signature.length && signature.every((x, i) => x === signed.signature[i])
      if (!same) expect(r.ok).toBe(false)
    }), { numRuns: Math.max(100, Math.floor(FUZZ_RUNS / 4)) })
    await fc.assert(fc.asyncProperty(bytes, fc.uint8Array({ maxLength: 200 }), async (record, signature) => {
      expect(isResult(await verifySignedRecord({ record: new Uint8Array(record), signature: new Uint8Array(signature) }, ctx))).toBe(true)
    }), { numRuns: Math.max(100, Math.floor(FUZZ_RUNS / 4)) })
  })

  it('decodeObituary: random subjects and numbers give a typed result', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n }), (subject, subjectSeq, timestampMs) => {
      expect(isResult(decodeObituary({ subject, subjectSeq, timestampMs }, NOW))).toBe(true)
    }), { numRuns: FUZZ_RUNS })
  })

  it('generated codecs (NodeRecord, SignedRecord, Heartbeat, Obituary, SwarmMessage, ClaimPush, ClaimReply, Snapshot*) decode or throw an Error', () => {
    const codecs = [NodeRecord, SignedRecord, Heartbeat, Obituary, SwarmMessage, ClaimPush, ClaimReply, SnapshotRequest, SnapshotResponse]
    fc.assert(fc.property(bytes, (b) => {
      for (const c of codecs) expect(throwsOnlyErrors(() => c.decode(b))).toBe(true)
    }), { numRuns: FUZZ_RUNS })
  })
})

describe(`fuzz: config and trust inputs (${FUZZ_RUNS} cases each)`, () => {
  it('hostile config values are refused with a ConfigError, never another crash', () => {
    const keys = ['listen', 'bootstrap', 'network', 'swarm', 'trust', 'api', 'log', 'petals', 'dataDir', '__proto__', 'constructor']
    const value = fc.oneof(fc.anything(), fc.string(), fc.double(), fc.array(fc.string()), fc.dictionary(fc.constantFrom('maxConnections', 'span', 'rateLimits', 'guard', 'probe', 'allow', 'port', 'heartbeatMs', 'model', 'x'), fc.anything()))
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), value), (raw) => {
      try {
        validateConfig({ bootstrap: [], ...raw })
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
      }
    }), { numRuns: FUZZ_RUNS })
  })

  it('list files and swarm keys: any text gives lists, or a ConfigError; a key problem or null', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), fc.constantFrom('lists.json', 'lists.yaml'), (text, path) => {
      try {
        const l = parseAdmissionLists(text, path)
        expect(Array.isArray(l.allow) && Array.isArray(l.deny)).toBe(true)
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
      }
      const p = swarmKeyProblem(text)
      expect(p === null || typeof p === 'string').toBe(true)
    }), { numRuns: FUZZ_RUNS })
  })
})
