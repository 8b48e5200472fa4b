import type { MemberInfo } from '../types.ts'
import type { Route } from './types.ts'

/** A change in the swarm view that may break a route in use. */
export type SwarmChange =
  /** The peer left or disappeared from the view. */
  | { kind: 'left', peerId: string }
  /** A request to the peer failed (the client also bans it). */
  | { kind: 'failed', peerId: string }
  /** The peer announced a new record. */
  | { kind: 'updated', member: Pick<MemberInfo, 'peerId' | 'state' | 'span'> }

/**
 * Index of the first hop that `change` breaks, or -1. A hop breaks when its server leaves, fails,
 * stops being `online`, or no longer holds every block the hop uses. New servers and throughput
 * changes never break a route (they might improve it; the periodic refresh picks that up).
 */
export function firstAffectedHop (route: Route, change: SwarmChange): number {
  const peerId = change.kind === 'updated' ? change.member.peerId : change.peerId
  return route.hops.findIndex(hop => {
    if (hop.peerId !== peerId) return false
    if (change.kind !== 'updated') return true
    const { state, span } = change.member
    return state !== 'online' || span == null || span.start > hop.span.start || span.end < hop.span.end
  })
}

/** Whether `change` invalidates `route`, so the client should re-route now instead of at the next refresh. */
export function routeAffected (route: Route, change: SwarmChange): boolean {
  return firstAffectedHop(route, change) >= 0
}

/**
 * The `initial_peers` a Petals client needs for this route: the Petals multiaddrs of its servers in
 * route order, without duplicates. Petals wants full addresses, so `/p2p/<id>` is appended when missing.
 */
export function initialPeers (route: Route): string[] {
  const out = new Set<string>()
  for (const hop of route.hops) {
    for (const addr of hop.petalsMultiaddrs) {
      out.add(hop.petalsPeerId != null && !addr.includes('/p2p/') ? `${addr}/p2p/${hop.petalsPeerId}` : addr)
    }
  }
  return [...out]
}

/** Petals' `show_route` format: `0:40 via …vYA3Rn => 40:56 via …cz22Uj`. */
export function formatRoute (route: Route): string {
  return route.hops.map(h => `${h.span.start}:${h.span.end} via …${h.peerId.slice(-6)}`).join(' => ')
}
