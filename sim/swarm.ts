// An in-process swarm of real petalmesh nodes (real libp2p, real protocols), for tests and the
// simulator. Nodes run over the in-memory transport (big N) or loopback TCP.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { validateConfig, type PetalmeshConfig } from '../src/node/config.ts'
import { startNode, type PetalmeshNode } from '../src/node/daemon.ts'
import { silentLogger, createLogger, type Logger } from '../src/node/logger.ts'
import type { Libp2pNodeOptions } from '../src/node/libp2p.ts'
import type { SelfState } from '../src/node/membership.ts'
import type { ConnectionGater } from '@libp2p/interface'
import { createSimulatedBackend } from '../src/petals-bridge/index.ts'
import { seededRng } from '../src/protocols/routing/index.ts'
import { deliverFromEventLoop } from './net/fair-memory.ts'

let swarmCounter = 0

export interface SwarmNodeSpec {
  span?: string
  standby?: boolean
  capacity?: number
  throughput?: number
  role?: 'server' | 'client'
}

export interface SwarmOptions {
  nodes: number
  transport?: 'memory' | 'tcp'
  model?: string
  totalBlocks?: number
  heartbeatMs?: number
  suspectAfterMs?: number
  offlineAfterMs?: number
  recordRefreshMs?: number
  /** Swarm-wide heartbeat rate target (see swarm.maxHeartbeatRate). */
  maxHeartbeatRate?: number
  /** Per-node settings by index. */
  spec?: (i: number) => SwarmNodeSpec
  /** Random extra dials per node beyond the first node, so gossipsub gets a real mesh. */
  extraDials?: number
  log?: boolean
  /** Passed to every node's libp2p. */
  libp2p?: Partial<Libp2pNodeOptions>
  self?: (i: number) => Partial<SelfState>
  /** Seed for the choice of extra dials. */
  seed?: number
  targetPeers?: number
  /**
   * network.redialMs of every node (default: the daemon's default, 3 s). A node's second dial round
   * (to the swarm members it has learnt of) comes this long after it started; in a one-process
   * cold start that round is every node's Noise handshakes at once, and at 1 s it fell on the
   * negotiation round and starved it (30 nodes: replication 2 at 3.15 s instead of 2.26 s median).
   */
  redialMs?: number
  /** A connection gater per node (given the node's own peer id, once known), e.g. to cut partitions. */
  gater?: (selfId: () => string) => ConnectionGater
  /** Which planner the nodes run (the Petals baseline only for comparisons). */
  planner?: 'petalmesh' | 'petals'
  petalsBaseline?: { startJitterMs?: number, rebalanceMs?: number }
  /** Replication target every node plans for. */
  replication?: number
  /** swarm.settleMs of every node (default: the config default). */
  settleMs?: number
  /** swarm.cooldownMs of every node (default: the config default, 1 h). */
  cooldownMs?: number
  /** Start all nodes but the first at the same moment. */
  parallel?: boolean
  /** Simulated Petals load time per block (ms). */
  loadMsPerBlock?: number
  /** Run the DHT on every node (default) or none: without it, nodes connect only as the dialer
   *  and snapshots lead them, which keeps big in-process swarms within a 2-core budget. */
  dht?: boolean
  /** Overrides of the `trust` config section (rate limits, guard, probe) for every node. */
  trust?: Record<string, unknown>
  /** Memory transport: deliver each buffer from the event loop, not a microtask (see net/fair-memory.ts). */
  fairMemory?: boolean
}

export interface Swarm {
  nodes: PetalmeshNode[]
  /** Starts one more node bootstrapping from the first live node. */
  add: (spec?: SwarmNodeSpec) => Promise<PetalmeshNode>
  stop: () => Promise<void>
  addrOf: (node: PetalmeshNode) => string
  /** When the most recently launched node was launched (its start called, not finished): what
   *  "after the last start" is measured from. */
  lastLaunchAt: () => number
  /** The order in which a node was launched (0 = first; its spec was spec(i)); nodes[] is in start-up completion order. */
  launchIndex: (n: PetalmeshNode) => number
  baseConfig: (i: number, spec: SwarmNodeSpec, bootstrap: string[]) => PetalmeshConfig
  opts: Required<Pick<SwarmOptions, 'transport' | 'model' | 'totalBlocks' | 'heartbeatMs'>>
}

/** Deterministic PRNG so a seed reproduces the same topology (the router's seeded generator). */
export function rng (seed: number): () => number {
  return seededRng(seed)
}

export async function startSwarm (o: SwarmOptions): Promise<Swarm> {
  const transport = o.transport ?? 'memory'
  const model = o.model ?? 'sim-model'
  const totalBlocks = o.totalBlocks ?? 24
  const heartbeatMs = o.heartbeatMs ?? 2000
  const id = `s${process.pid}-${swarmCounter++}`
  const random = rng(o.seed ?? 1)
  const nodes: PetalmeshNode[] = []
  let counter = 0
  const startedAt = new Map<number, number>()
  const launchIndexOf = new Map<PetalmeshNode, number>()

  const baseConfig = (i: number, spec: SwarmNodeSpec, bootstrap: string[]): PetalmeshConfig => validateConfig({
    dataDir: `/tmp/petalmesh-sim-${id}-${i}`,
    listen: [transport === 'memory' ? `/memory/${id}-${i}` : '/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    network: {
      transport,
      targetPeers: o.targetPeers ?? Math.min(8, o.nodes),
      ...(o.redialMs != null ? { redialMs: o.redialMs } : {}),
      maxConnections: 1000,
      inboundConnectionsPerSecond: 10_000,
      maxIncomingPending: 1000,
      // Many nodes in one process on loopback: NAT traversal would only add timers and protocol chatter.
      natTraversal: false,
      ...(o.dht === false ? { dhtMode: 'off' } : {}),
    },
    swarm: {
      model,
      totalBlocks,
      role: spec.role ?? 'server',
      ...(spec.span != null ? { span: spec.span } : {}),
      capacity: spec.capacity ?? 0,
      standby: spec.standby ?? false,
      throughput: spec.throughput ?? 100,
      heartbeatMs,
      replication: o.replication ?? 1,
      ...(o.settleMs != null ? { settleMs: o.settleMs } : {}),
      ...(o.cooldownMs != null ? { cooldownMs: o.cooldownMs } : {}),
      planner: o.planner ?? 'petalmesh',
      suspectAfterMs: o.suspectAfterMs ?? Math.round(heartbeatMs * 2.5),
      offlineAfterMs: o.offlineAfterMs ?? heartbeatMs * 5,
      recordRefreshMs: o.recordRefreshMs ?? 30_000,
      ...(o.maxHeartbeatRate != null ? { maxHeartbeatRate: o.maxHeartbeatRate } : {})
    },
    api: { enabled: false },
    petals: { backend: 'simulated' },
    ...(o.trust != null ? { trust: o.trust } : {})
  })

  const addrOf = (n: PetalmeshNode): string => {
    const a = n.libp2p.getMultiaddrs()[0]
    if (a == null) throw new Error(`node ${n.peerId} has no address`)
    return a.toString()
  }

  const add = async (spec: SwarmNodeSpec = {}): Promise<PetalmeshNode> => {
    const i = counter++
    startedAt.set(i, Date.now())
    const live = nodes.filter(n => n.libp2p.status === 'started')
    const boot: string[] = []
    if (live.length > 0) {
      boot.push(addrOf(live[0]))
      // A few random peers besides the hub: gossipsub needs D connections per node, not a star.
      for (let k = 0; k < (o.extraDials ?? 3) && live.length > 1; k++) {
        const pick = live[1 + Math.floor(random() * (live.length - 1))]
        const a = addrOf(pick)
        if (!boot.includes(a)) boot.push(a)
      }
    }
    const log: Logger = o.log === true ? createLogger({ level: 'info', format: 'json', base: { node: i } }) : silentLogger()
    let selfId = ''
    const node = await startNode({
      config: baseConfig(i, spec, boot),
      log,
      privateKey: await generateKeyPair('Ed25519'),
      ephemeral: true,
      libp2p: o.gater != null ? { ...o.libp2p, connectionGater: o.gater(() => selfId) } : o.libp2p,
      petalsBaseline: { ...o.petalsBaseline, seed: o.seed ?? 1 },
      backend: spec.role === 'client' ? undefined : createSimulatedBackend({ loadMsPerBlock: o.loadMsPerBlock ?? 5, startMs: 5 }),
      self: o.self?.(i)
    })
    selfId = node.peerId
    if (o.fairMemory === true && transport === 'memory') {
      for (const c of node.libp2p.getConnections()) deliverFromEventLoop(c)
      node.libp2p.addEventListener('connection:open', (evt) => { deliverFromEventLoop(evt.detail) })
    }
    launchIndexOf.set(node, i)
    nodes.push(node)
    return node
  }

  if (o.parallel === true && o.nodes > 1) {
    // The first node, then everyone else at the same moment (a cold start), all bootstrapping from it.
    await add(o.spec?.(0) ?? {})
    await Promise.all(Array.from({ length: o.nodes - 1 }, async (_, j) => await add(o.spec?.(j + 1) ?? {})))
  } else {
    for (let i = 0; i < o.nodes; i++) {
      await add(o.spec?.(i) ?? {})
    }
  }

  return {
    nodes,
    add,
    addrOf,
    lastLaunchAt: () => Math.max(...startedAt.values()),
    launchIndex: (n) => launchIndexOf.get(n) ?? -1,
    baseConfig,
    opts: { transport, model, totalBlocks, heartbeatMs },
    stop: async () => { await Promise.all(nodes.map(async n => { await n.stop({ graceful: false }).catch(() => {}) })) }
  }
}

/** Polls `cond` every `everyMs` until it holds or `timeoutMs` passes; returns the elapsed ms or null. */
export async function waitFor (cond: () => boolean, timeoutMs: number, everyMs = 20): Promise<number | null> {
  const start = Date.now()
  while (Date.now() - start < timeoutMs) {
    if (cond()) return Date.now() - start
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  return cond() ? Date.now() - start : null
}
