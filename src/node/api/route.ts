// Routes for `/v1/route`: what a client of this swarm would compute right now. Unlike the node's own
// Router (which routes *from* this node through the others), the swarm a client sees includes this node
// when it serves, so it is added as a route server with a zero RTT (the API runs on it).
import { EventEmitter } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import { BanList, RttCache, findRoute, initialPeers, routeAffected, type Route, type RouteMode, type RouteServer, type SwarmChange } from '../../protocols/routing/index.ts'
import { routeServers, type RouteAnswer } from '../router.ts'
import type { SwarmEvent } from '../swarm-view.ts'
import { unreachableSet, type ApiNode } from './json.ts'

interface RoutePreviewEvents {
  /** A route handed out earlier is broken by a swarm change; `next` is the route recomputed at once. */
  changed: [{ mode: RouteMode, next: RouteAnswer, cause: SwarmEvent }]
}

export class RoutePreview extends EventEmitter<RoutePreviewEvents> {
  readonly rtts: RttCache
  readonly bans = new BanList()
  /** Last route computed per mode, to tell subscribers when a swarm change breaks it. */
  private readonly held = new Map<RouteMode, Route>()
  private readonly onSwarm = (e: SwarmEvent): void => { this.handleSwarmEvent(e) }

  constructor (private readonly node: ApiNode, opts: { pingTimeoutMs?: number } = {}) {
    super()
    this.rtts = new RttCache({
      timeoutMs: opts.pingTimeoutMs ?? 1000,
      ping: async (peerId, signal) => await node.libp2p.services.ping.ping(peerIdFromString(peerId), { signal })
    })
    node.membership.on('swarm', this.onSwarm)
  }

  close (): void {
    this.node.membership.off('swarm', this.onSwarm)
    this.held.clear()
  }

  servers (): RouteServer[] {
    const servers = routeServers(this.node.membership, unreachableSet(this.node))
    if (this.node.config.swarm.role === 'server') {
      const s = this.node.membership.selfState()
      servers.push({
        peerId: this.node.peerId,
        state: s.state,
        span: s.span,
        capacity: s.capacity,
        throughput: s.throughput,
        petalsPeerId: s.petals?.peerId ?? null,
        petalsMultiaddrs: s.petals?.multiaddrs ?? []
      })
    }
    return servers
  }

  async route (opts: { mode: RouteMode, measure: boolean }): Promise<RouteAnswer> {
    const servers = this.servers()
    const self = this.node.peerId
    if (opts.measure) await this.rtts.measure(servers.filter(s => s.state === 'online' && s.peerId !== self).map(s => s.peerId))
    const rtts = this.rtts.snapshot()
    rtts.set(self, 0)
    const result = findRoute({
      totalBlocks: this.node.membership.totalBlocks,
      servers,
      mode: opts.mode,
      rtts,
      bans: this.bans,
      now: Date.now(),
      seed: self
    })
    if (result.ok) this.held.set(opts.mode, result.route)
    else this.held.delete(opts.mode)
    return { result, initialPeers: result.ok ? initialPeers(result.route) : [], computedAt: Date.now() }
  }

  private handleSwarmEvent (e: SwarmEvent): void {
    let change: SwarmChange | null = null
    if (e.type === 'member-offline') change = { kind: 'failed', peerId: e.peerId }
    else if (e.type === 'member-left') change = { kind: 'left', peerId: e.peerId }
    else if (e.type === 'member-updated' && (e.spanChanged || e.stateChanged)) {
      change = { kind: 'updated', member: { peerId: e.peerId, state: e.member.state, span: e.member.record.span } }
    }
    if (change == null) return
    for (const [mode, route] of [...this.held]) {
      if (!routeAffected(route, change)) continue
      this.held.delete(mode)
      void this.route({ mode, measure: false }).then(next => { this.emit('changed', { mode, next, cause: e }) }, () => {})
    }
  }
}
