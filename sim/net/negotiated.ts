// Negotiated scenarios on real nodes: nodes choose their own spans (petalmesh's planner, or the
// Petals baseline on the same seed), and the runner measures against ground truth (what each node
// really serves), never against any node's view.
import { startSwarm, waitFor, rng, type Swarm } from '../swarm.ts'
import type { PetalmeshNode } from '../../src/node/daemon.ts'
import { computeCoverage } from '../../src/node/swarm-view.ts'
import { effectiveReplication, upperBound } from '../../src/protocols/coverage/index.ts'
import type { NetResult } from './run.ts'
import { emptySimResult } from '../types.ts'
import type { ConnectionGater } from '@libp2p/interface'

export interface NegotiatedOptions {
  scenario: 'cold-start' | 'steady' | 'crash' | 'leave' | 'join' | 'churn' | 'partition'
  nodes: number
  blocks: number
  seed: number
  transport: 'memory' | 'tcp'
  heartbeatMs: number
  replication: number
  planner: 'petalmesh' | 'petals'
  /** Steady window after convergence (steady scenario), ms. */
  steadyMs?: number
  /**
   * swarm.cooldownMs of every node. Set (a few seconds, standing for the real hour; 0 removes the
   * hysteresis altogether), a crash or leave run stands for a swarm that has been up longer than
   * its cool-down: the kill waits until it has passed. (After healing, every crash or leave run
   * waits for the rebalancer to settle.)
   */
  cooldownMs?: number
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
/** Every node sees every other as online or standby: the views, not only the nodes, have converged. */
const viewsSettled = (nodes: PetalmeshNode[]): boolean => {
  const live = nodes.filter(n => n.libp2p.status === 'started')
  return live.every(n => live.every(m => m === n || ['online', 'standby'].includes(n.membership.view.get(m.peerId)?.state ?? '')))
}
/** Waits until no node has moved for `quietFor` and all are settled (bounded by `timeoutMs`). */
async function untilQuiet (nodes: PetalmeshNode[], quietFor: number, timeoutMs: number): Promise<void> {
  let seen = moves(nodes)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, quietFor))
    const now = moves(nodes)
    if (now === seen && settled(nodes)) return
    seen = now
  }
}
const moves = (nodes: PetalmeshNode[]): number => nodes.reduce((a, n) => a + (n.negotiator?.stats.moves ?? 0), 0)
const claimsByReason = (nodes: PetalmeshNode[]): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const n of nodes) for (const [k, v] of Object.entries(n.negotiator?.stats.claimsByReason ?? {})) out[k] = (out[k] ?? 0) + v
  return out
}
/** Rebalance claims so far (reported as `rebalanceMoves`; a claim that loses moves nothing). */
const rebalanceClaims = (nodes: PetalmeshNode[]): number => claimsByReason(nodes).rebalance ?? 0
const extraClaims = (nodes: PetalmeshNode[]): number => nodes.reduce((a, n) => a + Math.max(0, (n.negotiator?.stats.claims ?? 0) - 1), 0)

/** Launch index of the node the crash/leave scenario stops (never the first: it is everyone's bootstrap). */
export function crashVictimIndex (seed: number, nodes: number): number {
  return 1 + Math.floor(rng(seed + 3)() * (nodes - 1))
}

export async function runNegotiated (o: NegotiatedOptions): Promise<NetResult> {
  const t0 = Date.now()
  const rss0 = process.memoryUsage().rss
  const profile = heterogeneous(o.seed, o.nodes)
  const rEff = effectiveReplication(profile.map(p => Math.min(p.capacity, o.blocks)), o.blocks, o.replication)
  const bound = upperBound(profile, o.blocks)
  // The bound of the nodes running at a moment (a crash or churn changes it): a layout is judged
  // against what its own nodes could reach, not against nodes that are gone or not there yet.
  const bounds = new Map<string, number>()
  const boundNow = (nodes: PetalmeshNode[]): number => {
    const live = nodes.filter(n => n.libp2p.status === 'started' && n.membership.selfState().capacity > 0)
    const key = live.map(n => n.peerId).sort().join(',')
    let b = bounds.get(key)
    if (b == null) {
      b = upperBound(live.map(n => ({ capacity: n.membership.selfState().capacity, throughput: n.membership.selfState().throughput })), o.blocks)
      bounds.set(key, b)
    }
    return b
  }
  // Total capacity below one copy of the model: full coverage is impossible, so don't wait for it.
  const coverable = profile.reduce((a, p) => a + Math.min(p.capacity, o.blocks), 0) >= o.blocks
  const timeoutMs = coverable ? (o.timeoutMs ?? 90_000) : Math.min(o.timeoutMs ?? 90_000, 10_000)
  const result: NetResult = emptySimResult({ scenario: o.scenario, nodes: o.nodes, blocks: o.blocks, seed: o.seed, transport: o.transport, heartbeatMs: o.heartbeatMs })
  let swarm: Swarm | null = null
  try {
    // partition: a gater shared by all nodes, so the runner can cut the swarm in two and heal it.
    const side = new Map<string, number>()
    let partitioned = false
    const blocked = (a: string, b: string): boolean => partitioned && side.has(a) && side.has(b) && side.get(a) !== side.get(b)
    const gaterFor = (self: () => string): ConnectionGater => ({
      denyDialPeer: (peer) => blocked(self(), peer.toString()),
      denyInboundEncryptedConnection: (peer) => blocked(self(), peer.toString()),
      denyOutboundEncryptedConnection: (peer) => blocked(self(), peer.toString())
    })
    swarm = await startSwarm({
      nodes: o.scenario === 'join' ? 1 : o.nodes,
      transport: o.transport,
      totalBlocks: o.blocks,
      heartbeatMs: o.heartbeatMs,
      seed: o.seed,
      dht: false,
      parallel: true,
      replication: o.replication,
      planner: o.planner,
      loadMsPerBlock: 20,
      ...(o.cooldownMs != null ? { cooldownMs: o.cooldownMs } : {}),
      // Real transports deliver from I/O callbacks; the memory transport's microtask delivery starves timers (fair-memory.ts).
      fairMemory: true,
      spec: i => profile[i % profile.length],
      ...(o.scenario === 'partition' ? { gater: (selfId: () => string) => gaterFor(selfId) } : {})
    })
    const nodes = swarm.nodes
    if (o.scenario === 'join') {
      // Nodes arrive one by one, a heartbeat apart.
      for (let i = 1; i < o.nodes; i++) {
        await new Promise(resolve => setTimeout(resolve, o.heartbeatMs))
        await swarm.add(profile[i])
      }
    }
    // From the moment the last node was launched: its own start-up (dialing, the twin check,
    // announcing) counts, as it does for an operator starting a daemon.
    const tStart = swarm.lastLaunchAt()
    const series: Array<[number, number]> = []
    const recorder = setInterval(() => { series.push([Date.now() - tStart, truth(nodes, o.blocks).coveragePercent]) }, 200)
    result.series = series
    const cov = await waitFor(() => truth(nodes, o.blocks).readyForInference, timeoutMs, 25)
    result.fullCoverageMs = cov == null ? null : Date.now() - tStart
    const rep = await waitFor(() => truth(nodes, o.blocks).minReplication >= rEff, timeoutMs, 25)
    result.replicationMs = rep == null ? null : Date.now() - tStart
    await waitFor(() => settled(nodes), timeoutMs, 25)
    const selfSettledAt = Date.now()
    // A crash or leave comes after convergence: once every view has the commits too (gossip lags
    // them by up to a few heartbeats right after a cold start; a kill inside that window is a kill
    // during the negotiation, where views disagree on who is online and may heal).
    if (o.scenario === 'crash' || o.scenario === 'leave') {
      const views = await waitFor(() => viewsSettled(nodes), timeoutMs, 25)
      // How long the views trailed the nodes' own states (session 9 saw up to 2.3 s in one process).
      result.extra = { ...result.extra, viewsLagMs: views == null ? null : Date.now() - selfSettledAt }
    }
    result.converged = cov != null && rep != null
    result.duplicateClaims = extraClaims(nodes)
    // What the extra claims were (a lost claim re-planned, or a heal or move right after joining).
    if (result.duplicateClaims > 0) result.extra = { ...result.extra, claimsByReason: JSON.stringify(claimsByReason(nodes)) }
    result.rssMbPerNode = Math.round(((process.memoryUsage().rss - rss0) / o.nodes / 1e6) * 10) / 10
    const convergedAt = Date.now()
    const movesAtConvergence = moves(nodes)

    let samples = 0
    let available = 0
    let ratioSum = 0
    let lastRatio = 0
    let lastBound = bound
    const sample = (): void => {
      const c = truth(nodes, o.blocks)
      samples++
      if (c.readyForInference) available++
      lastBound = boundNow(nodes)
      lastRatio = lastBound > 0 ? c.bottleneckThroughput / lastBound : 0
      ratioSum += lastRatio
    }
    const sampler = setInterval(sample, 100)
    const sent0 = nodes.reduce((a, n) => a + n.wire.sent, 0)
    try {
      if (o.scenario === 'steady') {
        await new Promise(resolve => setTimeout(resolve, o.steadyMs ?? 20_000))
      } else if (o.scenario === 'crash' || o.scenario === 'leave') {
        // crash: killed without a word; leave: a graceful stop (a leaving record first).
        // By launch index, not by position in nodes[] (start-up completion order, which differs run
        // to run): both planners lose the same member of the profile.
        const victimIndex = crashVictimIndex(o.seed, nodes.length)
        const victim = nodes.find(n => swarm?.launchIndex(n) === victimIndex) ?? nodes[victimIndex]
        // Stand for a swarm that has been up longer than its cool-down: let it pass before the kill.
        if (o.cooldownMs != null) await new Promise(resolve => setTimeout(resolve, o.cooldownMs! + o.heartbeatMs))
        const rebalancesBefore = rebalanceClaims(nodes)
        const tk = Date.now()
        await victim.membership.stop({ graceful: o.scenario === 'leave' })
        await victim.libp2p.stop()
        await victim.negotiator?.stop()
        const survivors = nodes.filter(n => n !== victim)
        const gone = (l: string | undefined): boolean => l === 'offline' || l === 'left'
        const det = await waitFor(() => survivors.every(n => gone(n.membership.view.get(victim.peerId)?.liveness)), timeoutMs, 10)
        result.detectMs = det == null ? null : Date.now() - tk
        // The issue's bound: the victim's blocks served again at the replication the survivors'
        // capacity allows, within the failure-detection time plus one heartbeat period.
        const survivorsReach = effectiveReplication(survivors.map(n => Math.min(n.membership.selfState().capacity, o.blocks)), o.blocks, o.replication)
        // The layout's ratio at that moment: what healing alone gives (a rebalancer may move right after).
        let restoredRatio: number | null = null
        const restoredP = waitFor(() => {
          const c = truth(nodes, o.blocks)
          if (c.minReplication < survivorsReach) return false
          restoredRatio = c.bottleneckThroughput / boundNow(nodes)
          return true
        }, timeoutMs, 10).then(r => r == null ? null : Date.now() - tk)
        const healed = await waitFor(() => truth(nodes, o.blocks).readyForInference && settled(nodes), timeoutMs, 25)
        result.healMs = healed == null ? null : Date.now() - tk
        const restoredMs = await restoredP
        result.extra = { ...result.extra, replicationRestoredMs: restoredMs, withinDetectPlusHeartbeat: restoredMs != null && result.detectMs != null && restoredMs <= result.detectMs + o.heartbeatMs }
        // The rebalancer may move nodes after the heal (inside the cool-down only for a set that
        // gains cooldownGain; past it, anyone): wait until nobody has moved for three heartbeats,
        // or a cool-down plus two when one is set, and everyone is settled (bounded by the run's
        // timeout): a node that just moved may move again after it.
        await untilQuiet(nodes, Math.max(3 * o.heartbeatMs, o.cooldownMs == null ? 0 : o.cooldownMs + 2 * o.heartbeatMs), timeoutMs)
        sample()
        result.extra = { ...result.extra, healedBottleneckRatio: restoredRatio == null ? null : Math.round(restoredRatio * 1000) / 1000, rebalanceMoves: rebalanceClaims(nodes) - rebalancesBefore, rebalancedMs: Date.now() - tk, claimsByReason: JSON.stringify(claimsByReason(nodes)) }
      } else if (o.scenario === 'churn') {
        // Seeded random joins and crashes, one every 2 heartbeats, for 20 heartbeats.
        const r = rng(o.seed + 11)
        let worstHeal = 0
        for (let step = 0; step < 10; step++) {
          const live = nodes.filter(n => n.libp2p.status === 'started')
          if (r() < 0.5 && live.length > 3) {
            const v = live[1 + Math.floor(r() * (live.length - 1))]
            const tk = Date.now()
            await v.membership.stop({ graceful: false })
            await v.libp2p.stop()
            await v.negotiator?.stop()
            const back = await waitFor(() => truth(nodes, o.blocks).readyForInference, 2 * o.heartbeatMs, 25)
            worstHeal = Math.max(worstHeal, back == null ? 2 * o.heartbeatMs : Date.now() - tk)
          } else {
            await swarm.add(profile[Math.floor(r() * profile.length)])
          }
          await new Promise(resolve => setTimeout(resolve, 2 * o.heartbeatMs))
        }
        result.healMs = worstHeal
      } else if (o.scenario === 'partition') {
        // Cut the swarm in two halves, wait until each half has declared the other offline, heal.
        nodes.forEach((n, i) => side.set(n.peerId, i % 2))
        const tk = Date.now()
        partitioned = true
        await Promise.all(nodes.map(async n => {
          for (const p of n.libp2p.getPeers()) if (blocked(n.peerId, p.toString())) await n.libp2p.hangUp(p).catch(() => {})
        }))
        const split = await waitFor(() => nodes.every(n => nodes.every(m => m === n || side.get(m.peerId) === side.get(n.peerId) || n.membership.view.get(m.peerId)?.liveness !== 'alive')), timeoutMs, 50)
        result.detectMs = split == null ? null : Date.now() - tk
        await new Promise(resolve => setTimeout(resolve, 2 * o.heartbeatMs))
        partitioned = false
        const th = Date.now()
        const whole = await waitFor(() => nodes.every(n => n.membership.view.live().length === nodes.length - 1), timeoutMs, 50)
        result.healMs = whole == null ? null : Date.now() - th
      } else if (o.scenario === 'join') {
        // After the last arrival the rebalancer may move nodes (sets that gain cooldownGain): wait
        // until nobody has moved for three heartbeats.
        const before = rebalanceClaims(nodes)
        await untilQuiet(nodes, 3 * o.heartbeatMs, timeoutMs)
        result.extra = { ...result.extra, rebalanceMoves: rebalanceClaims(nodes) - before }
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
    result.bottleneckRatio = bound > 0 ? Math.round((ratioSum / Math.max(1, samples)) * 1000) / 1000 : null
    result.moves = moves(nodes) - (o.scenario === 'cold-start' ? 0 : movesAtConvergence)
    result.movesPerNodePerHour = Math.round((result.moves / o.nodes / Math.max(1e-9, windowS / 3600)) * 100) / 100
    // finalBottleneckRatio: the layout the run ends with (bottleneckRatio averages the whole window,
    // which after a crash is mostly the dip the victim left).
    const final: Record<string, number> = bound > 0 ? { finalBottleneckRatio: Math.round(lastRatio * 1000) / 1000 } : {}
    // upperBound: of the nodes running at the end (after a crash, the survivors').
    result.extra = { ...result.extra, ...final, planner: o.planner, replicationTarget: o.replication, replicationReachable: rEff, upperBound: Math.round(lastBound * 10) / 10, ...(coverable ? {} : { note: `the ${o.nodes} nodes' capacities cannot cover ${o.blocks} blocks: use more nodes or fewer --blocks` }) }
    return result
  } finally {
    await swarm?.stop()
    result.wallMs = Date.now() - t0
  }
}
