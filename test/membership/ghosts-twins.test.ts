// No ghosts: a crashed node stays offline whatever others relay. No twins: one identity, one process.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { startSwarm, waitFor, type Swarm } from '../../sim/swarm.ts'
import { startNode } from '../../src/node/daemon.ts'
import { TwinError } from '../../src/node/membership.ts'
import { silentLogger } from '../../src/node/logger.ts'
import { stateToCode } from '../../src/protocols/membership/record.ts'

describe('ghosts and twins', () => {
  let swarm: Swarm
  const keys: PrivateKey[] = []
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) keys.push(await generateKeyPair('Ed25519'))
    swarm = await startSwarm({ nodes: 5, totalBlocks: 10, spec: i => ({ span: `${i * 2}:${i * 2 + 2}` }) })
    await waitFor(() => swarm.nodes.every(n => n.membership.view.live().length === 4), 10_000)
  })
  afterAll(async () => { await swarm?.stop() })

  it('a crashed node\'s last record, handed out in a stale snapshot, revives it nowhere', async () => {
    const victim = swarm.nodes[4]
    const lastSigned = swarm.nodes[0].membership.view.get(victim.peerId)!.signed
    await victim.libp2p.stop()
    const others = swarm.nodes.slice(0, 4)
    expect(await waitFor(() => others.every(n => n.membership.view.get(victim.peerId)?.liveness === 'offline'), 5000)).not.toBeNull()
    // A snapshot that (wrongly, or from a slow peer) still says the victim is online, heard just now.
    const stale = { protocol: 1, model: swarm.opts.model, error: '', entries: [{ record: lastSigned, liveness: stateToCode('online'), heardAgoMs: 0n, heartbeatSeq: 0n }] }
    for (const n of others) await n.membership.applySnapshot(stale, swarm.nodes[1].peerId)
    // Real snapshots between the survivors, too.
    for (const n of others) await n.membership.syncFrom(others[(others.indexOf(n) + 1) % others.length].peerId)
    await new Promise(resolve => setTimeout(resolve, 1500))
    for (const n of others) {
      expect(n.membership.view.get(victim.peerId)?.liveness).toBe('offline')
      expect(n.membership.coverage().blocks[8].servers).toEqual([])
    }
  })

  it('refuses a second process with an identity that is live in the swarm', async () => {
    // Start a fresh node with a known key, then a twin with the same key.
    const k = keys[0]
    const first = await startNode({ config: swarm.baseConfig(500, { span: '0:2' }, [swarm.addrOf(swarm.nodes[0])]), log: silentLogger(), privateKey: k, ephemeral: true })
    try {
      expect(await waitFor(() => swarm.nodes[0].membership.view.get(first.peerId)?.liveness === 'alive', 5000)).not.toBeNull()
      const twin = startNode({ config: swarm.baseConfig(501, { span: '2:4' }, [swarm.addrOf(swarm.nodes[0])]), log: silentLogger(), privateKey: k, ephemeral: true })
      await expect(twin).rejects.toBeInstanceOf(TwinError)
      await expect(twin).rejects.toThrow(/already live in the swarm/)
      // The original keeps running and stays in every view.
      expect(first.libp2p.status).toBe('started')
      expect(swarm.nodes[0].membership.view.get(first.peerId)?.liveness).toBe('alive')
    } finally {
      await first.stop()
    }
  })

  it('lets a node restart with its identity right after a crash (not a twin)', async () => {
    const k = keys[1]
    const first = await startNode({ config: swarm.baseConfig(600, { span: '0:2' }, [swarm.addrOf(swarm.nodes[0])]), log: silentLogger(), privateKey: k, ephemeral: true })
    expect(await waitFor(() => swarm.nodes[0].membership.view.get(first.peerId)?.liveness === 'alive', 5000)).not.toBeNull()
    await first.libp2p.stop() // crash: no leaving record
    await first.membership.stop({ graceful: false })
    const again = await startNode({ config: swarm.baseConfig(601, { span: '0:2' }, [swarm.addrOf(swarm.nodes[0])]), log: silentLogger(), privateKey: k, ephemeral: true })
    try {
      expect(await waitFor(() => swarm.nodes[0].membership.view.get(again.peerId)?.instance === again.membership.instance &&
        swarm.nodes[0].membership.view.get(again.peerId)?.liveness === 'alive', 8000)).not.toBeNull()
    } finally {
      await again.stop()
    }
  })
})
