import type { NodeState } from '../../src/protocols/types.ts'
import type { Route, RouteResult, RouteServer } from '../../src/protocols/routing/index.ts'

/** An online server holding `[start, end)` at `throughput` tokens/s. */
export function srv (peerId: string, start: number, end: number, throughput = 100, extra: Partial<RouteServer> & { state?: NodeState } = {}): RouteServer {
  return { peerId, state: 'online', span: { start, end }, capacity: end - start, throughput, ...extra }
}

export function routeOf (result: RouteResult): Route {
  if (!result.ok) throw new Error(`expected a route, got: ${result.error.message}`)
  return result.route
}

/** Hops as "peer start:end" strings, easy to compare with a hand-computed path. */
export function hopsOf (result: RouteResult): string[] {
  return routeOf(result).hops.map(h => `${h.peerId} ${h.span.start}:${h.span.end}`)
}
