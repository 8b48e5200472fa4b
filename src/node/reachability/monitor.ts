// Watches how the node is reachable and acts on it: DHT client/server mode, listening through relays,
// the reachability field of the node's record, Petals' flags. Also brings the node back after its
// network drops: when it has peers again it re-announces at once, and a change of the host's
// interfaces (Wi-Fi, DHCP, sleep) redials without waiting for the dialer's backoff.
import { networkInterfaces } from 'node:os'
import { isPrivateIp as libp2pIsPrivateIp } from '@libp2p/utils'
import type { Connection, PeerId, IdentifyResult } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { PetalmeshLibp2p } from '../libp2p.ts'
import type { Membership } from '../membership.ts'
import type { PetalmeshConfig } from '../config.ts'
import type { ReachabilityKind } from '../../protocols/membership/record.ts'
import type { PetalsReachabilityHint } from '../../petals-bridge/reachability-args.ts'
import { decideReachability, dhtModeFor, ipPortOf, type ReachabilityDecision } from './decide.ts'
import { startGossipLinkRepair } from './gossip-links.ts'

export interface ReachabilityStatus {
  reachability: ReachabilityKind
  /** true: peers can dial us; false: they cannot (relays, DHT client); null: not known yet. */
  dialable: boolean | null
  natDetected: boolean
  reason: string
  override: 'auto' | 'public' | 'private'
  dhtMode: 'server' | 'client' | 'off'
  /** The TCP port peers would have to reach (the first TCP listen port). */
  listenPort: number | null
  /** Addresses peers saw our outbound connections come from. */
  observedAddrs: string[]
  /** Public addresses AutoNAT verified. */
  verifiedAddrs: string[]
  /** External addresses mapped by UPnP/NAT-PMP. */
  mappedAddrs: string[]
  /** Our /p2p-circuit addresses. */
  relayAddrs: string[]
  relayClient: { enabled: boolean, listening: boolean }
  relayServer: { enabled: boolean, serving: boolean }
  natTraversal: boolean
  connections: { direct: number, relayed: number }
  /** Connected peers hung up because their gossip link was broken (see gossip-links.ts). */
  gossipLinksRepaired: number
  since: number
}

export interface ReachabilityMonitor {
  status: () => ReachabilityStatus
  petalsHint: () => PetalsReachabilityHint
  /** Whether this node may relay for others now (consulted per reservation request). */
  relayAllowed: () => boolean
  stop: () => void
}

export interface ReachabilityMonitorOptions {
  libp2p: PetalmeshLibp2p
  membership: Membership
  config: PetalmeshConfig
  log: Logger
  /** Called when the node should redial now (network change, isolation). */
  redial?: () => void
  /** How often to re-evaluate without an event (ms). */
  evaluateMs?: number
  /** How often to look at the host's interfaces (ms). */
  interfacesMs?: number
}

const OBSERVATION_TTL_MS = 30 * 60_000

function isRelayed (c: Connection): boolean {
  return c.limits != null || c.remoteAddr.toString().includes('/p2p-circuit')
}

function interfaceIps (): string[] {
  return Object.values(networkInterfaces()).flatMap(list => (list ?? []).map(i => i.address))
}

function externalIps (): string[] {
  return Object.values(networkInterfaces()).flatMap(list => (list ?? []).filter(i => !i.internal).map(i => i.address))
}

function interfaceSignature (): string {
  return Object.entries(networkInterfaces())
    .flatMap(([name, list]) => (list ?? []).filter(i => !i.internal).map(i => `${name}=${i.address}`))
    .sort().join(',')
}

export function startReachabilityMonitor (opts: ReachabilityMonitorOptions): ReachabilityMonitor {
  const { libp2p, membership, config, log } = opts
  const net = config.network
  const hooks = libp2p.services.reachabilityHooks
  const observed = new Map<string, { ip: string, addr: string, at: number }>()
  let decision: ReachabilityDecision = { reachability: 'unknown', dialable: null, natDetected: false, reason: 'starting' }
  let since = Date.now()
  let lastAddrs = ''
  let isolated = false
  let ifaces = interfaceSignature()
  let stopped = false
  const timers: Array<ReturnType<typeof setInterval>> = []

  const configuredDht = config.swarm.role === 'client' ? 'client' : net.dhtMode

  const facts = (): { verified: string[], mapped: string[], relay: string[] } => {
    const addrs = hooks?.addresses() ?? []
    return {
      verified: addrs.filter(a => a.verified && a.type !== 'ip-mapping' && !a.addr.includes('/p2p-circuit') && ipPortOf(a.addr) != null && !isPrivateIp(ipPortOf(a.addr)!.ip)).map(a => a.addr),
      mapped: addrs.filter(a => a.type === 'ip-mapping').map(a => a.addr),
      relay: libp2p.getMultiaddrs().map(String).filter(a => a.includes('/p2p-circuit'))
    }
  }

  const evaluate = (): void => {
    if (stopped) return
    const now = Date.now()
    for (const [p, o] of observed) if (now - o.at > OBSERVATION_TTL_MS) observed.delete(p)
    const f = facts()
    const next = decideReachability({
      override: net.reachability,
      announced: config.announce.length > 0,
      ownIps: interfaceIps(),
      observedIps: [...observed.values()].map(o => o.ip),
      verifiedPublic: f.verified,
      mapped: f.mapped,
      relayAddrs: f.relay
    })
    if (next.reachability !== decision.reachability || next.dialable !== decision.dialable) {
      const prev = decision
      decision = next
      since = now
      const dhtMode = dhtModeFor(configuredDht, next)
      log.info({ reachability: next.reachability, previous: prev.reachability, dialable: next.dialable, natDetected: next.natDetected, dhtMode, reason: next.reason },
        `reachability: ${next.reachability}${next.dialable === false ? ' (peers cannot dial this node)' : next.dialable === true ? ' (peers can dial this node)' : ''}: ${next.reason}`)
      void apply(next, dhtMode)
    } else {
      decision = next
    }
    // New or lost relay/mapped addresses change how peers dial us: tell them.
    const addrs = libp2p.getMultiaddrs().map(String).sort().join(',')
    if (addrs !== lastAddrs) {
      const first = lastAddrs === ''
      lastAddrs = addrs
      if (!first && membership.role === 'server' && membership.selfRecord() != null) void membership.publishRecord().catch(() => {})
    }
  }

  const apply = async (d: ReachabilityDecision, dhtMode: 'server' | 'client' | 'off'): Promise<void> => {
    const dht = libp2p.services.dht
    if (dht != null && dhtMode !== 'off' && dht.getMode() !== dhtMode) {
      try {
        await dht.setMode(dhtMode)
        log.info({ dhtMode }, dhtMode === 'client' ? 'DHT switched to client mode: peers cannot dial this node, so it does not serve DHT queries' : 'DHT switched to server mode')
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not switch the DHT mode')
      }
    }
    if (d.dialable === false && net.relayClient && hooks != null && !hooks.relayListening()) {
      try {
        await hooks.listenOnRelays()
        log.info('looking for a relay: this node will be reachable through a relay peer (circuit relay v2)')
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not listen through relays')
      }
    }
    if (membership.selfState().reachability !== d.reachability) await membership.updateSelf({ reachability: d.reachability }).catch(() => {})
  }

  const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { connection, observedAddr, peerId } = evt.detail
    // Only our own outbound, direct connections tell us how our traffic leaves the host.
    if (observedAddr == null || connection.direction !== 'outbound' || isRelayed(connection)) return
    const ip = ipPortOf(observedAddr.toString())
    if (ip == null) return
    observed.set(peerId.toString(), { ip: ip.ip, addr: observedAddr.toString(), at: Date.now() })
    schedule()
  }
  let pending: ReturnType<typeof setTimeout> | undefined
  const schedule = (): void => {
    if (pending != null || stopped) return
    pending = setTimeout(() => { pending = undefined; evaluate() }, 300)
  }
  const onSelfUpdate = (): void => { schedule() }
  const onDisconnect = (): void => {
    if (libp2p.getPeers().length === 0 && !isolated) {
      isolated = true
      log.warn('lost every connection: redialling bootstrap and known peers')
      opts.redial?.()
    }
  }
  const onConnect = (evt: CustomEvent<PeerId>): void => {
    if (!isolated) return
    isolated = false
    log.info({ peer: evt.detail.toString() }, 'connected again: re-announcing this node')
    // Give gossipsub a moment to exchange subscriptions, then tell the swarm we are back.
    setTimeout(() => {
      if (stopped) return
      void (async () => {
        await membership.syncFrom(evt.detail.toString()).catch(() => false)
        if (membership.role === 'server' && membership.selfRecord() != null) {
          await membership.publishRecord().catch(() => {})
          await membership.publishHeartbeat().catch(() => {})
        }
      })()
    }, 500).unref()
  }

  libp2p.addEventListener('peer:identify', onIdentify)
  libp2p.addEventListener('self:peer:update', onSelfUpdate)
  libp2p.addEventListener('peer:disconnect', onDisconnect)
  libp2p.addEventListener('peer:connect', onConnect)
  timers.push(setInterval(evaluate, opts.evaluateMs ?? 5000))
  let upIps = new Set(externalIps())
  timers.push(setInterval(() => {
    const sig = interfaceSignature()
    if (sig === ifaces) return
    ifaces = sig
    // A new address (DHCP, another network) makes what peers saw of the old one stale; a link
    // going down and coming back with the same address does not (no flapping on every blip).
    const now = externalIps()
    if (now.some(ip => !upIps.has(ip))) {
      observed.clear()
      upIps = new Set(now)
    }
    log.info({ interfaces: sig }, 'network interfaces changed: redialling')
    opts.redial?.()
    schedule()
  }, opts.interfacesMs ?? 1000))
  for (const t of timers) t.unref()
  const gossipRepair = startGossipLinkRepair(libp2p, log)
  evaluate()

  const listenPort = (): number | null => {
    for (const a of config.listen) {
      const p = ipPortOf(a)
      if (p?.port != null && p.port !== 0) return p.port
    }
    const bound = libp2p.getMultiaddrs().map(String).map(ipPortOf).find(p => p?.port != null)
    return bound?.port ?? null
  }

  return {
    status: () => {
      const f = facts()
      const conns = libp2p.getConnections()
      const relayed = conns.filter(isRelayed).length
      return {
        reachability: decision.reachability,
        dialable: decision.dialable,
        natDetected: decision.natDetected,
        reason: decision.reason,
        override: net.reachability,
        dhtMode: libp2p.services.dht?.getMode() ?? 'off',
        listenPort: listenPort(),
        observedAddrs: [...new Set([...observed.values()].map(o => o.addr))],
        verifiedAddrs: f.verified,
        mappedAddrs: f.mapped,
        relayAddrs: f.relay,
        relayClient: { enabled: net.relayClient && hooks != null, listening: hooks?.relayListening() ?? false },
        relayServer: { enabled: net.relayServer && hooks != null, serving: net.relayServer && hooks != null && decision.dialable !== false },
        natTraversal: hooks != null,
        connections: { direct: conns.length - relayed, relayed },
        gossipLinksRepaired: gossipRepair.repaired(),
        since
      }
    },
    petalsHint: () => {
      const f = facts()
      const pub = f.verified[0] ?? config.announce.map(a => ipPortOf(a)).find(p => p != null && !isPrivateIp(p.ip))?.ip ?? null
      return { reachability: decision.reachability, publicIp: pub == null ? null : (ipPortOf(pub)?.ip ?? pub) }
    },
    relayAllowed: () => decision.dialable !== false,
    stop: () => {
      stopped = true
      gossipRepair.stop()
      for (const t of timers) clearInterval(t)
      if (pending != null) clearTimeout(pending)
      libp2p.removeEventListener('peer:identify', onIdentify)
      libp2p.removeEventListener('self:peer:update', onSelfUpdate)
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      libp2p.removeEventListener('peer:connect', onConnect)
    }
  }
}

function isPrivateIp (ip: string): boolean {
  // libp2p's list of non-global ranges (RFC 1918, CGNAT, loopback, link-local, documentation...).
  return libp2pIsPrivateIp(ip) !== false
}
