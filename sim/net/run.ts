// Network-level scenarios: real petalmesh nodes (real libp2p, real protocols) in this process,
// over the memory transport or loopback TCP. Each scenario is seeded and reports the simulator's
// standard fields (see README "Simulator").
import { startSwarm, waitFor, rng, type Swarm } from '../swarm.ts'
import type { PetalmeshNode } from '../../src/node/daemon.ts'
import { computeCoverage } from '../../src/node/swarm-view.ts'
import type { MemberInfo } from '../../src/protocols/types.ts'
import { discoverRoute } from '../../src/client/discover.ts'
import { emptySimResult, type SimResult } from '../types.ts'

export type NetScenario = 'crash' | 'leave' | 'steady' | 'discovery'

export interface NetRunOptions {
  scenario: NetScenario
  nodes: number
  blocks: number
  seed: number
  transport: 'memory' | 'tcp'
  heartbeatMs: number
  /** Nodes to kill or stop (crash, leave). */
  k?: number
  /** Steady window used for the byte-rate figure, ms. */
  measureMs?: number
  timeoutMs?: number
  /** Swarm-wide heartbeat rate target (swarm.maxHeartbeatRate); default the node default, 10/s. */
  maxHeartbeatRate?: number
}

/** From this size on, in-process nodes start together (a cold start) instead of one by one. */
const PARALLEL_FROM = 40

/** The simulator's one result shape (sim/types.ts), plus the coverage series the bench charts. */
export type NetResult = SimResult & {
  converged: boolean
  /** Coverage over time (ms since start, percent of blocks served), for the benchmark charts. */
  series?: Array<[number, number]>
}

/** Static spans with about two servers per block, until nodes negotiate their own. */
export function staticSpan (i: number, n: number, blocks: number): string {
  const len = Math.min(blocks, Math.max(1, Math.ceil((2 * blocks) / n)))
  const start = Math.min(blocks - len, Math.floor((i * blocks) / n))
  return `${start}:${start + len}`
}

/** Ground truth: the spans of nodes that are really running, whatever anyone's view says. */
function truthCoverage (nodes: PetalmeshNode[], blocks: number): ReturnType<typeof computeCoverage> {
  const members: MemberInfo[] = nodes.filter(n => n.libp2p.status === 'started').map(n => {
    const s = n.membership.selfState()
    return { peerId: n.peerId, state: s.state, span: s.span, capacity: s.capacity, throughput: s.throughput }
  })
  return computeCoverage(members, blocks)
}

function viewsCompleteCount (swarm: Swarm): number {
  const live = swarm.nodes.filter(n => n.libp2p.status === 'started')
  return live.filter(n => n.membership.view.live().length === live.length - 1).length
}

function viewsComplete (swarm: Swarm): boolean {
  const live = swarm.nodes.filter(n => n.libp2p.status === 'started')
  return live.every(n => n.membership.view.live().length === live.length - 1 && n.membership.coverage().readyForInference)
}

export async function runNetScenario (o: NetRunOptions): Promise<NetResult> {
  const t0 = Date.now()
  const rssBefore = process.memoryUsage().rss
  const cpuBefore = process.cpuUsage()
  // Big swarms take longer to converge (the heartbeat period stretches with the swarm); bounded.
  const timeoutMs = o.timeoutMs ?? Math.min(360_000, Math.max(60_000, 2000 * o.nodes))
  const parallel = o.nodes >= PARALLEL_FROM
  // The longest time this process went without running timers: everything in one process shares
  // one event loop, so this is the simulation's own health figure (a stall delays every node).
  let maxStallMs = 0
  let lastSample = Date.now()
  const stallSampler = setInterval(() => { const now = Date.now(); maxStallMs = Math.max(maxStallMs, now - lastSample - 100); lastSample = now }, 100)
  const swarm = await startSwarm({
    nodes: o.nodes,
    transport: o.transport,
    totalBlocks: o.blocks,
    heartbeatMs: o.heartbeatMs,
    seed: o.seed,
    // One process cannot afford a DHT per node (it connects everyone to everyone); nodes find each
    // other through bootstrap dials and snapshots. The one-process-per-node mode runs the DHT.
    dht: false,
    fairMemory: true,
    parallel,
    ...(parallel ? { targetPeers: 6 } : {}),
    ...(o.maxHeartbeatRate != null ? { maxHeartbeatRate: o.maxHeartbeatRate } : {}),
    spec: i => ({ span: staticSpan(i, o.nodes, o.blocks), throughput: 100 })
  })
  const result: NetResult = { ...emptySimResult({ scenario: o.scenario, nodes: o.nodes, blocks: o.blocks, seed: o.seed, transport: o.transport, heartbeatMs: o.heartbeatMs }), viewsCompleteMs: null, cpuMsPerNode: null }
  const figures = (): void => {
    const cpu = process.cpuUsage(cpuBefore)
    result.cpuMsPerNode = Math.round((cpu.user + cpu.system) / 1000 / o.nodes)
    result.extra = {
      ...result.extra,
      start: parallel ? 'parallel' : 'one by one',
      heartbeatPeriodMs: swarm.nodes[0]?.membership.heartbeatPeriodMs() ?? null,
      connectionsPerNode: Math.round(swarm.nodes.reduce((a, n) => a + n.libp2p.getConnections().length, 0) / o.nodes * 10) / 10,
      maxLoopStallMs: maxStallMs,
      // How far from complete the views are (useful when a big run does not converge).
      minViewSize: Math.min(...swarm.nodes.filter(n => n.libp2p.status === 'started').map(n => n.membership.view.live().length)),
      completeViews: viewsCompleteCount(swarm)
    }
  }
  try {
    const conv = await waitFor(() => viewsComplete(swarm), timeoutMs, o.nodes >= PARALLEL_FROM ? 250 : 50)
    result.converged = conv != null
    result.fullCoverageMs = conv == null ? null : Date.now() - t0
    result.viewsCompleteMs = result.fullCoverageMs
    result.rssMbPerNode = Math.round(((process.memoryUsage().rss - rssBefore) / o.nodes / 1e6) * 10) / 10
    if (!result.converged) return result

    // Control-plane cost in a steady window.
    const measureMs = o.measureMs ?? Math.max(3000, 3 * o.heartbeatMs)
    const sent0 = swarm.nodes.reduce((a, n) => a + n.wire.sent, 0)
    const w0 = Date.now()
    await new Promise(resolve => setTimeout(resolve, measureMs))
    const sent1 = swarm.nodes.reduce((a, n) => a + n.wire.sent, 0)
    result.bytesPerNodePerSec = Math.round((sent1 - sent0) / o.nodes / ((Date.now() - w0) / 1000))

    // Availability: sampled ground truth from here to the end of the scenario.
    let samples = 0
    let available = 0
    const sampler = setInterval(() => { samples++; if (truthCoverage(swarm.nodes, o.blocks).readyForInference) available++ }, 100)
    try {
      if (o.scenario === 'crash' || o.scenario === 'leave') {
        const random = rng(o.seed + 17)
        const k = Math.max(1, Math.min(o.k ?? 1, o.nodes - 2))
        const victims: PetalmeshNode[] = []
        while (victims.length < k) {
          const pick = swarm.nodes[Math.floor(random() * swarm.nodes.length)]
          if (!victims.includes(pick)) victims.push(pick)
        }
        const survivors = swarm.nodes.filter(n => !victims.includes(n))
        const tk = Date.now()
        if (o.scenario === 'crash') {
          // An abrupt stop: sockets close with no goodbye, as when the process is SIGKILLed.
          await Promise.all(victims.map(async v => { await v.membership.stop({ graceful: false }); await v.libp2p.stop() }))
        } else {
          await Promise.all(victims.map(async v => { await v.stop() }))
        }
        const gone = (n: PetalmeshNode, v: PetalmeshNode): boolean => { const l = n.membership.view.get(v.peerId)?.liveness; return l === 'offline' || l === 'left' }
        const det = await waitFor(() => survivors.every(n => victims.every(v => gone(n, v))), Math.min(timeoutMs, 120_000), 10)
        result.detectMs = det == null ? null : Date.now() - tk
        result.extra = { ...result.extra, killed: k }
      } else if (o.scenario === 'discovery') {
        // A client that knows one bootstrap peer joins, routes and leaves; repeated, median reported.
        const random = rng(o.seed + 29)
        const times: number[] = []
        let hops = 0
        for (let r = 0; r < 5; r++) {
          const boot = swarm.addrOf(swarm.nodes[Math.floor(random() * swarm.nodes.length)])
          const found = await discoverRoute({
            model: swarm.opts.model,
            bootstrap: [boot],
            transport: o.transport,
            listen: o.transport === 'memory' ? [`/memory/client-${process.pid}-${o.seed}-${r}`] : [],
            timeoutMs: 10_000
          })
          times.push(found.routeMs)
          hops = found.route.hops.length
        }
        times.sort((a, b) => a - b)
        result.routeMs = times[Math.floor(times.length / 2)]
        result.extra = { ...result.extra, routeMsMin: times[0], routeMsMax: times[times.length - 1], routeHops: hops, clientRuns: times.length }
      } else {
        await new Promise(resolve => setTimeout(resolve, Math.max(2000, 5 * o.heartbeatMs)))
        result.extra = { ...result.extra, falseOffline: swarm.nodes.reduce((a, n) => a + n.membership.view.all().filter(m => m.liveness !== 'alive').length, 0) }
      }
      await new Promise(resolve => setTimeout(resolve, 200))
    } finally {
      clearInterval(sampler)
    }
    result.availability = samples === 0 ? null : Math.round((available / samples) * 1000) / 1000
    return result
  } finally {
    figures()
    clearInterval(stallSampler)
    await swarm.stop()
    result.wallMs = Date.now() - t0
  }
}
