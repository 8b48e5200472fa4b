// A hostile peer publishes malformed and lying messages; honest nodes reject and count each,
// keep their views unchanged and keep running, and the liar's gossipsub score drops.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { startSwarm, waitFor, type Swarm } from '../../sim/swarm.ts'
import { createPetalmeshLibp2p, type PetalmeshLibp2p, type GossipSubRuntime } from '../../src/node/libp2p.ts'
import { encodeSwarmMessage, encodeHeartbeat, signRecord, LIMITS } from '../../src/protocols/membership/record.ts'
import { swarmTopics } from '../../src/protocols/membership/topics.ts'
import type { PrivateKey } from '@libp2p/interface'
import { record } from './helpers.ts'

const MODEL = 'sim-model'

describe('hostile input', () => {
  let swarm: Swarm
  let bad: PetalmeshLibp2p
  let badKey: PrivateKey
  const topics = swarmTopics(MODEL)
  // Who is in each view, alive or not, serving what (not record seqs: honest nodes republish on their own).
  const honestViews = (): string => JSON.stringify(swarm.nodes.map(n => n.membership.view.all().map(m => [m.peerId, m.liveness, m.record.span])))

  beforeAll(async () => {
    swarm = await startSwarm({ nodes: 3, model: MODEL, totalBlocks: 24, spec: i => ({ span: `${i * 8}:${i * 8 + 8}` }) })
    await waitFor(() => swarm.nodes.every(n => n.membership.view.live().length === 2), 10_000)
    badKey = await generateKeyPair('Ed25519')
    bad = await createPetalmeshLibp2p({ privateKey: badKey, transport: 'memory', listen: [`/memory/hostile-${process.pid}`], dhtMode: 'server' })
    await bad.start()
    bad.services.pubsub.subscribe(topics.records)
    bad.services.pubsub.subscribe(topics.heartbeats)
    for (const n of swarm.nodes) await bad.dial(multiaddr(swarm.addrOf(n)))
    await waitFor(() => swarm.nodes.every(n => n.libp2p.services.pubsub.getSubscribers(topics.records).some(p => p.equals(bad.peerId))), 10_000)
  })
  afterAll(async () => { await bad?.stop(); await swarm?.stop() })

  const rejectedFromBad = (): number[] => swarm.nodes.map(n => n.membership.stats.rejectedByPeer.get(bad.peerId.toString()) ?? 0)
  async function expectRejected (publish: () => Promise<void>): Promise<void> {
    const before = rejectedFromBad()
    const viewBefore = honestViews()
    await publish()
    const ok = await waitFor(() => rejectedFromBad().every((c, i) => c > before[i]), 5000)
    expect(ok).not.toBeNull()
    expect(honestViews()).toBe(viewBefore)
    expect(swarm.nodes.every(n => n.libp2p.status === 'started')).toBe(true)
  }

  it('rejects random bytes on both topics', async () => {
    await expectRejected(async () => { await bad.services.pubsub.publish(topics.records, crypto.getRandomValues(new Uint8Array(64))) })
    await expectRejected(async () => { await bad.services.pubsub.publish(topics.heartbeats, Uint8Array.from([0xff, 0xff, 0xff, 0x01])) })
  })

  it('rejects a record claiming another node\'s identity (spoof)', async () => {
    const victim = swarm.nodes[0]
    // A genuine record of the victim, relayed by the bad peer as its own message.
    const genuine = victim.membership.view.get(swarm.nodes[1].peerId)!.signed
    await expectRejected(async () => { await bad.services.pubsub.publish(topics.records, encodeSwarmMessage({ record: genuine })) })
    // A record naming the victim as owner but signed with the bad peer's key.
    const forged = await signRecord(record(victim.peerId, { model: MODEL, span: { start: 0, end: 24 }, capacity: 24 }), badKey)
    await expectRejected(async () => { await bad.services.pubsub.publish(topics.records, encodeSwarmMessage({ record: forged })) })
  })

  it('rejects a span past the model\'s end, and an oversized or truncated message', async () => {
    const past = await signRecord(record(bad.peerId.toString(), { model: MODEL, span: { start: 20, end: 30 }, capacity: 10 }), badKey)
    await expectRejected(async () => { await bad.services.pubsub.publish(topics.records, encodeSwarmMessage({ record: past })) })
    await expectRejected(async () => { await bad.services.pubsub.publish(topics.records, new Uint8Array(LIMITS.maxSwarmMessageBytes + 100)) })
    const good = encodeSwarmMessage({ record: await signRecord(record(bad.peerId.toString(), { model: MODEL }), badKey) })
    await expectRejected(async () => { await bad.services.pubsub.publish(topics.records, good.subarray(0, good.length - 20)) })
  })

  it('ignores a replayed old sequence number without changing the view', async () => {
    const r1 = await signRecord(record(bad.peerId.toString(), { model: MODEL, seq: BigInt(Date.now()) * 1000n, span: { start: 0, end: 4 }, capacity: 4 }), badKey)
    await bad.services.pubsub.publish(topics.records, encodeSwarmMessage({ record: r1 }))
    await waitFor(() => swarm.nodes.every(n => n.membership.view.get(bad.peerId.toString()) != null), 5000)
    const r2 = await signRecord(record(bad.peerId.toString(), { model: MODEL, seq: BigInt(Date.now()) * 1000n + 5n, span: { start: 4, end: 8 }, capacity: 4 }), badKey)
    await bad.services.pubsub.publish(topics.records, encodeSwarmMessage({ record: r2 }))
    await waitFor(() => swarm.nodes.every(n => n.membership.view.get(bad.peerId.toString())?.record.span?.start === 4), 5000)
    const ignoredBefore = swarm.nodes.map(n => n.membership.stats.ignored)
    // Replay the older record (a new gossip message carrying the old signed record).
    await bad.services.pubsub.publish(topics.records, encodeSwarmMessage({ record: r1 }))
    const hb = encodeHeartbeat({ instance: 7n, seq: 1n, timestampMs: Date.now(), state: 'online', recordSeq: 1n, loadingDone: 0, tokensSinceLast: 0 })
    await bad.services.pubsub.publish(topics.heartbeats, hb)
    await bad.services.pubsub.publish(topics.heartbeats, hb)
    expect(await waitFor(() => swarm.nodes.every((n, i) => n.membership.stats.ignored >= ignoredBefore[i] + 2), 5000)).not.toBeNull()
    for (const n of swarm.nodes) expect(n.membership.view.get(bad.peerId.toString())?.record.span).toEqual({ start: 4, end: 8 })
  })

  it('lowers the bad peer\'s gossipsub score', async () => {
    // Scores are cached for up to one decay interval (1 s).
    const score = (n: Swarm['nodes'][number]): number => (n.libp2p.services.pubsub as GossipSubRuntime).getScore(bad.peerId.toString())
    expect(await waitFor(() => swarm.nodes.every(n => score(n) < 0), 3000, 100)).not.toBeNull()
  })
})
