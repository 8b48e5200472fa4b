import type { MemberInfo, Span } from '../types.ts'

/** A swarm member as the router sees it: the shared member data plus what a Petals client needs to reach it. */
export interface RouteServer extends MemberInfo {
  /** Peer id of the Petals server (hivemind DHT) this node supervises, if known. */
  petalsPeerId?: string | null
  /** Multiaddrs of that Petals server, usable as a client's `initial_peers`. */
  petalsMultiaddrs?: string[]
  /** Petals' `inference_rps`; when present, min-latency uses it instead of `throughput` for compute cost. */
  inferenceRps?: number | null
  /** Petals' `cache_tokens_left`; with `cacheTokensNeeded` it triggers the alloc penalty. */
  cacheTokensLeft?: number | null
}

/** One server in a route and the part of its span the route uses. */
export interface RouteHop {
  peerId: string
  span: Span
  throughput: number
  /** Client→server RTT used for routing; null when unknown, Infinity when the last ping failed. */
  rttMs: number | null
  petalsPeerId: string | null
  petalsMultiaddrs: string[]
}

export type RouteMode = 'min-latency' | 'max-throughput'

export interface Route {
  mode: RouteMode
  /** Contiguous hops covering `range` in order. */
  hops: RouteHop[]
  totalBlocks: number
  /** The blocks this route covers; `[0, totalBlocks)` unless a sub-range was asked for. */
  range: Span
  /** Cost of the route under the min-latency model (RTTs + overhead + compute), in ms per step. */
  estimatedLatencyMs?: number
  /** Lowest throughput among the hops: the pipeline cannot go faster than this. */
  bottleneckThroughput: number
  /** Banned servers used anyway because no unbanned server held some block (Petals does the same). */
  usedBannedPeers: string[]
}

/** Why no route exists. */
export interface MissingBlocksError {
  /** Blocks held by no online server at all. */
  missing: Span[]
  /** Blocks whose only online holders are banned (only when bans are not ignored as a last resort). */
  bannedOnly: Span[]
  message: string
}

export type RouteResult = { ok: true, route: Route } | { ok: false, error: MissingBlocksError }
