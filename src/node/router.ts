// The client's side of routing on a live node: turns the swarm view into route servers, measures
// RTTs with libp2p ping, keeps bans, and re-routes at once when a server on the route goes away.
import { EventEmitter } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import { findRoute, initialPeers, routeAffected, BanList, RttCache, type Route, type RouteMode, type RouteResult, type RouteServer, type SwarmChange } from '../protocols/routing/index.ts'
import type { Membership } from './membership.ts'
import type { PetalmeshLibp2p } from './libp2p.ts'
import type { SwarmEvent } from './swarm-view.ts'

export interface RouterOptions {
  libp2p: PetalmeshLibp2p
  membership: Membership
  mode?: RouteMode
  pingTimeoutMs?: number
  /** Peers flagged as not serving what they announce (unreachable Petals port); never routed through. */
  excluded?: () => ReadonlySet<string>
}

export interface RouteAnswer {
  result: RouteResult
  initialPeers: string[]
  computedAt: number
}

interface RouterEvents {
  /** The held route broke (a server on it left, failed or changed span) and was recomputed. */
  rerouted: [{ previous: Route, next: RouteResult, cause: SwarmEvent }]
}

/** Route servers from the view: online members with what a Petals client needs. */
export function routeServers (membership: Membership, excluded: ReadonlySet<string> = new Set()): RouteServer[] {
  return membership.view.all()
    .filter(m => (m.liveness === 'alive' || m.liveness === 'suspect') && !excluded.has(m.peerId))
    .map(m => ({
      peerId: m.peerId,
      state: m.state,
      span: m.record.span,
      capacity: m.record.capacity,
      throughput: m.record.throughput,
      petalsPeerId: m.record.petals?.peerId ?? null,
      petalsMultiaddrs: m.record.petals?.multiaddrs ?? []
    }))
}

export class Router extends EventEmitter<RouterEvents> {
  readonly bans = new BanList()
  readonly rtts: RttCache
  private held: Route | null = null
  private readonly opts: RouterOptions
  private readonly onSwarm = (e: SwarmEvent): void => { this.handleSwarmEvent(e) }

  constructor (opts: RouterOptions) {
    super()
    this.opts = opts
    this.rtts = new RttCache({
      timeoutMs: opts.pingTimeoutMs ?? 1000,
      ping: async (peerId, signal) => await opts.libp2p.services.ping.ping(peerIdFromString(peerId), { signal })
    })
    opts.membership.on('swarm', this.onSwarm)
  }

  close (): void {
    this.opts.membership.off('swarm', this.onSwarm)
  }

  /** Computes a route from the live view; with `measure`, pings candidate servers first (in parallel, cached). */
  async route (opts: { mode?: RouteMode, measure?: boolean, measureBudgetMs?: number } = {}): Promise<RouteAnswer> {
    const servers = routeServers(this.opts.membership, this.opts.excluded?.())
    if (opts.measure !== false) {
      // Pings run in parallel and are cached; a route does not wait for the slowest of them:
      // servers not measured within the budget cost a default RTT guess (as in Petals).
      const measuring = this.rtts.measure(servers.filter(s => s.state === 'online').map(s => s.peerId)).catch(() => {})
      await Promise.race([measuring, new Promise(resolve => setTimeout(resolve, opts.measureBudgetMs ?? 300))])
    }
    const result = findRoute({
      totalBlocks: this.opts.membership.totalBlocks,
      servers,
      mode: opts.mode ?? this.opts.mode ?? 'min-latency',
      rtts: this.rtts.snapshot(),
      bans: this.bans,
      now: Date.now(),
      seed: this.opts.libp2p.peerId.toString()
    })
    if (result.ok) this.held = result.route
    return { result, initialPeers: result.ok ? initialPeers(result.route) : [], computedAt: Date.now() }
  }

  current (): Route | null { return this.held }

  /** A server failed us: ban it (exponential) and recompute without it. */
  reportFailure (peerId: string): void {
    this.bans.ban(peerId, Date.now())
  }

  private handleSwarmEvent (e: SwarmEvent): void {
    const held = this.held
    if (held == null) return
    let change: SwarmChange | null = null
    if (e.type === 'member-offline') change = { kind: 'failed', peerId: e.peerId }
    else if (e.type === 'member-left') change = { kind: 'left', peerId: e.peerId }
    else if (e.type === 'member-updated') {
      change = { kind: 'updated', member: { peerId: e.peerId, state: e.member.state, span: e.member.record.span } }
    }
    if (change == null || !routeAffected(held, change)) return
    // Recompute from the live view at once, without waiting for fresh pings.
    void this.route({ measure: false }).then(answer => {
      if (!answer.result.ok) this.held = null
      this.emit('rerouted', { previous: held, next: answer.result, cause: e })
    })
  }
}
