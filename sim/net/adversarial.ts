// Hostile-peer scenarios: one bad peer among honest petalmesh nodes (real libp2p, in this process).
// The bad peer is a real libp2p node built with createPetalmeshLibp2p and driven by a script:
//   flood   - thousands of valid-looking heartbeats (and some records) per second
//   spoof   - records for other peer ids (forged signatures, honest records replayed, claim pushes)
//   liar    - a correctly signed record claiming every block ONLINE, Petals port where nothing listens
//   garbage - random bytes on both gossip topics and on every stream protocol the honest nodes speak
// While it runs, every honest node's view is sampled and compared with the truth.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString, peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import { startSwarm, waitFor, type Swarm } from '../swarm.ts'
import { staticSpan } from './run.ts'
import { createPetalmeshLibp2p, type PetalmeshLibp2p } from '../../src/node/libp2p.ts'
import type { PetalmeshNode } from '../../src/node/daemon.ts'
import { routeServers } from '../../src/node/router.ts'
import { findRoute } from '../../src/protocols/routing/index.ts'
import { swarmTopics } from '../../src/protocols/membership/topics.ts'
import { encodeHeartbeat, encodeSwarmMessage, signRecord, type NodeRecordData } from '../../src/protocols/membership/record.ts'
import type { SignedRecord } from '../../src/protocols/membership/membership.ts'
import { SNAPSHOT_PROTOCOL, fetchSnapshotOverStream } from '../../src/protocols/snapshot/snapshot.ts'
import { COVERAGE_PROTOCOL, pushClaimOverStream } from '../../src/protocols/negotiation/claim-stream.ts'
import { PROTOCOL_MAJOR } from '../../src/protocols/version.ts'
import { discoverRoute } from '../../src/client/discover.ts'
import { emptySimResult, type SimResult } from '../types.ts'

export type AdversaryScenario = 'flood' | 'spoof' | 'liar' | 'garbage'
export const ADVERSARY_SCENARIOS: readonly AdversaryScenario[] = ['flood', 'spoof', 'liar', 'garbage']

export interface AdversarialOptions {
  scenario: AdversaryScenario
  /** All nodes, the bad one included (at least 3). */
  nodes: number
  blocks: number
  seed: number
  transport: 'memory' | 'tcp'
  heartbeatMs?: number
  /** How long the bad peer keeps trying (default 8 s). */
  attackMs?: number
}

export type AdversarialResult = SimResult & {
  /** The honest nodes stayed up and their views stayed correct. */
  converged: boolean
  /** Every honest node's view matched the truth at every sample. */
  honestViewsCorrect: boolean
  badMessagesTried: number
  badMessagesRejected: number
  /** From the attack's start until every honest node had disconnected the bad peer; null if some never did. */
  disconnectMs: number | null
  /** No route computed by an honest node (while sampling) or by a fresh client (at the end) used the bad peer. */
  routesAvoidBadPeer: boolean
}

const SAMPLE_MS = 250
// Settings every node runs with here: short probe timeouts so the liar is caught within the run.
const TRUST = { guard: { checkMs: 250 }, probe: { timeoutMs: 500, intervalMs: 5000, failures: 2 } }
/** After first seeing the liar serve, how long a node may take to flag it (2 probes + retry + scan). */
const PROBE_GRACE_MS = 2 * 1000 + 2 * 500 + 1500

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function closedLoopbackPort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise(resolve => s.close(resolve))
  return port
}

interface Attack {
  tried: number
  /** Runs until `until`; counts every message or stream that reached at least one honest node. */
  run: (until: number) => Promise<void>
}

interface Ctx {
  bad: PetalmeshLibp2p
  badKey: Awaited<ReturnType<typeof generateKeyPair>>
  honest: PetalmeshNode[]
  model: string
  blocks: number
  heartbeatMs: number
  topics: ReturnType<typeof swarmTopics>
  /** Publish calls, whether or not anyone was still listening. */
  attempted: number
}

function baseRecord (ctx: Ctx, over: Partial<NodeRecordData>): NodeRecordData {
  return {
    protocol: PROTOCOL_MAJOR,
    peerId: ctx.bad.peerId.toString(),
    instance: 1n,
    seq: BigInt(Date.now()) * 1000n,
    timestampMs: Date.now(),
    model: ctx.model,
    totalBlocks: ctx.blocks,
    span: null,
    state: 'standby',
    loading: null,
    capacity: ctx.blocks,
    throughput: 100,
    hardware: { type: 'cpu', device: '', vramGb: 0 },
    publicName: 'adversary',
    softwareVersion: '0.1.0',
    petals: null,
    tokensSinceLast: 0,
    tokensTotal: 0,
    claimMs: Date.now(),
    reachability: 'unknown',
    replication: 1,
    prev: null,
    addrs: ctx.bad.getMultiaddrs().map(String).slice(0, 4),
    ...over
  }
}

/** Publishes; returns how many honest peers it was sent to (each copy is one message tried). */
async function publish (ctx: Ctx, topic: string, data: Uint8Array): Promise<number> {
  try {
    ctx.attempted++
    const res = await ctx.bad.services.pubsub.publish(topic, data)
    return res.recipients.length
  } catch {
    return 0
  }
}

function floodAttack (ctx: Ctx): Attack {
  const a: Attack = {
    tried: 0,
    run: async (until) => {
      let seq = BigInt(Date.now()) * 1000n
      const recordSeq = seq
      a.tried += await publish(ctx, ctx.topics.records, encodeSwarmMessage({ record: await signRecord(baseRecord(ctx, { seq: recordSeq }), ctx.badKey) }))
      // Thousands of messages a second: batches of 200 every 50 ms, one in fifty a full signed record.
      while (Date.now() < until) {
        const batch: Array<Promise<number>> = []
        for (let i = 0; i < 200; i++) {
          seq++
          if (i % 50 === 0) {
            batch.push(signRecord(baseRecord(ctx, { seq }), ctx.badKey).then(async r => await publish(ctx, ctx.topics.records, encodeSwarmMessage({ record: r }))))
          } else {
            batch.push(publish(ctx, ctx.topics.heartbeats, encodeHeartbeat({ instance: 1n, seq, timestampMs: Date.now(), state: 'standby', recordSeq, loadingDone: 0, tokensSinceLast: 0 })))
          }
        }
        for (const n of await Promise.all(batch)) a.tried += n
        await sleep(50)
      }
    }
  }
  return a
}

function spoofAttack (ctx: Ctx): Attack {
  const a: Attack = {
    tried: 0,
    run: async (until) => {
      // Honest records to replay, taken from an honest node's snapshot.
      let stolen: SignedRecord[] = []
      try {
        const stream = await ctx.bad.dialProtocol(peerIdFromString(ctx.honest[0].peerId), SNAPSHOT_PROTOCOL, { signal: AbortSignal.timeout(3000) })
        const res = await fetchSnapshotOverStream(stream, { protocol: PROTOCOL_MAJOR, model: ctx.model, includeDeparted: false })
        stolen = res.entries.flatMap(e => e.record == null ? [] : [e.record])
      } catch {}
      let round = 0
      while (Date.now() < until) {
        const victim = ctx.honest[round % ctx.honest.length]
        const kind = round % 4
        round++
        if (kind === 0) {
          // A record in a victim's name claiming every block, signed with our key.
          const forged = await signRecord(baseRecord(ctx, { peerId: victim.peerId, state: 'online', span: { start: 0, end: ctx.blocks }, throughput: 1e6 }), ctx.badKey)
          a.tried += await publish(ctx, ctx.topics.records, encodeSwarmMessage({ record: forged }))
        } else if (kind === 1) {
          // A member that does not exist.
          const ghostId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
          const forged = await signRecord(baseRecord(ctx, { peerId: ghostId, state: 'online', span: { start: 0, end: ctx.blocks } }), ctx.badKey)
          a.tried += await publish(ctx, ctx.topics.records, encodeSwarmMessage({ record: forged }))
        } else if (kind === 2 && stolen.length > 0) {
          // An honest node's genuine record, replayed under our name.
          a.tried += await publish(ctx, ctx.topics.records, encodeSwarmMessage({ record: stolen[round % stolen.length] }))
        } else if (stolen.length > 0) {
          // The same, pushed straight to a peer as if it were our claim.
          try {
            const stream = await ctx.bad.dialProtocol(peerIdFromString(victim.peerId), COVERAGE_PROTOCOL, { signal: AbortSignal.timeout(1000) })
            a.tried++
            await pushClaimOverStream(stream, { protocol: PROTOCOL_MAJOR, claim: stolen[round % stolen.length] })
          } catch {}
        }
        await sleep(10)
      }
    }
  }
  return a
}

function liarAttack (ctx: Ctx, petalsPort: number): Attack {
  const a: Attack = {
    tried: 0,
    run: async (until) => {
      const seq0 = BigInt(Date.now()) * 1000n
      let seq = seq0
      const claim = (): NodeRecordData => baseRecord(ctx, {
        seq: seq0,
        state: 'online',
        span: { start: 0, end: ctx.blocks },
        throughput: 1e6,
        petals: { peerId: 'QmZijSrKQ7mjGY2Bxcbw941FnbwAytxzK8h8anhNtheRkN', multiaddrs: [`/ip4/127.0.0.1/tcp/${petalsPort}`], torchDtype: 'float16', quantType: 'none', adapters: [], state: 'online' }
      })
      a.tried += await publish(ctx, ctx.topics.records, encodeSwarmMessage({ record: await signRecord(claim(), ctx.badKey) }))
      // Behaves like a member in every other way: heartbeats on time.
      while (Date.now() < until) {
        await sleep(ctx.heartbeatMs)
        seq++
        a.tried += await publish(ctx, ctx.topics.heartbeats, encodeHeartbeat({ instance: 1n, seq, timestampMs: Date.now(), state: 'online', recordSeq: seq0, loadingDone: 0, tokensSinceLast: 0 }))
      }
    }
  }
  return a
}

/** Random bytes, sometimes shaped as a varint length prefix (honest or absurd) followed by junk. */
function junk (): Uint8Array {
  const body = randomBytes(1 + Math.floor(Math.random() * 600))
  const r = Math.random()
  if (r < 0.3) return body
  const len = r < 0.6 ? body.length : 0x7fffffff
  const prefix: number[] = []
  let v = len
  while (v > 0x7f) { prefix.push((v & 0x7f) | 0x80); v >>>= 7 }
  prefix.push(v)
  return new Uint8Array([...prefix, ...body])
}

function garbageAttack (ctx: Ctx): Attack {
  const a: Attack = {
    tried: 0,
    run: async (until) => {
      const protocols = new Map<string, string[]>()
      for (const h of ctx.honest) {
        try {
          const peer = await ctx.bad.peerStore.get(peerIdFromString(h.peerId))
          protocols.set(h.peerId, peer.protocols)
        } catch { protocols.set(h.peerId, [SNAPSHOT_PROTOCOL, COVERAGE_PROTOCOL]) }
      }
      let round = 0
      while (Date.now() < until) {
        round++
        a.tried += await publish(ctx, ctx.topics.records, randomBytes(1 + Math.floor(Math.random() * 4000)))
        a.tried += await publish(ctx, ctx.topics.heartbeats, randomBytes(1 + Math.floor(Math.random() * 200)))
        const h = ctx.honest[round % ctx.honest.length]
        for (const proto of protocols.get(h.peerId) ?? []) {
          let stream: Stream
          try {
            stream = await ctx.bad.dialProtocol(peerIdFromString(h.peerId), proto, { signal: AbortSignal.timeout(500) })
          } catch { continue }
          a.tried++
          try {
            stream.send(junk())
            await stream.close({ signal: AbortSignal.timeout(500) })
          } catch {
            stream.abort(new Error('adversary done'))
          }
        }
        await sleep(20)
      }
    }
  }
  return a
}

interface Sampler {
  violations: string[]
  routeViolations: string[]
  routesComputed: number
  /** When each honest node first saw the bad peer serving blocks. */
  sawServing: Map<string, number>
  disconnectedAt: number | null
  sample: () => void
}

function sampler (ctx: Ctx, attackStart: () => number): Sampler {
  const honestIds = new Set(ctx.honest.map(n => n.peerId))
  const badId = ctx.bad.peerId.toString()
  const s: Sampler = {
    violations: [],
    routeViolations: [],
    routesComputed: 0,
    sawServing: new Map(),
    disconnectedAt: null,
    sample: () => {
      const now = Date.now()
      for (const n of ctx.honest) {
        const flagged = n.defense.prober?.unreachable() ?? new Set<string>()
        for (const h of ctx.honest) {
          if (h === n) continue
          const m = n.membership.view.get(h.peerId)
          const span = h.membership.selfState().span
          const ok = m != null && (m.liveness === 'alive' || m.liveness === 'suspect') && m.state === 'online' &&
            m.record.span?.start === span?.start && m.record.span?.end === span?.end
          if (!ok) s.violations.push(`${n.peerId.slice(-6)} sees honest ${h.peerId.slice(-6)} as ${m == null ? 'absent' : `${m.liveness}/${m.state}`}`)
        }
        for (const m of n.membership.view.all()) {
          if (!honestIds.has(m.peerId) && m.peerId !== badId) s.violations.push(`${n.peerId.slice(-6)} holds a member that does not exist: ${m.peerId.slice(-6)}`)
        }
        const b = n.membership.view.get(badId)
        const serving = b != null && (b.liveness === 'alive' || b.liveness === 'suspect') && b.state === 'online' && b.record.span != null
        if (serving) {
          if (!s.sawServing.has(n.peerId)) s.sawServing.set(n.peerId, now)
          if (!flagged.has(badId) && now - (s.sawServing.get(n.peerId) ?? now) > PROBE_GRACE_MS) s.violations.push(`${n.peerId.slice(-6)} still counts the bad peer as serving`)
        }
        const result = findRoute({ totalBlocks: n.membership.totalBlocks, servers: routeServers(n.membership, flagged), mode: 'min-latency', now })
        s.routesComputed++
        const graceOver = now - (s.sawServing.get(n.peerId) ?? now) > PROBE_GRACE_MS
        if (result.ok && graceOver && result.route.hops.some(h => h.peerId === badId)) s.routeViolations.push(`${n.peerId.slice(-6)} routes through the bad peer`)
      }
      if (s.disconnectedAt == null && attackStart() > 0 && ctx.honest.every(n => !n.libp2p.getPeers().some(p => p.toString() === badId))) s.disconnectedAt = now
    }
  }
  return s
}

export async function runAdversarial (o: AdversarialOptions): Promise<AdversarialResult> {
  const t0 = Date.now()
  if (o.nodes < 3) throw new RangeError('an adversarial scenario needs at least 3 nodes (2 honest, 1 bad)')
  const heartbeatMs = o.heartbeatMs ?? 2000
  const honestCount = o.nodes - 1
  const model = `adv-${o.scenario}`
  const swarm: Swarm = await startSwarm({
    nodes: honestCount,
    transport: o.transport,
    model,
    totalBlocks: o.blocks,
    heartbeatMs,
    seed: o.seed,
    dht: false,
    trust: TRUST,
    spec: (i) => ({ span: staticSpan(i, honestCount, o.blocks) })
  })
  let bad: PetalmeshLibp2p | null = null
  try {
    const honest = swarm.nodes
    const converged = await waitFor(() => honest.every(n => n.membership.selfState().state === 'online' &&
      honest.every(h => h === n || (n.membership.view.get(h.peerId)?.state === 'online' && n.membership.view.get(h.peerId)?.liveness === 'alive'))), 30_000, 100)
    if (converged == null) throw new Error('the honest swarm did not converge within 30 s')

    const badKey = await generateKeyPair('Ed25519')
    bad = await createPetalmeshLibp2p({
      privateKey: badKey,
      transport: o.transport,
      listen: [o.transport === 'memory' ? `/memory/adversary-${process.pid}-${Date.now()}` : '/ip4/127.0.0.1/tcp/0'],
      dhtMode: 'off'
    })
    await bad.start()
    const topics = swarmTopics(model)
    bad.services.pubsub.subscribe(topics.records)
    bad.services.pubsub.subscribe(topics.heartbeats)
    const ctx: Ctx = { bad, badKey, honest, model, blocks: o.blocks, heartbeatMs, topics, attempted: 0 }
    await Promise.all(honest.map(async n => await bad!.dial(n.libp2p.getMultiaddrs()[0]).catch(() => {})))
    await waitFor(() => bad!.services.pubsub.getSubscribers(topics.heartbeats).length >= honest.length && bad!.services.pubsub.getSubscribers(topics.records).length >= honest.length, 5000, 50)

    const attack = o.scenario === 'flood'
      ? floodAttack(ctx)
      : o.scenario === 'spoof'
        ? spoofAttack(ctx)
        : o.scenario === 'liar' ? liarAttack(ctx, await closedLoopbackPort()) : garbageAttack(ctx)
    let attackStart = 0
    const s = sampler(ctx, () => attackStart)
    const timer = setInterval(() => { s.sample() }, SAMPLE_MS)
    attackStart = Date.now()
    const attackMs = o.attackMs ?? 8000
    try {
      await attack.run(attackStart + attackMs)
      // Give the defence time to finish (probes, the guard's next check), still sampling.
      await waitFor(() => s.disconnectedAt != null, Math.max(0, attackStart + attackMs + 3000 - Date.now()), 100)
      s.sample()
    } finally {
      clearInterval(timer)
    }
    const badId = bad.peerId.toString()
    // A fresh client joins through an honest node and asks for a route.
    let clientRouteAvoids = true
    let clientRouteOk = false
    try {
      const route = await discoverRoute({ model, bootstrap: [honest[0].libp2p.getMultiaddrs()[0].toString()], transport: o.transport, listen: o.transport === 'memory' ? [`/memory/adv-client-${process.pid}-${Date.now()}`] : [], timeoutMs: 8000 })
      clientRouteOk = true
      clientRouteAvoids = !route.route.hops.some(h => h.peerId === badId)
    } catch {}
    // Every honest node still answers: a ping from its neighbour (a second try, for a busy event loop).
    const answers = async (from: PetalmeshNode, to: PetalmeshNode): Promise<boolean> => {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await from.libp2p.services.ping.ping(peerIdFromString(to.peerId), { signal: AbortSignal.timeout(3000) })
          return true
        } catch {}
      }
      return false
    }
    const up = await Promise.all(honest.map(async (n, i) => n.libp2p.status === 'started' && await answers(honest[(i + 1) % honest.length], n)))
    const honestUp = up.every(Boolean)
    const rejected = honest.reduce((sum, n) => sum + (n.defense.refused.get(badId) ?? 0), 0)
    const disconnectedBy = honest.filter(n => n.defense.guard.disconnects.some(e => e.peer === badId)).length
    const flaggedBy = honest.filter(n => (n.defense.prober?.stats.flagged ?? 0) > 0).length
    const result: AdversarialResult = {
      ...emptySimResult({ scenario: o.scenario, nodes: o.nodes, blocks: o.blocks, seed: o.seed, transport: o.transport, heartbeatMs }),
      converged: honestUp && s.violations.length === 0,
      wallMs: Date.now() - t0,
      honestViewsCorrect: s.violations.length === 0,
      badMessagesTried: attack.tried,
      badMessagesRejected: rejected,
      disconnectMs: s.disconnectedAt == null ? null : s.disconnectedAt - attackStart,
      routesAvoidBadPeer: s.routeViolations.length === 0 && clientRouteAvoids,
      extra: {
        honestNodes: honestCount,
        publishAttempts: ctx.attempted,
        publishAttemptsPerSec: Math.round(ctx.attempted / (attackMs / 1000)),
        honestUp,
        honestPeersDisconnected: honest.reduce((sum, n) => sum + n.defense.guard.disconnects.filter(e => e.peer !== badId).length, 0),
        honestMessagesRefused: honest.reduce((sum, n) => sum + [...n.defense.refused].filter(([p]) => p !== badId).reduce((a, [, c]) => a + c, 0), 0),
        honestNotAnswering: up.filter(u => !u).length,
        disconnectedBy,
        stillConnected: honest.filter(n => n.libp2p.getPeers().some(p => p.toString() === badId)).map(n => `score ${(n.libp2p.services.pubsub as unknown as { getScore: (p: string) => number }).getScore(badId).toFixed(0)} points ${n.defense.penalties.points(badId, Date.now()).toFixed(1)} refused ${n.defense.refused.get(badId) ?? 0}`).join('; '),
        flaggedUnreachableBy: flaggedBy,
        routesSampled: s.routesComputed,
        clientRouteOk,
        firstViolation: s.violations[0] ?? s.routeViolations[0] ?? null,
        violations: s.violations.length + s.routeViolations.length
      }
    }
    return result
  } finally {
    try { await bad?.stop() } catch {}
    await swarm.stop()
  }
}
