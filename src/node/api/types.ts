// JSON shapes of the node's HTTP API (/v1/...). Everything here is what `JSON.parse` gives a client:
// bigints are sent as decimal strings, Infinity as null. The README's API section documents these.
import type { NodeState, Span } from '../../protocols/types.ts'
import type { PlannerMismatch } from '../planner-check.ts'
import type { PetalsServerInfo, ReachabilityKind } from '../../protocols/membership/record.ts'
import type { ReachabilityStatus } from '../reachability/monitor.ts'
import type { CoverageSummary, Liveness } from '../swarm-view.ts'
import type { RouteHop, RouteMode, MissingBlocksError } from '../../protocols/routing/types.ts'

/** One row of the swarm table (`/v1/peers`), also used for this node itself. */
export interface PeerRow {
  peerId: string
  /** True for the row describing the node that answers. */
  self: boolean
  /** Announced state; `offline` once the member is offline or left. */
  state: NodeState
  liveness: Liveness | 'self'
  span: Span | null
  spanText: string
  capacity: number
  throughput: number
  loading: { done: number, total: number } | null
  hardware: { type: string, device: string, vramGb: number }
  publicName: string
  version: string
  petals: PetalsServerInfo | null
  reachability: ReachabilityKind
  tokensTotal: number
  /** Milliseconds since this node last heard from the member (0 for self). */
  lastHeardMsAgo: number
  offlineReason: string | null
  /**
   * Did the member's announced Petals port answer this node's last probe? null = not probed (not
   * serving, probing off, or this node itself).
   */
  petalsReachable: boolean | null
  /** Flagged: announces blocks online, Petals port does not answer (trust.probe.failures times): left out of routes. */
  unreachable: boolean
}

export interface PeersJson {
  /** This node's own row; null for a client (clients are not swarm members). */
  selfRow: PeerRow | null
  /** Every member in this node's view (alive, suspect, offline and left tombstones), by peer id. */
  peers: PeerRow[]
}

/** Petals backend state as the bridge reports it (a subset of the bridge's BackendStatus). */
export interface PetalsBackendJson {
  state: string
  restarts: number
  loading: { done: number, total: number } | null
  lastError: { kind: string, message: string, hint: string } | null
}

export interface StatusJson {
  peerId: string
  addresses: string[]
  role: 'server' | 'client'
  model: string
  state: NodeState
  span: Span | null
  spanText: string
  capacity: number
  throughput: number
  loading: { done: number, total: number } | null
  /** 0..100, null when nothing is loading. */
  loadingPercent: number | null
  /** Petals server info announced in the record (peer id, multiaddrs, dtype...). */
  petals: PetalsServerInfo | null
  /** The local Petals backend, when the daemon supervises one. */
  petalsBackend: PetalsBackendJson | null
  /** Petals restarts since this node started. */
  restarts: number
  tokensTotal: number
  startedAt: number
  uptimeMs: number
  connections: number
  peers: number
  dhtMode: 'server' | 'client' | 'off'
  /** How peers reach this node; null on the memory transport (no NAT traversal there). */
  reachability: ReachabilityStatus | null
  swarmMembers: number
  dhtRoutingTable: number
  /** Hostile-peer defence: members flagged unreachable, peers banned now, messages/streams refused. */
  defense: { unreachable: string[], banned: Array<{ peerId: string, until: number, reason: string }>, offences: number }
  /** Live servers whose planner differs from this server's (empty on a client); README "Keep a swarm's servers alike". */
  plannerMismatches: PlannerMismatch[]
  version: string
}

export interface NetworkInfoJson {
  model: string
  totalBlocks: number
  replicationTarget: number
  bootstrapPeers: string[]
  onlineNodes: number
  liveMembers: number
  coveredBlocks: number
  coveragePercent: number
  readyForInference: boolean
  minReplication: number
  avgReplication: number
  bottleneckThroughput: number
}

export interface BlockJson {
  block: number
  /** Online servers of the block (peer ids). */
  servers: string[]
  /** Summed throughput of those servers (tokens/s). */
  throughput: number
  /** Number of online servers. */
  replication: number
  /** Members joining or loading this block. */
  pending: string[]
}

export interface CoverageJson extends Omit<CoverageSummary, 'blocks'> {
  /** Runs of blocks with no online server. */
  missing: Span[]
  blocks: BlockJson[]
}

export interface RouteJson {
  ok: boolean
  mode: RouteMode
  /** Present when ok. */
  route: {
    hops: RouteHop[]
    totalBlocks: number
    range: Span
    estimatedLatencyMs: number | null
    bottleneckThroughput: number
    usedBannedPeers: string[]
  } | null
  /** Present when no route exists. */
  error: MissingBlocksError | null
  /** Petals `initial_peers` a client would start from. */
  initialPeers: string[]
  computedAt: number
}

export type LogSourceName = 'petals' | 'bridge' | 'node'

/** One log line; the Petals bridge's BackendLogLine has this shape. */
export interface LogLine {
  /** Wall-clock ms. */
  ts: number
  source: LogSourceName
  level: string
  text: string
}

export interface LogsJson {
  lines: LogLine[]
  /** Lines available before filtering and limiting. */
  total: number
}

/** Coverage in a few numbers, for before/after comparisons in placement previews. */
export interface CoverageBrief {
  coveragePercent: number
  readyForInference: boolean
  minReplication: number
  avgReplication: number
  bottleneckThroughput: number
  onlineNodes: number
  missing: Span[]
}

export type PlanDecisionJson =
  | { action: 'stay' }
  | { action: 'serve', span: Span, reason: string }
  | { action: 'standby', reason: string }

export interface PlanActionJson {
  peerId: string
  decision: PlanDecisionJson
}

export interface PlanJoinJson {
  kind: 'join'
  candidate: { capacity: number, throughput: number }
  /** What the planner would tell the new node. */
  decision: PlanDecisionJson
  /** What it would tell everyone else in the same round (not 'stay'). */
  actions: PlanActionJson[]
  before: CoverageBrief
  /** Once the new node and every action above are online. */
  after: CoverageBrief
}

export interface PlanLeaveJson {
  kind: 'leave'
  peerId: string
  member: PeerRow
  /** Coverage right after the node is gone, before anybody moves. */
  before: CoverageBrief
  afterLeave: CoverageBrief
  /** Healing and other moves the planner would order. */
  actions: PlanActionJson[]
  /** Once every action above is online. */
  afterHeal: CoverageBrief
}

/** One server-sent event (`/v1/events`); the SSE `event:` field is `type`, `data:` is this object. */
export interface ApiEvent {
  id: number
  type: string
  /** Wall-clock ms. */
  at: number
  peerId?: string
  reason?: string
  member?: PeerRow
  [key: string]: unknown
}
