// The light client: one bootstrap address → a complete route; DHT provider records; live re-routing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startSwarm, waitFor, type Swarm } from '../../sim/swarm.ts'
import { discoverRoute, joinAsClient, NotCoveredError } from '../../src/client/discover.ts'
import { startNode } from '../../src/node/daemon.ts'
import { silentLogger } from '../../src/node/logger.ts'

let clientCounter = 0
const memoryListen = (): string[] => [`/memory/test-client-${process.pid}-${clientCounter++}`]

describe('client discovery on a 30-node swarm', () => {
  let swarm: Swarm
  const N = 30
  beforeAll(async () => {
    // Spans of 2 blocks, every block served twice.
    swarm = await startSwarm({ nodes: N, totalBlocks: N, dht: false, spec: i => ({ span: `${i % (N - 1)}:${(i % (N - 1)) + 2}`, throughput: 50 + i }) })
    expect(await waitFor(() => swarm.nodes.every(n => n.membership.view.live().length === N - 1), 20_000)).not.toBeNull()
  })
  afterAll(async () => { await swarm?.stop() })

  it('gets a complete route from one bootstrap address, fast', async () => {
    const r = await discoverRoute({ model: swarm.opts.model, bootstrap: [swarm.addrOf(swarm.nodes[17])], transport: 'memory', listen: memoryListen() })
    expect(r.totalBlocks).toBe(N)
    expect(r.members).toBe(N)
    expect(r.route.hops[0].span.start).toBe(0)
    expect(r.route.hops[r.route.hops.length - 1].span.end).toBe(N)
    for (let i = 1; i < r.route.hops.length; i++) expect(r.route.hops[i].span.start).toBe(r.route.hops[i - 1].span.end)
    expect(r.routeMs).toBeLessThan(5000)
  })

  it('re-routes at once when a server on its route is killed', async () => {
    const { node, router } = await joinAsClient({ model: swarm.opts.model, bootstrap: [swarm.addrOf(swarm.nodes[0])], transport: 'memory', listen: memoryListen() })
    try {
      const first = await router.route()
      expect(first.result.ok).toBe(true)
      if (!first.result.ok) return
      const victimId = first.result.route.hops[1].peerId
      const victim = swarm.nodes.find(n => n.peerId === victimId)!
      const rerouted = new Promise<{ ok: boolean, peers: string[], at: number }>(resolve => {
        router.once('rerouted', ({ next }) => { resolve({ ok: next.ok, peers: next.ok ? next.route.hops.map(h => h.peerId) : [], at: Date.now() }) })
      })
      const t0 = Date.now()
      await victim.membership.stop({ graceful: false })
      await victim.libp2p.stop()
      const r = await Promise.race([rerouted, new Promise<null>(resolve => setTimeout(() => { resolve(null) }, 8000))])
      expect(r).not.toBeNull()
      expect(r!.ok).toBe(true)
      expect(r!.peers).not.toContain(victimId)
      // Within the failure-detection time (connection loss + ping), well under the heartbeat timeout.
      expect(r!.at - t0).toBeLessThan(3000)
    } finally {
      router.close()
      await node.stop()
    }
  })
})

describe('client discovery edge cases', () => {
  it('finds a swarm through DHT provider records when its bootstrap peer follows another model', async () => {
    const servers = await startSwarm({ nodes: 4, model: 'model-a', totalBlocks: 8, spec: i => ({ span: `${i * 2}:${i * 2 + 2}` }) })
    const other = await startNode({
      config: { ...servers.baseConfig(99, { span: '0:4' }, [servers.addrOf(servers.nodes[0])]), swarm: { ...servers.baseConfig(99, { span: '0:4' }, []).swarm, model: 'model-b', totalBlocks: 4 } },
      log: silentLogger(),
      privateKey: await generateKeyPair('Ed25519'),
      ephemeral: true
    })
    try {
      // Wait until model-a's servers have put their provider records into the DHT.
      await waitFor(() => (other.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size >= 2, 10_000)
      await new Promise(resolve => setTimeout(resolve, 1500))
      const r = await discoverRoute({ model: 'model-a', bootstrap: [servers.addrOf(other as unknown as Swarm['nodes'][number])], transport: 'memory', listen: memoryListen(), timeoutMs: 15_000 })
      expect(r.members).toBe(4)
      expect(r.route.hops.map(h => h.span)).toEqual([{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 6 }, { start: 6, end: 8 }])
    } finally {
      await other.stop()
      await servers.stop()
    }
  })

  it('names the missing blocks when the model is not fully served', async () => {
    const servers = await startSwarm({ nodes: 2, model: 'model-gap', totalBlocks: 48, dht: false, spec: i => ({ span: i === 0 ? '0:40' : '44:48' }) })
    try {
      await waitFor(() => servers.nodes.every(n => n.membership.view.live().length === 1), 10_000)
      const err = await discoverRoute({ model: 'model-gap', bootstrap: [servers.addrOf(servers.nodes[0])], transport: 'memory', listen: memoryListen(), timeoutMs: 1500 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(NotCoveredError)
      expect((err as Error).message).toContain('blocks 40–43 have no online server')
      expect((err as NotCoveredError).exitCode).not.toBe(0)
    } finally {
      await servers.stop()
    }
  })
})
