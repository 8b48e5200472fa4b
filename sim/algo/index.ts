// Algorithm-level simulator: the coverage planners on a simulated clock, no libp2p. Runs petalmesh and,
// when asked, the Petals baseline on the identical seeded swarm, failures and gossip delays.
import type { CoverageParams } from '../../src/protocols/coverage/index.ts'
import { SCENARIOS, type ScenarioName, type SimResult } from '../types.ts'
import { runBaseline } from './baseline-run.ts'
import { runPetalmesh } from './petalmesh-run.ts'
import type { RunnerOutput, RunnerSettings } from './runner-types.ts'
import { buildScript, type Script } from './script.ts'
import type { SwarmMix } from './swarm-gen.ts'

export interface AlgoOptions {
  scenario: string
  nodes: number
  /** Model blocks; default 80. */
  blocks?: number
  seed?: number
  /** Membership heartbeat; petalmesh plans every heartbeat/4. Default 5000. */
  heartbeatMs?: number
  /** Also run the Petals baseline planner and attach it as `baseline`. */
  baseline?: boolean
  /** Replication target R; default 2. */
  replication?: number
  /** Simulated duration; default 1 h (churn 2 h). */
  durationMs?: number
  /** Weight load time and reload time after a move; default 10 min each (±20 % per load). */
  loadMs?: number
  reloadMs?: number
  /** Failure detection; default 3 heartbeats. */
  detectMs?: number
  /** Per-message gossip latency range; default [50, 200] ms. */
  latencyMs?: [number, number]
  /** cold-start: spread of process start times; default 0 (all at once). */
  startJitterMs?: number
  /** crash/leave: how many nodes; default 5 % (≥ 1). */
  kill?: number
  /** join: how many joiners; default 10 %. */
  joiners?: number
  /** churn: share of nodes replaced per hour; default 0.2. */
  churnPerHour?: number
  mix?: SwarmMix
  /** Share of nodes with capacity below one block; default 0. */
  tinyShare?: number
  /** petalmesh planner parameters (minGain, cooldown, …). */
  coverage?: Partial<CoverageParams>
  /** Cap on the baseline's re-shuffle passes; default: none below 10^6 node×blocks, else 3. */
  petalsMaxPasses?: number
  /** Run the baseline's re-shuffle per check even on big swarms (slow); default only below 4000 node×blocks. */
  petalsExactReshuffle?: boolean
  sampleMs?: number
}

// Byte model (estimates; the network simulator measures real bytes):
const RECORD_BYTES = 200 // signed membership record: peer id, state, span, capacity, throughput, seq, since
const HEARTBEAT_BYTES = 110 // signed liveness beacon: peer id, seq, timestamp, signature
const GOSSIP_COPIES = 2 // average deliveries of one gossipsub message to a node (mesh duplicates)
const PETALS_ENTRY_BYTES = 150 // one msgpack ServerInfo entry in a DHT reply

function isScenario (s: string): s is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(s)
}

function emptyResult (o: AlgoOptions, scenario: string, blocks: number, seed: number, heartbeatMs: number): SimResult {
  return {
    scenario, nodes: o.nodes, blocks, seed, transport: 'none', heartbeatMs, converged: null,
    fullCoverageMs: null, replicationMs: null, duplicateClaims: null, moves: null, movesPerNodePerHour: null,
    detectMs: null, healMs: null, availability: null, bottleneckRatio: null, routeMs: null,
    bytesPerNodePerSec: null, rssMbPerNode: null, wallMs: 0
  }
}

function toResult (o: AlgoOptions, script: Script, s: RunnerSettings, out: RunnerOutput): SimResult {
  const sum = out.summary
  const failure = script.crashes.length + script.leaves.length > 0
  const hours = script.durationMs / 3_600_000
  const round = (x: number | null, d = 0): number | null => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d)
  const healMs = !failure ? null : script.scenario === 'churn' ? (sum.meanBrokenMs ?? 0) : sum.replicationMs
  return {
    scenario: script.scenario,
    nodes: o.nodes,
    blocks: s.blocks,
    seed: s.seed,
    transport: 'none',
    heartbeatMs: s.heartbeatMs,
    converged: sum.fullCoverageMs != null && sum.replicationMs != null && sum.coveredAtEnd && sum.replicatedAtEnd,
    fullCoverageMs: round(sum.fullCoverageMs),
    replicationMs: round(sum.replicationMs),
    duplicateClaims: out.duplicateClaims,
    moves: out.moves,
    movesPerNodePerHour: round(out.moves / Math.max(1, o.nodes) / hours, 4),
    detectMs: script.crashes.length > 0 ? round(out.detectMs) : null,
    healMs: round(healMs),
    availability: round(sum.availability, 4),
    bottleneckRatio: round(sum.bottleneckRatio, 4),
    routeMs: null,
    bytesPerNodePerSec: round(out.bytesPerNodePerSec),
    rssMbPerNode: null,
    wallMs: Math.round(out.wallMs),
    extra: { finalRatio: round(sum.finalRatio, 4), brokenEpisodes: sum.brokenEpisodes, replicatedShare: round(sum.replicatedShare, 4), durationMs: script.durationMs, ...out.extra }
  }
}

/** Runs one scenario (and the Petals baseline on the same seed if `baseline`). Synchronous. */
export function runAlgoScenario (o: AlgoOptions): SimResult {
  const blocks = o.blocks ?? 80
  const seed = o.seed ?? 1
  const heartbeatMs = o.heartbeatMs ?? 5000
  if (!isScenario(o.scenario)) throw new Error(`unknown scenario ${JSON.stringify(o.scenario)}; choose one of ${SCENARIOS.join(', ')}`)
  if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new Error(`nodes must be a positive integer, got ${o.nodes}`)
  if (o.scenario === 'partition' || o.scenario === 'discovery') {
    // Nothing to simulate without a network: every figure is null.
    const r = emptyResult(o, o.scenario, blocks, seed, heartbeatMs)
    if (o.baseline === true) r.baseline = emptyResult(o, o.scenario, blocks, seed, heartbeatMs)
    return r
  }
  const loadMs = o.loadMs ?? 600_000
  const durationMs = o.durationMs ?? (o.scenario === 'churn' ? 7_200_000 : 3_600_000)
  const script = buildScript({
    scenario: o.scenario,
    nodes: o.nodes,
    blocks,
    seed,
    mix: o.mix ?? 'hetero',
    tinyShare: o.tinyShare ?? 0,
    durationMs,
    loadMs,
    kill: o.kill,
    joiners: o.joiners,
    startJitterMs: o.startJitterMs ?? 0,
    churnPerHour: o.churnPerHour ?? 0.2
  })
  const [minMs, maxMs] = o.latencyMs ?? [50, 200]
  const settings: RunnerSettings = {
    blocks,
    replication: o.replication ?? 2,
    seed,
    heartbeatMs,
    slotMs: heartbeatMs / 4,
    latency: { minMs, maxMs },
    detectMs: o.detectMs ?? 3 * heartbeatMs,
    loadMs,
    reloadMs: o.reloadMs ?? 600_000,
    sampleMs: o.sampleMs ?? 10_000,
    maxDrainMs: (o.reloadMs ?? 600_000) + 60_000,
    recordBytes: RECORD_BYTES,
    heartbeatBytes: HEARTBEAT_BYTES,
    gossipCopies: GOSSIP_COPIES,
    coverage: o.coverage ?? {},
    petals: {
      meanSelectionDelayMs: 5000,
      meanBalanceCheckMs: 60_000,
      balanceQuality: 0.75,
      maxPasses: o.petalsMaxPasses ?? (o.nodes * blocks > 1_000_000 ? 3 : Infinity),
      shareReshuffle: o.petalsExactReshuffle === true ? false : o.nodes * blocks > 4000,
      reshuffleRefreshMs: o.nodes * blocks > 1_000_000 ? 60_000 : 0,
      updatePeriodMs: 120_000,
      replicasPerKey: 5,
      entryBytes: PETALS_ENTRY_BYTES
    }
  }
  const result = toResult(o, script, settings, runPetalmesh(script, settings))
  if (o.baseline === true) result.baseline = toResult(o, script, settings, runBaseline(script, settings))
  return result
}

export type { SimResult } from '../types.ts'
