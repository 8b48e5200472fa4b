// The one result shape every simulator run reports, algorithm-level (sim/algo) or real network
// (sim/net). Scripts read these field names; a figure that does not apply to a run is null.

export type ScenarioName = 'cold-start' | 'join' | 'crash' | 'leave' | 'churn' | 'steady' | 'partition' | 'discovery'

export const SCENARIOS: readonly ScenarioName[] = ['cold-start', 'join', 'crash', 'leave', 'churn', 'steady', 'partition', 'discovery']

export interface SimResult {
  scenario: string
  /** Nodes at the start of the scenario (joiners come on top). */
  nodes: number
  blocks: number
  seed: number
  /** 'none' for the algorithm-level simulator, else the libp2p transport. */
  transport: string
  heartbeatMs: number
  /**
   * Every block covered and replication met (where capacity allows) at the end, and both were reached
   * during the run. null only when the scenario does not apply at this level.
   */
  converged: boolean | null
  /** From the scenario's trigger (start, or the failure) until every block is covered by a server or settled claim. 0 if never lost. */
  fullCoverageMs: number | null
  /** Same, until every block has the replication target (min(R, what capacity allows)). */
  replicationMs: number | null
  /** Claims made on a stale view that clashed with a concurrent claim (see each runner for the exact rule). */
  duplicateClaims: number | null
  /** Span changes by nodes that had loaded weights (each one a reload). */
  moves: number | null
  movesPerNodePerHour: number | null
  /** From a crash until peers see the member gone (mean). */
  detectMs: number | null
  /** From a failure until every block is back at the replication target, counting settled claims. */
  healMs: number | null
  /** Fraction of measured time during which every block had an online server, 0..1. */
  availability: number | null
  /** Time-averaged online bottleneck / upper bound (see src/protocols/coverage/upper-bound.ts), 0..1. */
  bottleneckRatio: number | null
  routeMs: number | null
  /** Control-plane bytes received per node per second (an estimate at the algorithm level). */
  bytesPerNodePerSec: number | null
  rssMbPerNode: number | null
  /** In-process runs: from the first node's start until every live node's view lists every other live node. */
  viewsCompleteMs?: number | null
  /** In-process runs: process CPU time (user + system) over the whole run / nodes. */
  cpuMsPerNode?: number | null
  /** Wall-clock time of the run. */
  wallMs: number
  /** The same run with the Petals baseline planner, when requested. */
  baseline?: SimResult | null
  /** Extra scenario- or level-specific figures. */
  extra?: Record<string, number | boolean | string | null>
}

/** A result with every metric still unmeasured (null), for a runner to fill in. */
export function emptySimResult (head: Pick<SimResult, 'scenario' | 'nodes' | 'blocks' | 'seed' | 'transport' | 'heartbeatMs'>): SimResult & { converged: boolean } {
  return {
    ...head,
    converged: false,
    fullCoverageMs: null,
    replicationMs: null,
    duplicateClaims: null,
    moves: null,
    movesPerNodePerHour: null,
    detectMs: null,
    healMs: null,
    availability: null,
    bottleneckRatio: null,
    routeMs: null,
    bytesPerNodePerSec: null,
    rssMbPerNode: null,
    wallMs: 0
  }
}
