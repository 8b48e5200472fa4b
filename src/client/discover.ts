// The light client: joins the mesh without serving, finds the model's swarm through the DHT,
// takes one snapshot, and returns a route plus the `initial_peers` a Petals client needs.
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Logger } from 'pino'
import { validateConfig, readDefaultBootstrap, type PetalmeshConfig } from '../node/config.ts'
import { startNode, type PetalmeshNode } from '../node/daemon.ts'
import { findSwarmProviders } from '../node/membership.ts'
import { silentLogger } from '../node/logger.ts'
import { Router } from '../node/router.ts'
import { PetalmeshError } from '../util/errors.ts'
import type { Route, RouteMode, MissingBlocksError } from '../protocols/routing/index.ts'
import type { Member } from '../node/swarm-view.ts'

export interface DiscoverOptions {
  /** Swarm id: the Petals dht_prefix. */
  model: string
  /** Bootstrap multiaddrs; default: bootstrap.json. */
  bootstrap?: string[]
  mode?: RouteMode
  /** Known block count; otherwise learned from the swarm. */
  totalBlocks?: number
  timeoutMs?: number
  transport?: 'tcp' | 'memory'
  /** Listen addresses (a client needs none on TCP; the memory transport needs one). */
  listen?: string[]
  log?: Logger
}

export interface DiscoveredRoute {
  model: string
  totalBlocks: number
  route: Route
  initialPeers: string[]
  /** Time from start to route, ms. */
  routeMs: number
  members: number
}

export class NotCoveredError extends PetalmeshError {
  readonly missing: MissingBlocksError
  constructor (model: string, missing: MissingBlocksError) {
    super(`model ${model} is not fully served: ${missing.message}`, { exitCode: 4 })
    this.name = 'NotCoveredError'
    this.missing = missing
  }
}

function clientConfig (o: DiscoverOptions): PetalmeshConfig {
  return validateConfig({
    dataDir: '/nonexistent-petalmesh-client',
    listen: o.listen ?? [],
    bootstrap: o.bootstrap ?? readDefaultBootstrap(),
    network: { transport: o.transport ?? 'tcp', redialMs: 500, targetPeers: 4 },
    swarm: { model: o.model, totalBlocks: o.totalBlocks ?? 0, role: 'client' },
    api: { enabled: false }
  })
}

/** Starts a light client node and waits until it holds a snapshot of the swarm. */
export async function joinAsClient (o: DiscoverOptions): Promise<{ node: PetalmeshNode, router: Router }> {
  const config = clientConfig(o)
  if (config.bootstrap.length === 0) {
    throw new PetalmeshError('no bootstrap peers: pass --bootstrap /ip4/HOST/tcp/PORT/p2p/PEERID (any node of the swarm), or list some in bootstrap.json', { exitCode: 2 })
  }
  const node = await startNode({ config, log: o.log ?? silentLogger(), privateKey: await generateKeyPair('Ed25519'), ephemeral: true })
  const router = new Router({ libp2p: node.libp2p, membership: node.membership, mode: o.mode, excluded: () => node.defense.prober?.unreachable() ?? new Set() })
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 10_000)
    if (node.libp2p.getPeers().length === 0) {
      throw new PetalmeshError(`none of the bootstrap peers answered (${config.bootstrap.join(', ')}). Check the addresses and that a node is running there.`, { exitCode: 3 })
    }
    // The bootstrap peer may follow another model: the DHT names members of ours.
    // (Snapshots also start by themselves when a peer's identify shows the protocol: the view is what counts.)
    const known = (): boolean => node.membership.view.live().length > 0
    for (const p of node.libp2p.getPeers()) {
      await node.membership.syncFrom(p.toString())
      if (known()) break
    }
    if (!known()) {
      const providers = await findSwarmProviders(node.libp2p, o.model, { timeoutMs: Math.max(1000, deadline - Date.now()) })
      for (const p of providers) {
        await node.membership.syncFrom(p)
        if (known()) break
      }
      // A provider we just dialled may still be answering the snapshot its identify triggered.
      while (!known() && providers.length > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    }
    if (!known()) throw new PetalmeshError(`found no member of swarm ${JSON.stringify(o.model)} through the bootstrap peers or the DHT. Is the model id (the Petals dht_prefix) right?`, { exitCode: 4 })
    return { node, router }
  } catch (err) {
    router.close()
    await node.stop()
    throw err
  }
}

/** One-shot discovery: join, route, leave. */
export async function discoverRoute (o: DiscoverOptions): Promise<DiscoveredRoute> {
  const t0 = Date.now()
  const { node, router } = await joinAsClient(o)
  try {
    const deadline = t0 + (o.timeoutMs ?? 10_000)
    // Servers whose Petals port does not answer must not make it into the route: wait for their verdicts.
    await node.defense.prober?.settled(Math.max(0, deadline - Date.now()))
    let answer = await router.route({ mode: o.mode })
    // A snapshot can miss servers that are still joining: give gossip a moment before giving up.
    while (!answer.result.ok && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 250))
      answer = await router.route({ mode: o.mode, measure: false })
    }
    if (!answer.result.ok) throw new NotCoveredError(o.model, answer.result.error)
    return {
      model: o.model,
      totalBlocks: node.membership.totalBlocks,
      route: answer.result.route,
      initialPeers: answer.initialPeers,
      routeMs: Date.now() - t0,
      members: node.membership.view.live().length
    }
  } finally {
    router.close()
    await node.stop()
  }
}

/** The swarm table as a client sees it. */
export async function listPeers (o: DiscoverOptions): Promise<{ model: string, totalBlocks: number, members: Member[] }> {
  const { node, router } = await joinAsClient(o)
  try {
    return { model: o.model, totalBlocks: node.membership.totalBlocks, members: node.membership.view.all() }
  } finally {
    router.close()
    await node.stop()
  }
}
