import type { Span } from '../types.ts'
import type { BanList } from './bans.ts'
import {
  PETALS_ALLOC_DELAY_MS,
  PETALS_DEFAULT_INFERENCE_RPS,
  PETALS_DEFAULT_RTT_MS,
  PETALS_MAX_RTT_MS,
  PETALS_OVERHEAD_DELAY_MS,
  PETALS_UNREACHABLE_WEIGHT
} from './constants.ts'
import { clipSpan, describeMissing, uncovered } from './missing.ts'
import { seededRng } from './rng.ts'
import { compareCodeUnits as compareIds } from '../../util/compare.ts'
import type { Rng } from './rng.ts'
import type { MissingBlocksError, Route, RouteHop, RouteMode, RouteResult, RouteServer } from './types.ts'

/** Knobs of the min-latency cost model; defaults are Petals' `_build_inference_graph` numbers. */
export interface RouteCostModel {
  /** RTT assumed for a server we have not pinged. */
  defaultRttMs: number
  /** RTTs above this (including Infinity = ping failed) are clamped: a slow server is penalised, not dropped. */
  maxRttMs: number
  /** Fixed cost of every hop (serialization). */
  overheadMs: number
  /** Added to a hop whose server lacks attention cache for `cacheTokensNeeded`. */
  allocPenaltyMs: number
  /** Compute speed assumed when a server announces neither `inferenceRps` nor a positive `throughput`. */
  defaultInferenceRps: number
}

export const DEFAULT_COST_MODEL: Readonly<RouteCostModel> = Object.freeze({
  defaultRttMs: PETALS_DEFAULT_RTT_MS,
  maxRttMs: PETALS_MAX_RTT_MS,
  overheadMs: PETALS_OVERHEAD_DELAY_MS,
  allocPenaltyMs: PETALS_ALLOC_DELAY_MS,
  defaultInferenceRps: PETALS_DEFAULT_INFERENCE_RPS
})

export interface FindRouteInput {
  /** Number of transformer blocks of the model (L); blocks are `0..L-1`. */
  totalBlocks: number
  /** The swarm view. Only `online` servers with a span are used. */
  servers: readonly RouteServer[]
  mode: RouteMode
  /** Client→server RTTs in ms by petalmesh peer id; Infinity marks a failed ping. */
  rtts?: ReadonlyMap<string, number>
  bans?: BanList
  /** Clock for `bans` (ms); defaults to Date.now(). */
  now?: number
  /** Seed for max-throughput's random choice; same seed and input, same route. */
  seed?: number | string
  /** Random source for max-throughput, overriding `seed`. */
  rng?: Rng
  /** Route only these blocks (e.g. to replace a failed hop, as Petals' inference sessions do). */
  range?: Span
  /** Tokens of attention cache the session needs (Petals' `cache_tokens_needed`), for the alloc penalty. */
  cacheTokensNeeded?: number | null
  /**
   * Petals keeps banned servers for a block when every holder of that block is banned ("the error may
   * actually be client-caused"). Default true; false reports such blocks as unavailable instead.
   */
  ignoreBansAsLastResort?: boolean
  costs?: Partial<RouteCostModel>
  /** max-throughput weighting: Petals' `span-length` (default, fewer hops) or `throughput`. */
  maxThroughputWeight?: 'span-length' | 'throughput'
}

/** A server eligible for routing, with its span clipped to the requested range and its hop costs. */
interface Candidate {
  server: RouteServer
  span: Span
  /** Cost of entering this server: RTT + overhead (+ alloc penalty). */
  hopMs: number
  /** Compute cost per block. */
  blockMs: number
}

/**
 * Build a chain of online servers covering `range` (default every block).
 *
 * - `min-latency`: exact shortest path over block boundaries `0..L`. From boundary `a`, every server
 *   holding block `a` gives an edge to each boundary `b` up to its span end, costing
 *   `rtt + overhead (+ alloc penalty) + (b − a) × 1000 / rps` ms. Petals sums one-way delays
 *   (client→first rtt/2, server→server, last→client rtt/2); estimating a server→server delay as the sum
 *   of both halves seen from the client, that total is Σ rtt over hops, which is why a hop costs a
 *   full RTT here. Unlike Petals we also let a hop leave a server before its span ends, a superset of
 *   Petals' graph, so the result is never worse. Edges only go forward, so relaxing boundaries in order
 *   is Dijkstra on a DAG. Ties go to fewer hops, then the smaller peer id, then to using the
 *   earlier server longer (Petals' run-to-span-end).
 * - `max-throughput`: Petals' walk. At the first uncovered block pick one server holding it at random,
 *   weighted by its span length (or throughput), unreachable servers (RTT = Infinity) at weight 1e-6,
 *   use it to the end of its span and repeat. Servers are sorted by peer id first so the choice depends
 *   only on the seed, not on input order.
 */
export function findRoute (input: FindRouteInput): RouteResult {
  const { totalBlocks } = input
  if (!Number.isInteger(totalBlocks) || totalBlocks < 0) throw new RangeError(`totalBlocks must be a non-negative integer, got ${totalBlocks}`)
  const range = input.range ?? { start: 0, end: totalBlocks }
  if (!Number.isInteger(range.start) || !Number.isInteger(range.end) || range.start < 0 || range.end > totalBlocks || range.start > range.end) {
    throw new RangeError(`range ${range.start}:${range.end} is not within 0:${totalBlocks}`)
  }
  const costs: RouteCostModel = { ...DEFAULT_COST_MODEL, ...input.costs }
  const rtts = input.rtts ?? new Map<string, number>()

  const selected = selectServers(input, range)
  if (!selected.ok) return selected

  const whole = { start: 0, end: totalBlocks }
  const candidates = selected.servers.map(server => toCandidate(server, clipSpan(server.span, range) as Span, whole, rtts, costs, input.cacheTokensNeeded))

  const picked = input.mode === 'min-latency'
    ? shortestPath(candidates, range)
    : weightedWalk(candidates, range, rtts, input.maxThroughputWeight ?? 'span-length', input.rng ?? (input.seed != null ? seededRng(input.seed) : Math.random))

  const hops = picked.map(({ c, span }) => toHop(c.server, span, rtts))
  const used = new Set(hops.map(h => h.peerId))
  return {
    ok: true,
    route: {
      mode: input.mode,
      hops,
      totalBlocks,
      range: { ...range },
      estimatedLatencyMs: picked.reduce((sum, { c, span }) => sum + c.hopMs + (span.end - span.start) * c.blockMs, 0),
      bottleneckThroughput: hops.length === 0 ? 0 : Math.min(...hops.map(h => h.throughput)),
      usedBannedPeers: selected.readmitted.filter(id => used.has(id))
    }
  }
}

type Selection = { ok: true, servers: RouteServer[], readmitted: string[] } | { ok: false, error: MissingBlocksError }

/** Online servers overlapping `range`, minus banned ones unless a block would be left without any. */
function selectServers (input: FindRouteInput, range: Span): Selection {
  const seen = new Set<string>()
  const online: RouteServer[] = []
  for (const s of [...input.servers].sort((a, b) => compareIds(a.peerId, b.peerId))) {
    if (s.state !== 'online' || clipSpan(s.span, range) == null || seen.has(s.peerId)) continue
    seen.add(s.peerId)
    online.push(s)
  }
  const now = input.now ?? Date.now()
  const isBanned = (s: RouteServer): boolean => input.bans?.isBanned(s.peerId, now) ?? false
  const free = online.filter(s => !isBanned(s))
  const banned = online.filter(isBanned)

  const gaps = uncovered(range, free.map(s => s.span))
  if (gaps.length === 0) return { ok: true, servers: free, readmitted: [] }

  const missing = uncovered(range, online.map(s => s.span))
  const bannedOnly = subtract(gaps, missing)
  const ignoreBans = input.ignoreBansAsLastResort ?? true
  if (missing.length > 0 || (!ignoreBans && bannedOnly.length > 0)) {
    const parts: string[] = []
    if (missing.length > 0) parts.push(describeMissing(missing) + (input.servers.every(s => s.state !== 'online') ? ' (no server in the swarm is online)' : ''))
    if (!ignoreBans && bannedOnly.length > 0) parts.push(describeMissing(bannedOnly, 'only banned servers'))
    return { ok: false, error: { missing, bannedOnly: ignoreBans ? [] : bannedOnly, message: parts.join('; ') } }
  }
  // Re-admit every banned server holding a block that nobody else holds, with its whole span (as Petals).
  const readmit = banned.filter(s => bannedOnly.some(g => clipSpan(s.span, g) != null))
  return {
    ok: true,
    servers: [...free, ...readmit].sort((a, b) => compareIds(a.peerId, b.peerId)),
    readmitted: readmit.map(s => s.peerId)
  }
}

/** Blocks in `a` but not in `b` (both sorted, disjoint, half-open). */
function subtract (a: readonly Span[], b: readonly Span[]): Span[] {
  const out: Span[] = []
  for (const span of a) out.push(...uncovered(span, b))
  return out
}

function toCandidate (server: RouteServer, span: Span, whole: Span, rtts: ReadonlyMap<string, number>, costs: RouteCostModel, cacheTokensNeeded: number | null | undefined): Candidate {
  const rtt = rtts.get(server.peerId)
  const rttMs = rtt == null || Number.isNaN(rtt) ? costs.defaultRttMs : Math.min(Math.max(rtt, 0), costs.maxRttMs)
  const rps = positive(server.inferenceRps) ?? positive(server.throughput) ?? costs.defaultInferenceRps
  // Petals checks the cache against the server's whole span: pessimistic, since we may use fewer blocks.
  const full = clipSpan(server.span, whole) ?? span
  const lacksCache = cacheTokensNeeded != null && server.cacheTokensLeft != null &&
    cacheTokensNeeded * 2 * (full.end - full.start) > server.cacheTokensLeft
  return { server, span, hopMs: rttMs + costs.overheadMs + (lacksCache ? costs.allocPenaltyMs : 0), blockMs: 1000 / rps }
}

function positive (x: number | null | undefined): number | null {
  return x != null && Number.isFinite(x) && x > 0 ? x : null
}

interface Label {
  cost: number
  hops: number
  /** Boundary (relative to range.start) the last hop started from. */
  prev: number
  via: Candidate | null
}

interface Picked { c: Candidate, span: Span }

function shortestPath (candidates: readonly Candidate[], range: Span): Picked[] {
  const n = range.end - range.start
  const best: Array<Label | null> = new Array<Label | null>(n + 1).fill(null)
  best[0] = { cost: 0, hops: 0, prev: -1, via: null }
  for (let a = 0; a < n; a++) {
    const from = best[a]
    if (from == null) continue // cannot happen once coverage is checked, kept for safety
    const block = range.start + a
    for (const c of candidates) {
      if (block < c.span.start || block >= c.span.end) continue
      for (let b = a + 1; b <= c.span.end - range.start; b++) {
        const label: Label = { cost: from.cost + c.hopMs + (b - a) * c.blockMs, hops: from.hops + 1, prev: a, via: c }
        if (better(label, best[b])) best[b] = label
      }
    }
  }
  const out: Picked[] = []
  for (let b = n; b > 0;) {
    const label = best[b] as Label
    const via = label.via as Candidate
    out.push({ c: via, span: { start: range.start + label.prev, end: range.start + b } })
    b = label.prev
  }
  return out.reverse()
}

function better (x: Label, y: Label | null): boolean {
  if (y == null) return true
  // Costs are sums of floats reached in different orders; treat near-equal as equal so ties are stable.
  const eps = 1e-9 * Math.max(1, Math.abs(x.cost), Math.abs(y.cost))
  if (x.cost < y.cost - eps) return true
  if (x.cost > y.cost + eps) return false
  if (x.hops !== y.hops) return x.hops < y.hops
  const byId = compareIds((x.via as Candidate).server.peerId, (y.via as Candidate).server.peerId)
  if (byId !== 0) return byId < 0
  // Last resort: start the last hop later, i.e. run the previous server to the end of its span as Petals does.
  return x.prev > y.prev
}

function weightedWalk (candidates: readonly Candidate[], range: Span, rtts: ReadonlyMap<string, number>, weighting: 'span-length' | 'throughput', rng: Rng): Picked[] {
  const out: Picked[] = []
  let cur = range.start
  while (cur < range.end) {
    const holders = candidates.filter(c => c.span.start <= cur && cur < c.span.end)
    const weights = holders.map(c => {
      if (rtts.get(c.server.peerId) === Infinity) return PETALS_UNREACHABLE_WEIGHT
      return weighting === 'throughput'
        ? positive(c.server.throughput) ?? PETALS_UNREACHABLE_WEIGHT
        : c.span.end - c.span.start
    })
    const total = weights.reduce((x, y) => x + y, 0)
    let r = rng() * total
    let chosen = holders[holders.length - 1]
    for (let i = 0; i < holders.length; i++) {
      r -= weights[i]
      if (r < 0) { chosen = holders[i]; break }
    }
    out.push({ c: chosen, span: { start: cur, end: chosen.span.end } })
    cur = chosen.span.end
  }
  return out
}

function toHop (server: RouteServer, span: Span, rtts: ReadonlyMap<string, number>): RouteHop {
  return {
    peerId: server.peerId,
    span,
    throughput: server.throughput,
    rttMs: rtts.get(server.peerId) ?? null,
    petalsPeerId: server.petalsPeerId ?? null,
    petalsMultiaddrs: [...(server.petalsMultiaddrs ?? [])]
  }
}
