// Settings shared by the two runners (petalmesh and the Petals baseline) and what each returns.
import type { CoverageParams } from '../../src/protocols/coverage/index.ts'
import type { TruthSummary } from './truth.ts'
import type { LatencyModel } from './world.ts'

export interface RunnerSettings {
  blocks: number
  replication: number
  seed: number
  heartbeatMs: number
  /** petalmesh planning slot. */
  slotMs: number
  latency: LatencyModel
  /** Crash → peers declare the member offline. */
  detectMs: number
  /** Initial weight load, and a reload after a move (each ×U(0.8, 1.2)). */
  loadMs: number
  reloadMs: number
  /** Bottleneck sampling period. */
  sampleMs: number
  /** A leaving petalmesh node waits at most this long for its blocks to be served elsewhere. */
  maxDrainMs: number
  /** Bytes of a membership record and of a heartbeat on the wire, and average deliveries per message (gossip duplicates). */
  recordBytes: number
  heartbeatBytes: number
  gossipCopies: number
  coverage: Partial<CoverageParams>
  petals: PetalsSettings
}

export interface PetalsSettings {
  /** mean_block_selection_delay: sleep U(0, 2×) before choosing. */
  meanSelectionDelayMs: number
  /** mean_balance_check_period: check every U(0, 2×). */
  meanBalanceCheckMs: number
  balanceQuality: number
  /** Cap on should_choose_other_blocks re-shuffle passes (Petals: none). */
  maxPasses: number
  /**
   * Share one re-shuffle (the expensive half of should_choose_other_blocks) among all checks made on an
   * identical view, instead of one per check. Petals runs it per server with its own shuffle; the shared
   * estimate is the same computation with one random order. Needed to simulate thousands of servers.
   */
  shareReshuffle: boolean
  /** With shareReshuffle: reuse the last estimate for this long even if the view changed (0 = never). */
  reshuffleRefreshMs: number
  /** DHT announce period, replicas per key, and bytes per server entry in a DHT reply. */
  updatePeriodMs: number
  replicasPerKey: number
  entryBytes: number
}

export interface RunnerOutput {
  summary: TruthSummary
  moves: number
  duplicateClaims: number
  detectMs: number | null
  bytesPerNodePerSec: number
  wallMs: number
  extra: Record<string, number | boolean | string | null>
}
