// Prometheus metrics of one node (`/metrics`), on a per-node prom-client Registry: many nodes run in one
// process in tests and the simulator, so nothing here touches prom-client's global default registry.
//
// Swarm-level names reuse health.petals.dev's where they mean the same thing, so existing Petals
// dashboards and alerts work unchanged: `n_blocks`, `servers_num`, `blocks_total`, `blocks{state}`,
// `blocks_online_min` (all labelled with `model`). Everything else is `petalmesh_*`.
//
// Values are read from the node when Prometheus scrapes (collect callbacks), so nothing runs between
// scrapes. Counters that mirror a cumulative number kept elsewhere (gossip stats, wire bytes, tokens)
// advance by the difference since the previous scrape.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { nodePlannerMismatches } from './planner-check.ts'
import type { PetalmeshNode } from './daemon.ts'
import { NODE_STATES, type NodeState } from '../protocols/types.ts'
import type { Liveness } from './swarm-view.ts'
import { SOFTWARE_VERSION } from './libp2p.ts'

/** What the metrics read from a node. */
export type MetricsNode = Pick<PetalmeshNode, 'libp2p' | 'membership' | 'config' | 'peerId' | 'startedAt' | 'wire'>

/** Petals backend numbers the metrics can mirror (the bridge's BackendStatus has these fields). */
export interface PetalsMetricsSource {
  (): { state: string, restarts: number } | null
}

export interface NodeMetricsOptions {
  /** Node.js process metrics (`process_*`, `nodejs_*`) in this registry too. Default true. */
  processMetrics?: boolean
  /** Mirrors the bridge's restart counter into `petalmesh_petals_restarts_total`. */
  petals?: PetalsMetricsSource
  /** Per-peer series (`petalmesh_peer_state`) are dropped beyond this many members. Default 1000. */
  maxPeerSeries?: number
}

/** Counter hooks for the parts of the node that the metrics cannot observe by themselves. */
export interface NodeMetricsHooks {
  /** The negotiation planner moved this node (or ordered a move); `reason` is the plan reason (join, heal, rebalance...). */
  negotiationMove: (reason: string, count?: number) => void
  /** The Petals server was restarted by the supervisor. */
  petalsRestart: (count?: number) => void
}

export interface NodeMetrics extends NodeMetricsHooks {
  readonly registry: Registry
  /** The Content-Type of `render()`'s output. */
  readonly contentType: string
  /** The Prometheus text exposition of every metric. */
  render: () => Promise<string>
  /** Petals restarts counted through the hook. */
  readonly petalsRestarts: number
  /** Detaches from the node (the registry keeps its last values). */
  close: () => void
}

const LIVENESS: readonly Liveness[] = ['alive', 'suspect', 'offline', 'left']

/** A counter that follows cumulative totals read at scrape time (one per label set). */
function mirror<L extends string> (registry: Registry, name: string, help: string, labelNames: readonly L[], read: () => Array<[Partial<Record<L, string>>, number]>): Counter<L> {
  const last = new Map<string, number>()
  const counter: Counter<L> = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect: () => {
      for (const [labels, value] of read()) {
        if (!Number.isFinite(value)) continue
        const key = JSON.stringify(labels)
        const prev = last.get(key)
        if (prev == null) {
          // First sight of this series: expose it at its current total.
          if (value > 0) counter.inc(labels, value)
          else counter.inc(labels, 0)
        } else if (value > prev) {
          counter.inc(labels, value - prev)
        }
        // A total that went down (its source restarted) is followed from its new value.
        last.set(key, value)
      }
    }
  })
  return counter
}

function gauge<L extends string> (registry: Registry, name: string, help: string, labelNames: readonly L[], collect: (g: Gauge<L>) => void): Gauge<L> {
  const g: Gauge<L> = new Gauge<L>({ name, help, labelNames, registers: [registry], collect: () => { collect(g) } })
  return g
}

export function createNodeMetrics (node: MetricsNode, opts: NodeMetricsOptions = {}): NodeMetrics {
  const registry = new Registry()
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry })
  const { membership } = node
  const model = node.config.swarm.model
  const isServer = node.config.swarm.role === 'server'
  const maxPeers = opts.maxPeerSeries ?? 1000

  // One coverage computation per scrape, shared by every gauge that needs it.
  let covAt = -1
  let cov = membership.coverage()
  const coverage = (): typeof cov => {
    const now = Date.now()
    if (now !== covAt) { cov = membership.coverage(); covAt = now }
    return cov
  }
  /** Live members' announced state plus self: what the swarm looks like from here. */
  const announced = (): Array<{ state: NodeState, span: { start: number, end: number } | null }> => {
    const out = membership.view.all().map(m => ({ state: m.liveness === 'alive' || m.liveness === 'suspect' ? m.state : 'offline' as NodeState, span: m.record.span }))
    if (isServer) { const s = membership.selfState(); out.push({ state: s.state, span: s.span }) }
    return out
  }

  // ---- health.petals.dev-compatible swarm metrics ----
  gauge(registry, 'n_blocks', 'Number of transformer blocks of the model', ['model'], g => { g.set({ model }, membership.totalBlocks) })
  gauge(registry, 'servers_num', 'Servers in the swarm (alive or suspect members, and this node if it serves)', ['model'], g => {
    g.set({ model }, membership.view.live().length + (isServer ? 1 : 0))
  })
  gauge(registry, 'blocks_total', 'Blocks held by all servers, counted once per server (sum of span lengths)', ['model'], g => {
    let n = 0
    for (const m of announced()) if (m.state !== 'offline' && m.span != null) n += m.span.end - m.span.start
    g.set({ model }, n)
  })
  gauge(registry, 'blocks', 'Blocks held by servers in each state, counted once per server', ['model', 'state'], g => {
    const by = new Map<NodeState, number>(NODE_STATES.map(s => [s, 0]))
    for (const m of announced()) if (m.span != null) by.set(m.state, (by.get(m.state) ?? 0) + m.span.end - m.span.start)
    for (const [state, n] of by) g.set({ model, state }, n)
  })
  gauge(registry, 'blocks_online_min', 'Online servers of the least replicated block', ['model'], g => { g.set({ model }, coverage().minReplication) })

  // ---- petalmesh swarm view ----
  gauge(registry, 'petalmesh_info', 'This node (value 1)', ['peer_id', 'model', 'role', 'version'], g => {
    g.set({ peer_id: node.peerId, model, role: node.config.swarm.role, version: SOFTWARE_VERSION }, 1)
  })
  gauge(registry, 'petalmesh_planner_mismatched_peers', 'Live servers whose planner differs from this server\'s (another release or other swarm.* planner keys; 0 on a client)', [], g => {
    g.set(nodePlannerMismatches(node).length)
  })
  gauge(registry, 'petalmesh_swarm_members', 'Members in this node\'s view by liveness (excluding this node)', ['liveness'], g => {
    const by = new Map<Liveness, number>(LIVENESS.map(l => [l, 0]))
    for (const m of membership.view.all()) by.set(m.liveness, (by.get(m.liveness) ?? 0) + 1)
    for (const [liveness, n] of by) g.set({ liveness }, n)
  })
  gauge(registry, 'petalmesh_swarm_nodes', 'Swarm nodes by announced state (this node included; offline = offline or left)', ['state'], g => {
    const by = new Map<NodeState, number>(NODE_STATES.map(s => [s, 0]))
    for (const m of announced()) by.set(m.state, (by.get(m.state) ?? 0) + 1)
    for (const [state, n] of by) g.set({ state }, n)
  })
  gauge(registry, 'petalmesh_coverage_ratio', 'Fraction of blocks with at least one online server (0..1)', [], g => { g.set(coverage().coveragePercent / 100) })
  gauge(registry, 'petalmesh_covered_blocks', 'Blocks with at least one online server', [], g => { g.set(coverage().coveredBlocks) })
  gauge(registry, 'petalmesh_ready_for_inference', '1 when every block has an online server', [], g => { g.set(coverage().readyForInference ? 1 : 0) })
  gauge(registry, 'petalmesh_replication_min', 'Online servers of the least replicated block', [], g => { g.set(coverage().minReplication) })
  gauge(registry, 'petalmesh_replication_avg', 'Online servers per block, averaged over blocks', [], g => { g.set(coverage().avgReplication) })
  gauge(registry, 'petalmesh_replication_target', 'Configured target of servers per block', [], g => { g.set(node.config.swarm.replication) })
  gauge(registry, 'petalmesh_bottleneck_throughput', 'Summed throughput of the weakest block (tokens/s)', [], g => { g.set(coverage().bottleneckThroughput) })
  gauge(registry, 'petalmesh_online_nodes', 'Nodes in state online (this node included)', [], g => { g.set(coverage().onlineNodes) })
  gauge(registry, 'petalmesh_peer_state', 'Each member\'s current state (value 1; offline covers offline and left)', ['peer', 'state'], g => {
    g.reset()
    let n = 0
    for (const m of membership.view.all()) {
      if (n++ >= maxPeers) break
      g.set({ peer: m.peerId, state: m.liveness === 'alive' || m.liveness === 'suspect' ? m.state : 'offline' }, 1)
    }
  })

  // ---- this node ----
  gauge(registry, 'petalmesh_node_state', 'This node\'s announced state (1 for the current state, 0 for the others)', ['state'], g => {
    const s = membership.selfState().state
    for (const state of NODE_STATES) g.set({ state }, state === s ? 1 : 0)
  })
  gauge(registry, 'petalmesh_node_span_blocks', 'Blocks this node serves or has claimed', [], g => {
    const s = membership.selfState().span
    g.set(s == null ? 0 : s.end - s.start)
  })
  gauge(registry, 'petalmesh_node_loading_ratio', 'Petals loading progress of this node (0..1; 1 when nothing is loading)', [], g => {
    const l = membership.selfState().loading
    g.set(l == null || l.total <= 0 ? 1 : Math.min(1, l.done / l.total))
  })
  gauge(registry, 'petalmesh_uptime_seconds', 'Seconds since this node started', [], g => { g.set((Date.now() - node.startedAt) / 1000) })
  gauge(registry, 'petalmesh_connections', 'Open libp2p connections', [], g => { g.set(node.libp2p.getConnections().length) })
  gauge(registry, 'petalmesh_connected_peers', 'Connected libp2p peers', [], g => { g.set(node.libp2p.getPeers().length) })
  gauge(registry, 'petalmesh_heartbeat_delay_seconds', 'How late this node\'s last heartbeat was published (event-loop pressure)', [], g => {
    g.set(membership.stats.lastHeartbeatDelayMs / 1000)
  })

  // ---- gossip and wire ----
  const st = membership.stats
  mirror(registry, 'petalmesh_gossip_messages_published_total', 'Gossip messages this node published', ['kind'], () => [
    [{ kind: 'record' }, st.published.records], [{ kind: 'heartbeat' }, st.published.heartbeats], [{ kind: 'obituary' }, st.published.obituaries]
  ])
  mirror(registry, 'petalmesh_gossip_messages_received_total', 'Gossip messages accepted from other nodes', ['kind'], () => [
    [{ kind: 'record' }, st.received.records], [{ kind: 'heartbeat' }, st.received.heartbeats], [{ kind: 'obituary' }, st.received.obituaries]
  ])
  mirror(registry, 'petalmesh_gossip_messages_rejected_total', 'Messages rejected as invalid (their sender is penalised)', [], () => [[{}, st.rejected]])
  mirror(registry, 'petalmesh_gossip_messages_ignored_total', 'Messages ignored (stale, duplicate or tombstoned)', [], () => [[{}, st.ignored]])
  mirror(registry, 'petalmesh_gossip_bytes_total', 'Gossip payload bytes (published counts each recipient)', ['direction'], () => [
    [{ direction: 'out' }, st.bytesPublished], [{ direction: 'in' }, st.bytesReceived]
  ])
  mirror(registry, 'petalmesh_snapshots_total', 'Snapshot exchanges', ['direction'], () => [
    [{ direction: 'served' }, st.snapshotsServed], [{ direction: 'fetched' }, st.snapshotsFetched]
  ])
  mirror(registry, 'petalmesh_wire_bytes_total', 'Bytes on this node\'s connections (after encryption and muxing)', ['direction'], () => [
    [{ direction: 'out' }, node.wire.sent], [{ direction: 'in' }, node.wire.received]
  ])
  mirror(registry, 'petalmesh_wire_protocol_bytes_total', 'Application bytes per negotiated libp2p protocol', ['protocol', 'direction'], () => {
    const out: Array<[{ protocol: string, direction: string }, number]> = []
    for (const [protocol, c] of node.wire.byProtocol) {
      out.push([{ protocol, direction: 'out' }, c.sent], [{ protocol, direction: 'in' }, c.received])
    }
    return out
  })

  // ---- negotiation and Petals ----
  const moves = new Counter({ name: 'petalmesh_negotiation_moves_total', help: 'Span moves ordered by the coverage negotiation, by reason', labelNames: ['reason'], registers: [registry] })
  let spanChanges = 0
  let lastSpan = JSON.stringify(membership.selfState().span)
  const onSelf = (): void => {
    const now = JSON.stringify(membership.selfState().span)
    if (now !== lastSpan) { spanChanges++; lastSpan = now }
  }
  membership.on('self-published', onSelf)
  mirror(registry, 'petalmesh_span_changes_total', 'Times this node\'s announced span changed', [], () => [[{}, spanChanges]])
  let hookRestarts = 0
  let lastBridgeRestarts: number | null = null
  const restarts: Counter = new Counter({
    name: 'petalmesh_petals_restarts_total',
    help: 'Restarts of the supervised Petals server',
    registers: [registry],
    collect: () => {
      // The bridge keeps its own cumulative count: follow it (a daemon wires the bridge or the hook, not both).
      const p = opts.petals?.()
      if (p == null) return
      const prev = lastBridgeRestarts ?? 0
      if (p.restarts > prev) restarts.inc(p.restarts - prev)
      lastBridgeRestarts = p.restarts
    }
  })
  gauge(registry, 'petalmesh_petals_up', '1 when the supervised Petals server is online, else 0 (0 without a Petals backend)', [], g => {
    const p = opts.petals?.()
    if (p == null) g.reset()
    else g.set(p.state === 'online' ? 1 : 0)
  })
  mirror(registry, 'petalmesh_tokens_served_total', 'Tokens served by this node\'s Petals server', [], () => [[{}, membership.selfState().tokensTotal]])

  return {
    registry,
    contentType: registry.contentType,
    render: async () => {
      covAt = -1
      return await registry.metrics()
    },
    negotiationMove: (reason: string, count = 1) => { moves.inc({ reason }, count) },
    petalsRestart: (count = 1) => { hookRestarts += count; restarts.inc(count) },
    get petalsRestarts () { return hookRestarts },
    close: () => { membership.off('self-published', onSelf) }
  }
}
