// Coverage negotiation on real nodes (in-process, memory transport): nodes started together choose
// spans among themselves, the swarm reaches full coverage and the replication target, commits no
// conflicting claims it has to take back, makes no moves while nothing changes, and refills a
// crashed node's blocks. Assertions are on outcomes measured against ground truth (what each node
// really serves); time bounds are generous because CI machines are slow and shared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSwarm, waitFor, type Swarm } from '../../sim/swarm.ts'
import { computeCoverage } from '../../src/node/swarm-view.ts'
import { effectiveReplication } from '../../src/protocols/coverage/index.ts'
import type { PetalmeshNode } from '../../src/node/daemon.ts'
import { Membership } from '../../src/node/membership.ts'

const L = 24
const R = 2
// Mixed capacities and throughputs with little slack over two full copies of the model, and one
// configured spare: a crash then leaves blocks below the target, and the spare must fill them.
const profile = [
  { capacity: 8, throughput: 100 }, { capacity: 8, throughput: 150 }, { capacity: 8, throughput: 80 },
  { capacity: 8, throughput: 120 }, { capacity: 8, throughput: 90 }, { capacity: 6, throughput: 200 },
  { capacity: 7, throughput: 60 }, { capacity: 8, throughput: 110, standby: true }
]
const N = profile.length
const rEff = effectiveReplication(profile.map(p => Math.min(p.capacity, L)), L, R)

function truth (nodes: PetalmeshNode[]): ReturnType<typeof computeCoverage> {
  return computeCoverage(nodes.filter(n => n.libp2p.status === 'started').map(n => {
    const s = n.membership.selfState()
    return { peerId: n.peerId, state: s.state, span: s.span, capacity: s.capacity, throughput: s.throughput }
  }), L)
}

const live = (nodes: PetalmeshNode[]): PetalmeshNode[] => nodes.filter(n => n.libp2p.status === 'started')
const settled = (nodes: PetalmeshNode[]): boolean => live(nodes).every(n => ['online', 'standby'].includes(n.membership.selfState().state))
const moves = (nodes: PetalmeshNode[]): number => nodes.reduce((a, n) => a + (n.negotiator?.stats.moves ?? 0), 0)

describe('coverage negotiation between live nodes', () => {
  let swarm: Swarm

  beforeAll(async () => {
    swarm = await startSwarm({ nodes: N, transport: 'memory', totalBlocks: L, heartbeatMs: 1000, seed: 5, dht: false, parallel: true, replication: R, loadMsPerBlock: 10, spec: i => profile[i] })
  })
  afterAll(async () => { await swarm?.stop() })

  it('nodes started together cover every block and reach the replication target', async () => {
    expect(rEff).toBe(2)
    const ok = await waitFor(() => settled(swarm.nodes) && truth(swarm.nodes).minReplication >= rEff, 45_000, 50)
    const c = truth(swarm.nodes)
    expect(ok, `coverage ${c.coveragePercent}%, min replication ${c.minReplication}`).not.toBeNull()
    expect(c.readyForInference).toBe(true)
    // Every span the nodes serve is inside the model and no longer than the node's capacity.
    for (const n of swarm.nodes) {
      const s = n.membership.selfState()
      if (s.span == null) continue
      expect(s.span.start).toBeGreaterThanOrEqual(0)
      expect(s.span.end).toBeLessThanOrEqual(L)
      expect(s.span.end - s.span.start).toBeLessThanOrEqual(s.capacity)
    }
    // Every node's view agrees with the truth about who serves what.
    for (const n of swarm.nodes) {
      for (const m of swarm.nodes) {
        if (m === n) continue
        const seen = n.membership.view.get(m.peerId)
        await waitFor(() => JSON.stringify(n.membership.view.get(m.peerId)?.record.span) === JSON.stringify(m.membership.selfState().span), 5000, 50)
        expect(seen, `node ${n.peerId} knows ${m.peerId}`).toBeDefined()
        expect(n.membership.view.get(m.peerId)?.record.span).toEqual(m.membership.selfState().span)
      }
    }
  })

  it('a steady swarm makes no moves', async () => {
    const before = moves(swarm.nodes)
    const spans = swarm.nodes.map(n => JSON.stringify(n.membership.selfState().span))
    await new Promise(resolve => setTimeout(resolve, 5000))
    expect(moves(swarm.nodes)).toBe(before)
    expect(swarm.nodes.map(n => JSON.stringify(n.membership.selfState().span))).toEqual(spans)
  })

  it("a crashed node's blocks are served again", async () => {
    // A server whose loss leaves some block below the replication target, so that only healing
    // (another node taking those blocks) can restore it.
    const before = truth(swarm.nodes)
    const thin = (n: PetalmeshNode): boolean => {
      const span = n.membership.selfState().span
      return span != null && before.blocks.slice(span.start, span.end).some(b => b.servers.length <= rEff)
    }
    const victim = swarm.nodes.slice(1).find(thin)
    expect(victim, 'some server holds a block at exactly the replication target').toBeDefined()
    if (victim == null) return
    await victim.membership.stop({ graceful: false })
    await victim.negotiator?.stop()
    await victim.libp2p.stop()
    const survivors = swarm.nodes.filter(n => n !== victim)
    const detected = await waitFor(() => survivors.every(n => n.membership.view.get(victim.peerId)?.liveness === 'offline'), 20_000, 50)
    expect(detected, 'every survivor declared the victim offline').not.toBeNull()
    const lens = survivors.map(n => Math.min(n.membership.selfState().capacity, L))
    const target = effectiveReplication(lens, L, R)
    expect(target).toBeGreaterThan(0)
    expect(truth(survivors).minReplication, 'the crash left a block below the target').toBeLessThan(target)
    const healed = await waitFor(() => settled(survivors) && truth(survivors).readyForInference && truth(survivors).minReplication >= target, 45_000, 50)
    const c = truth(survivors)
    expect(healed, `after the crash: coverage ${c.coveragePercent}%, min replication ${c.minReplication} (target ${target})`).not.toBeNull()
    // The spare was the one to fill the hole (standby nodes first).
    const spare = survivors.find(n => n.config.swarm.standby)
    expect(spare?.membership.selfState().state).toBe('online')
  })
})

describe('a claim whose verdict is final', () => {
  it('commits before its settle point, with its blocks already loading since the claim', async () => {
    // A long settle delay (3 s) so that an early commit and a commit at the settle point are far
    // apart; four nodes with room for each on its own blocks.
    const settleMs = 3000
    const s = await startSwarm({ nodes: 4, transport: 'memory', totalBlocks: 16, heartbeatMs: 1000, seed: 3, dht: false, parallel: true, replication: 1, loadMsPerBlock: 10, settleMs, spec: () => ({ capacity: 8, throughput: 100 }) })
    try {
      const claimedAt = new Map<string, number>()
      const committed: Array<{ afterClaimMs: number, backend: string }> = []
      for (const n of s.nodes) {
        n.membership.on('self-published', (r) => { if (r.state === 'joining' && r.span != null && !claimedAt.has(n.peerId)) claimedAt.set(n.peerId, Date.now()) })
        n.negotiator?.on('committed', () => { committed.push({ afterClaimMs: Date.now() - (claimedAt.get(n.peerId) ?? 0), backend: n.backend?.status().state ?? 'none' }) })
      }
      const ok = await waitFor(() => settled(s.nodes) && committed.length === 4, 30_000, 50)
      expect(ok, JSON.stringify(committed)).not.toBeNull()
      for (const c of committed) {
        expect(c.afterClaimMs, JSON.stringify(committed)).toBeLessThan(settleMs / 2)
        // The Petals server was started at the claim, not at the commit.
        expect(['starting', 'loading', 'online']).toContain(c.backend)
      }
      expect(s.nodes.reduce((a, n) => a + (n.negotiator?.stats.lostClaims ?? 0), 0)).toBe(0)
    } finally {
      await s.stop()
    }
  })
})

describe('a newcomer whose view does not hold its round yet', () => {
  it('claims only after a refresh from its bootstrap peer has covered the round', async () => {
    // Every view refresh takes 1.5 s longer than it should (a starved bootstrap node, say): the
    // newcomers' refreshes then end well after their round. Deciding at the round, on what gossip
    // had brought by then, is how whole cohorts used to claim on views of 2-12 of 30 members.
    const delayMs = 1500
    const refreshEnds = new Map<string, number>()
    const claimedAt = new Map<string, number>()
    const proto = Membership.prototype as unknown as { refreshView: Membership['refreshView'], updateSelf: Membership['updateSelf'] }
    const { refreshView, updateSelf } = proto
    proto.refreshView = async function (this: Membership, ...args: Parameters<Membership['refreshView']>) {
      await new Promise(resolve => setTimeout(resolve, delayMs))
      try {
        return await refreshView.apply(this, args)
      } finally {
        if (!refreshEnds.has(this.peerId)) refreshEnds.set(this.peerId, Date.now())
      }
    }
    proto.updateSelf = async function (this: Membership, ...args: Parameters<Membership['updateSelf']>) {
      const [patch] = args
      if (patch.state === 'joining' && patch.span != null && !claimedAt.has(this.peerId)) claimedAt.set(this.peerId, Date.now())
      return await updateSelf.apply(this, args)
    }
    let s: Swarm | null = null
    try {
      s = await startSwarm({ nodes: 4, transport: 'memory', totalBlocks: 16, heartbeatMs: 1000, seed: 4, dht: false, parallel: true, replication: 1, loadMsPerBlock: 10, spec: () => ({ capacity: 8, throughput: 100 }) })
      const nodes = s.nodes
      const ok = await waitFor(() => settled(nodes) && truth16(nodes).readyForInference, 30_000, 50)
      expect(ok).not.toBeNull()
      // Node 0 is everyone's bootstrap peer (nothing can cover its view: it does not wait); every
      // other node claims only after its first refresh has ended.
      for (const n of nodes.slice(1)) {
        const claimed = claimedAt.get(n.peerId)
        const refreshed = refreshEnds.get(n.peerId)
        expect(claimed, `${n.peerId} claimed`).toBeDefined()
        expect(refreshed, `${n.peerId} refreshed`).toBeDefined()
        expect(claimed!).toBeGreaterThanOrEqual(refreshed!)
      }
      expect(nodes.reduce((a, n) => a + (n.negotiator?.stats.lostClaims ?? 0), 0)).toBe(0)
    } finally {
      proto.refreshView = refreshView
      proto.updateSelf = updateSelf
      await s?.stop()
    }
  })
})

function truth16 (nodes: PetalmeshNode[]): ReturnType<typeof computeCoverage> {
  return computeCoverage(nodes.filter(n => n.libp2p.status === 'started').map(n => {
    const s = n.membership.selfState()
    return { peerId: n.peerId, state: s.state, span: s.span, capacity: s.capacity, throughput: s.throughput }
  }), 16)
}
