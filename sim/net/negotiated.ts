// Negotiated scenarios on real nodes: nodes choose their own spans (petalmesh's planner, or the
// Petals baseline on the same seed), and the runner measures against ground truth (what each node
// really serves), never against any node's view.
import { startSwarm, waitFor, rng, type Swarm } from '../swarm.ts'
import type { PetalmeshNode } from '../../src/node/daemon.ts'
import { computeCoverage } from '../../src/node/swarm-view.ts'
import { effectiveReplication, upperBound } from '../../src/protocols/coverage/index.ts'
import type { NetResult } from './run.ts'

export interface NegotiatedOptions {
  scenario: 'cold-start' | 'steady' | 'crash'
  nodes: number
  blocks: number
  seed: number
  transport: 'memory' | 'tcp'
  heartbeatMs: number
  replication: number
  planner: 'petalmesh' | 'petals'
  /** Steady window after convergence (steady scenario), ms. */
  steadyMs?: number
  timeoutMs?: number
}

/** Seeded heterogeneous capacities (2–10 blocks) and throughputs (50–200 tok/s). */
export function heterogeneous (seed: number, n: number): Array<{ capacity: number, throughput: number }> {
  const r = rng(seed * 7919 + 1)
  return Array.from({ length: n }, () => ({ capacity: 2 + Math.floor(r() * 9), throughput: 50 + Math.floor(r() * 151) }))
}

function truth (nodes: PetalmeshNode[], blocks: number): ReturnType<typeof computeCoverage> {
  return computeCoverage(nodes.filter(n => n.libp2p.status === 'started').map(n => {
    const s = n.membership.selfState()
    return { peerId: n.peerId, state: s.state, span: s.span, capacity: s.capacity, throughput: s.throughput }
  }), blocks)
}

const settled = (nodes: PetalmeshNode[]): boolean => nodes.filter(n => n.libp2p.status === 'started').every(n => ['online', 'standby'].includes(n.membership.selfState().state))
const moves = (nodes: PetalmeshNode[]): number => nodes.reduce((a, n) => a + (n.negotiator?.stats.moves ?? 0), 0)
const extraClaims = (nodes: PetalmeshNode[]): number => nodes.reduce((a, n) => a + Math.max(0, (n.negotiator?.stats.claims ?? 0) - 1), 0)

export async function runNegotiated (o: NegotiatedOptions): Promise<NetResult> {
  const t0 = Date.now()
  const rss0 = process.memoryUsage().rss
  const profile = heterogeneous(o.seed, o.nodes)
  const rEff = effectiveReplication(profile.map(p => Math.min(p.capacity, o.blocks)), o.blocks, o.replication)
  const bound = upperBound(profile, o.blocks)
  const timeoutMs = o.timeoutMs ?? 90_000
  const result: NetResult = {
    scenario: o.scenario, nodes: o.nodes, blocks: o.blocks, seed: o.seed, transport: o.transport, heartbeatMs: o.heartbeatMs,
    converged: false, fullCoverageMs: null, replicationMs: null, duplicateClaims: null, moves: null, movesPerNodePerHour: null,
    detectMs: null, healMs: null, availability: null, bottleneckRatio: null, routeMs: null, bytesPerNodePerSec: null, rssMbPerNode: null, wallMs: 0
  }
  let swarm: Swarm | null = null
  try {
    swarm = await startSwarm({
      nodes: o.nodes,
      transport: o.transport,
      totalBlocks: o.blocks,
      heartbeatMs: o.heartbeatMs,
      seed: o.seed,
      dht: false,
      parallel: true,
      replication: o.replication,
      planner: o.planner,
      loadMsPerBlock: 20,
      spec: i => profile[i]
    })
    const nodes = swarm.nodes
    const tStart = Date.now()
    const series: Array<[number, number]> = []
    const recorder = setInterval(() => { series.push([Date.now() - tStart, truth(nodes, o.blocks).coveragePercent]) }, 200)
    result.series = series
    const cov = await waitFor(() => truth(nodes, o.blocks).readyForInference, timeoutMs, 25)
    result.fullCoverageMs = cov == null ? null : Date.now() - tStart
    const rep = await waitFor(() => truth(nodes, o.blocks).minReplication >= rEff, timeoutMs, 25)
    result.replicationMs = rep == null ? null : Date.now() - tStart
    await waitFor(() => settled(nodes), timeoutMs, 25)
    result.converged = cov != null && rep != null
    result.duplicateClaims = extraClaims(nodes)
    result.rssMbPerNode = Math.round(((process.memoryUsage().rss - rss0) / o.nodes / 1e6) * 10) / 10
    const convergedAt = Date.now()
    const movesAtConvergence = moves(nodes)

    let samples = 0
    let available = 0
    let bottleneckSum = 0
    const sample = (): void => {
      const c = truth(nodes, o.blocks)
      samples++
      if (c.readyForInference) available++
      bottleneckSum += c.bottleneckThroughput
    }
    const sampler = setInterval(sample, 100)
    const sent0 = nodes.reduce((a, n) => a + n.wire.sent, 0)
    try {
      if (o.scenario === 'steady') {
        await new Promise(resolve => setTimeout(resolve, o.steadyMs ?? 20_000))
      } else if (o.scenario === 'crash') {
        const victim = nodes[1 + Math.floor(rng(o.seed + 3)() * (nodes.length - 1))]
        const tk = Date.now()
        await victim.membership.stop({ graceful: false })
        await victim.libp2p.stop()
        await victim.negotiator?.stop()
        const survivors = nodes.filter(n => n !== victim)
        const det = await waitFor(() => survivors.every(n => n.membership.view.get(victim.peerId)?.liveness === 'offline'), timeoutMs, 10)
        result.detectMs = det == null ? null : Date.now() - tk
        const healed = await waitFor(() => truth(nodes, o.blocks).readyForInference && settled(nodes), timeoutMs, 25)
        result.healMs = healed == null ? null : Date.now() - tk
      } else {
        await new Promise(resolve => setTimeout(resolve, 3 * o.heartbeatMs))
      }
      sample()
    } finally {
      clearInterval(sampler)
      clearInterval(recorder)
    }
    const windowS = (Date.now() - convergedAt) / 1000
    result.bytesPerNodePerSec = Math.round((nodes.reduce((a, n) => a + n.wire.sent, 0) - sent0) / o.nodes / windowS)
    result.availability = Math.round((available / Math.max(1, samples)) * 1000) / 1000
    result.bottleneckRatio = bound > 0 ? Math.round((bottleneckSum / Math.max(1, samples) / bound) * 1000) / 1000 : null
    result.moves = moves(nodes) - (o.scenario === 'cold-start' ? 0 : movesAtConvergence)
    result.movesPerNodePerHour = Math.round((result.moves / o.nodes / Math.max(1e-9, windowS / 3600)) * 100) / 100
    result.extra = { planner: o.planner, replicationTarget: o.replication, replicationReachable: rEff, upperBound: Math.round(bound * 10) / 10 }
    return result
  } finally {
    await swarm?.stop()
    result.wallMs = Date.now() - t0
  }
}
