// 20 real libp2p nodes in one process (memory transport): views, delivery, failure detection, snapshots.
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { startSwarm, waitFor, type Swarm } from '../../sim/swarm.ts'
import { startNode } from '../../src/node/daemon.ts'
import { silentLogger } from '../../src/node/logger.ts'
import { generateKeyPair } from '@libp2p/crypto/keys'

const N = 20

describe('20-node swarm', () => {
  let swarm: Swarm
  beforeAll(async () => {
    swarm = await startSwarm({ nodes: N, totalBlocks: N, dht: false, spec: i => ({ span: `${i}:${i + 1}` }) })
  })
  afterAll(async () => { await swarm?.stop() })

  it('every view lists all members with the right spans within a few heartbeats', async () => {
    const ms = await waitFor(() => swarm.nodes.every(n => n.membership.view.live().length === N - 1 && n.membership.coverage().readyForInference), 10_000)
    expect(ms).not.toBeNull()
    for (const n of swarm.nodes) {
      for (const [j, other] of swarm.nodes.entries()) {
        if (other === n) continue
        expect(n.membership.view.get(other.peerId)?.record.span).toEqual({ start: j, end: j + 1 })
      }
      expect(n.membership.coverage().readyForInference).toBe(true)
    }
  })

  it('delivers every heartbeat published to every node', async () => {
    const published = new Map<string, Set<bigint>>()
    const received = new Map<string, Map<string, Set<bigint>>>()
    const offs: Array<() => void> = []
    for (const n of swarm.nodes) {
      const mine = new Set<bigint>()
      published.set(n.peerId, mine)
      const onPub = (seq: bigint): void => { mine.add(seq) }
      n.membership.on('heartbeat-published', onPub)
      const got = new Map<string, Set<bigint>>()
      received.set(n.peerId, got)
      const onHb = (author: string, seq: bigint): void => {
        let s = got.get(author)
        if (s == null) { s = new Set(); got.set(author, s) }
        s.add(seq)
      }
      n.membership.on('heartbeat', onHb)
      offs.push(() => { n.membership.off('heartbeat-published', onPub); n.membership.off('heartbeat', onHb) })
    }
    // Publish window, then a grace period for the last heartbeats to arrive.
    await new Promise(resolve => setTimeout(resolve, 2.5 * swarm.opts.heartbeatMs))
    const frozen = new Map([...published].map(([k, v]) => [k, new Set(v)]))
    await new Promise(resolve => setTimeout(resolve, 1500))
    offs.forEach(off => { off() })
    let expected = 0
    let delivered = 0
    for (const [author, seqs] of frozen) {
      for (const [receiver, got] of received) {
        if (receiver === author) continue
        for (const seq of seqs) {
          expected++
          if (got.get(author)?.has(seq) === true) delivered++
        }
      }
    }
    expect(expected).toBeGreaterThanOrEqual(N * (N - 1) * 2)
    expect(delivered).toBe(expected)
  })

  it('a client that knows one bootstrap peer gets the complete view in one snapshot round trip', async () => {
    const client = await startNode({
      config: swarm.baseConfig(900, { role: 'client' }, [swarm.addrOf(swarm.nodes[3])]),
      log: silentLogger(),
      privateKey: await generateKeyPair('Ed25519'),
      ephemeral: true
    })
    try {
      const res = await client.membership.fetchSnapshot(swarm.nodes[3].peerId)
      const fresh = await startNode({
        config: swarm.baseConfig(901, { role: 'client' }, []),
        log: silentLogger(),
        privateKey: await generateKeyPair('Ed25519'),
        ephemeral: true
      })
      try {
        // Applied to a node that knows nothing yet: one response is the whole swarm.
        const { applied, rejected } = await fresh.membership.applySnapshot(res, swarm.nodes[3].peerId)
        expect(rejected).toBe(0)
        expect(applied).toBe(N)
        expect(fresh.membership.view.live().length).toBe(N)
        expect(fresh.membership.coverage().readyForInference).toBe(true)
      } finally {
        await fresh.stop()
      }
    } finally {
      await client.stop()
    }
  })

  it('marks a node stopped abruptly offline everywhere in under 3 s', async () => {
    const victim = swarm.nodes[5]
    const t0 = Date.now()
    await victim.libp2p.stop()
    const ms = await waitFor(() => swarm.nodes.filter(n => n !== victim && n.libp2p.status === 'started')
      .every(n => n.membership.view.get(victim.peerId)?.liveness === 'offline'), 6000)
    expect(ms).not.toBeNull()
    expect(Date.now() - t0).toBeLessThan(3000)
  })

  it('drops a gracefully stopping node everywhere in under 1 s', async () => {
    const leaver = swarm.nodes[7]
    const t0 = Date.now()
    const stopping = leaver.stop()
    const ms = await waitFor(() => swarm.nodes.filter(n => n !== leaver && n.libp2p.status === 'started')
      .every(n => { const l = n.membership.view.get(leaver.peerId)?.liveness; return l === 'left' || l === 'offline' }), 3000)
    await stopping
    expect(ms).not.toBeNull()
    expect(Date.now() - t0).toBeLessThan(1000)
    const left = swarm.nodes.filter(n => n.libp2p.status === 'started' && n.membership.view.get(leaver.peerId)?.liveness === 'left').length
    // Most peers get the leaving record itself; the rest saw the connection drop.
    expect(left).toBeGreaterThan(0)
  })
})
