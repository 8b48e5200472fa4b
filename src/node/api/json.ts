// Turns the node's state into the API's JSON shapes (types.ts). Pure reads: no I/O, no mutation.
import type { PetalmeshNode } from '../daemon.ts'
import type { Member, CoverageSummary } from '../swarm-view.ts'
import { computeCoverage } from '../swarm-view.ts'
import { SOFTWARE_VERSION } from '../libp2p.ts'
import { nodePlannerMismatches } from '../planner-check.ts'
import { formatSpan, type MemberInfo, type Span } from '../../protocols/types.ts'
import type { RouteAnswer } from '../router.ts'
import type { RouteMode } from '../../protocols/routing/types.ts'
import type { ProbeStatus } from '../petals-probe.ts'
import type {
  BlockJson, CoverageBrief, CoverageJson, NetworkInfoJson, PeerRow, PeersJson, PetalsBackendJson, RouteJson, StatusJson
} from './types.ts'

/** The parts of a node the API reads (tests can hand in a partial node). */
export type ApiNode = Pick<PetalmeshNode, 'libp2p' | 'membership' | 'config' | 'peerId' | 'startedAt' | 'wire' | 'stop' | 'reachability'> & Partial<Pick<PetalmeshNode, 'defense'>>

/** Members a node flagged unreachable (its Petals port did not answer): routes leave them out. */
export function unreachableSet (node: Partial<Pick<PetalmeshNode, 'defense'>>): ReadonlySet<string> {
  return node.defense?.prober?.unreachable() ?? new Set()
}

export function memberJson (m: Member, now = Date.now(), probe?: ProbeStatus): PeerRow {
  const r = m.record
  return {
    peerId: m.peerId,
    self: false,
    state: m.liveness === 'alive' || m.liveness === 'suspect' ? m.state : 'offline',
    liveness: m.liveness,
    span: r.span,
    spanText: formatSpan(r.span),
    capacity: r.capacity,
    throughput: r.throughput,
    loading: r.loading == null ? null : { done: m.loadingDone, total: r.loading.total },
    hardware: r.hardware,
    publicName: r.publicName,
    version: r.softwareVersion,
    petals: r.petals,
    reachability: r.reachability,
    tokensTotal: m.tokensTotal,
    lastHeardMsAgo: Math.max(0, now - m.lastHeardMs),
    offlineReason: m.offlineReason,
    petalsReachable: probe?.reachable ?? null,
    unreachable: probe?.flagged ?? false
  }
}

/** This node as a row of the swarm table; null for a client, which is not a member. */
export function selfRow (node: ApiNode): PeerRow | null {
  if (node.config.swarm.role !== 'server') return null
  const s = node.membership.selfState()
  return {
    peerId: node.peerId,
    self: true,
    state: s.state,
    liveness: 'self',
    span: s.span,
    spanText: formatSpan(s.span),
    capacity: s.capacity,
    throughput: s.throughput,
    loading: s.loading,
    hardware: s.hardware,
    publicName: s.publicName,
    version: SOFTWARE_VERSION,
    petals: s.petals,
    reachability: s.reachability,
    tokensTotal: s.tokensTotal,
    lastHeardMsAgo: 0,
    offlineReason: null,
    petalsReachable: null,
    unreachable: false
  }
}

export function peersJson (node: ApiNode, filter?: (m: Member) => boolean): PeersJson {
  const now = Date.now()
  const members = node.membership.view.all()
  return {
    selfRow: selfRow(node),
    peers: (filter == null ? members : members.filter(filter)).map(m => memberJson(m, now, node.defense?.prober?.statusOf(m.peerId)))
  }
}

/** kad-dht's public type omits the routing table, though the runtime object has it. */
export function dhtRoutingTableSize (node: Pick<PetalmeshNode, 'libp2p'>): number {
  const dht = node.libp2p.services.dht as unknown as { routingTable?: { size?: number } }
  return dht.routingTable?.size ?? 0
}

export function nodeStatus (node: ApiNode, petals: PetalsBackendJson | null = null, restarts = 0): StatusJson {
  const self = node.membership.selfState()
  const loading = petals?.loading ?? self.loading
  return {
    peerId: node.peerId,
    addresses: node.libp2p.getMultiaddrs().map(String),
    role: node.config.swarm.role,
    model: node.config.swarm.model,
    state: self.state,
    span: self.span,
    spanText: formatSpan(self.span),
    capacity: self.capacity,
    throughput: self.throughput,
    loading,
    loadingPercent: loading == null || loading.total <= 0 ? null : Math.round(1000 * Math.min(1, loading.done / loading.total)) / 10,
    petals: self.petals,
    petalsBackend: petals,
    restarts: Math.max(restarts, petals?.restarts ?? 0),
    tokensTotal: self.tokensTotal,
    startedAt: node.startedAt,
    uptimeMs: Date.now() - node.startedAt,
    connections: node.libp2p.getConnections().length,
    peers: node.libp2p.getPeers().length,
    // The DHT's actual mode: a node peers cannot dial switches to client (see reachability).
    dhtMode: node.libp2p.services.dht?.getMode() ?? 'off',
    reachability: node.reachability?.status() ?? null,
    swarmMembers: node.membership.view.live().length,
    dhtRoutingTable: dhtRoutingTableSize(node),
    defense: {
      unreachable: [...unreachableSet(node)].sort(),
      banned: (node.defense?.bans.active(Date.now()) ?? []).map(b => ({ peerId: b.peer, until: b.until, reason: b.reason })),
      offences: [...(node.defense?.offences.values() ?? [])].reduce((a, b) => a + b, 0)
    },
    // Servers that plan differently (another release or other swarm.* planner keys): see planner-check.ts.
    plannerMismatches: nodePlannerMismatches(node),
    version: SOFTWARE_VERSION
  }
}

export function networkInfo (node: ApiNode): NetworkInfoJson {
  const cov = node.membership.coverage()
  return {
    model: node.config.swarm.model,
    totalBlocks: node.membership.totalBlocks,
    replicationTarget: node.config.swarm.replication,
    bootstrapPeers: node.config.bootstrap,
    onlineNodes: cov.onlineNodes,
    liveMembers: node.membership.view.live().length + (node.config.swarm.role === 'server' ? 1 : 0),
    coveredBlocks: cov.coveredBlocks,
    coveragePercent: cov.coveragePercent,
    readyForInference: cov.readyForInference,
    minReplication: cov.minReplication,
    avgReplication: round3(cov.avgReplication),
    bottleneckThroughput: cov.bottleneckThroughput
  }
}

/** Runs of blocks whose replication is below `min`, as half-open spans. */
export function spansBelow (replication: readonly number[], min: number): Span[] {
  const out: Span[] = []
  let start = -1
  for (let b = 0; b <= replication.length; b++) {
    const low = b < replication.length && replication[b] < min
    if (low && start < 0) start = b
    if (!low && start >= 0) { out.push({ start, end: b }); start = -1 }
  }
  return out
}

export function coverageJson (cov: CoverageSummary, range?: Span): CoverageJson {
  const blocks: BlockJson[] = []
  const from = range?.start ?? 0
  const to = Math.min(range?.end ?? cov.totalBlocks, cov.totalBlocks)
  for (let b = from; b < to; b++) {
    const x = cov.blocks[b]
    blocks.push({ block: x.block, servers: x.servers, throughput: x.throughput, replication: x.servers.length, pending: x.pending })
  }
  return { totalBlocks: cov.totalBlocks, coveredBlocks: cov.coveredBlocks, ...briefOf(cov), blocks }
}

export function coverageBrief (members: readonly MemberInfo[], totalBlocks: number): CoverageBrief {
  return briefOf(computeCoverage(members, totalBlocks))
}

function briefOf (cov: ReturnType<typeof computeCoverage>): CoverageBrief {
  return {
    coveragePercent: cov.coveragePercent,
    readyForInference: cov.readyForInference,
    minReplication: cov.minReplication,
    avgReplication: round3(cov.avgReplication),
    bottleneckThroughput: cov.bottleneckThroughput,
    onlineNodes: cov.onlineNodes,
    missing: spansBelow(cov.blocks.map(b => b.servers.length), 1)
  }
}

export function routeJson (mode: RouteMode, answer: RouteAnswer): RouteJson {
  const r = answer.result
  if (!r.ok) return { ok: false, mode, route: null, error: r.error, initialPeers: [], computedAt: answer.computedAt }
  const route = r.route
  return {
    ok: true,
    mode,
    route: {
      hops: route.hops.map(h => ({ ...h, rttMs: h.rttMs != null && Number.isFinite(h.rttMs) ? Math.round(h.rttMs * 10) / 10 : h.rttMs })),
      totalBlocks: route.totalBlocks,
      range: route.range,
      estimatedLatencyMs: route.estimatedLatencyMs == null || !Number.isFinite(route.estimatedLatencyMs) ? null : Math.round(route.estimatedLatencyMs * 10) / 10,
      bottleneckThroughput: route.bottleneckThroughput,
      usedBannedPeers: route.usedBannedPeers
    },
    error: null,
    initialPeers: answer.initialPeers,
    computedAt: answer.computedAt
  }
}

function round3 (x: number): number {
  return Math.round(x * 1000) / 1000
}

/** JSON.stringify that sends bigints as strings and non-finite numbers as null. */
export function toJson (value: unknown, space?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v, space)
}
