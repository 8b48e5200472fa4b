// How is this node reachable? A pure decision from what the network told us, so it can be tested
// without a network. The inputs come from libp2p (AutoNAT-verified addresses, UPnP mappings, relay
// reservations) and from identify (the address each peer saw our outbound connection come from).
import type { ReachabilityKind } from '../../protocols/membership/record.ts'

export type ReachabilityOverride = 'auto' | 'public' | 'private'

export interface ReachabilityInput {
  override: ReachabilityOverride
  /** The operator announces addresses (a port forward or a public IP they vouch for). */
  announced: boolean
  /** IPs of this host's own interfaces (what the transport listens on). */
  ownIps: readonly string[]
  /** IPs peers saw our direct (non-relayed) outbound connections come from, one entry per peer. */
  observedIps: readonly string[]
  /** Public addresses AutoNAT confirmed peers can dial (not UPnP mappings, not relays). */
  verifiedPublic: readonly string[]
  /** External addresses a UPnP/NAT-PMP gateway mapped to our listen port. */
  mapped: readonly string[]
  /** Our /p2p-circuit addresses (relay reservations held). */
  relayAddrs: readonly string[]
}

export interface ReachabilityDecision {
  reachability: ReachabilityKind
  /**
   * Whether peers can open connections to this node directly: true (serve the DHT, act as a relay),
   * false (DHT client, listen through relays), null (not known yet: keep the configured behaviour).
   */
  dialable: boolean | null
  /** Address translation seen between us and our peers. */
  natDetected: boolean
  /** One sentence for the log, /v1/status and `petalmesh doctor`. */
  reason: string
}

/**
 * A NAT sits between us and our peers when a peer saw our connection come from an IP that is not
 * one of ours. Loopback observations say nothing (same host), nor does an empty list.
 */
export function natDetected (ownIps: readonly string[], observedIps: readonly string[]): boolean {
  const own = new Set(ownIps.map(normalizeIp))
  return observedIps
    .map(normalizeIp)
    .some(ip => !isLoopbackIp(ip) && !own.has(ip))
}

export function decideReachability (input: ReachabilityInput): ReachabilityDecision {
  const nat = natDetected(input.ownIps, input.observedIps)
  const relayed = input.relayAddrs.length > 0
  if (input.override === 'public') {
    return { reachability: 'direct', dialable: true, natDetected: nat, reason: 'network.reachability is "public": the operator says peers can dial this node' }
  }
  if (input.override === 'private') {
    return {
      reachability: relayed ? 'relayed' : 'unknown',
      dialable: false,
      natDetected: nat,
      reason: relayed ? 'network.reachability is "private": reachable through a relay' : 'network.reachability is "private": looking for a relay'
    }
  }
  if (input.verifiedPublic.length > 0) {
    return { reachability: 'direct', dialable: true, natDetected: nat, reason: `AutoNAT: peers dialled ${input.verifiedPublic[0]} back` }
  }
  if (input.mapped.length > 0) {
    return { reachability: 'mapped', dialable: true, natDetected: nat, reason: `the router mapped ${input.mapped[0]} to this node (UPnP/NAT-PMP)` }
  }
  if (input.announced) {
    return { reachability: 'direct', dialable: true, natDetected: nat, reason: 'announce addresses are configured: the operator forwards them to this node' }
  }
  if (nat) {
    const seen = input.observedIps.find(ip => !input.ownIps.map(normalizeIp).includes(normalizeIp(ip))) ?? ''
    return {
      reachability: relayed ? 'relayed' : 'unknown',
      dialable: false,
      natDetected: true,
      reason: relayed
        ? `behind a NAT (peers see this node as ${seen}); reachable through a relay`
        : `behind a NAT (peers see this node as ${seen}); no relay reservation yet`
    }
  }
  if (input.observedIps.length > 0) {
    return { reachability: 'direct', dialable: true, natDetected: false, reason: 'peers see this node at its own address (no NAT between us)' }
  }
  return { reachability: relayed ? 'relayed' : 'unknown', dialable: null, natDetected: false, reason: 'no peer has reported our address yet' }
}

/** DHT mode for a reachability decision: a node peers cannot dial must not serve the DHT. */
export function dhtModeFor (configured: 'server' | 'client' | 'off', decision: ReachabilityDecision): 'server' | 'client' | 'off' {
  if (configured !== 'server') return configured
  return decision.dialable === false ? 'client' : 'server'
}

/**
 * UPnP is on when asked for, and in `auto` only where a router can be in the way: a TCP node that
 * listens beyond loopback and is not declared public. Tests and simulations (loopback or memory) never search the LAN.
 */
export function upnpEnabled (setting: 'auto' | 'on' | 'off', transport: 'tcp' | 'memory', listen: readonly string[], override: ReachabilityOverride): boolean {
  if (transport !== 'tcp' || setting === 'off') return false
  if (setting === 'on') return true
  if (override === 'public') return false
  return listen.some(a => !/^\/ip4\/127\.|^\/ip6\/::1\//.test(a))
}

function normalizeIp (ip: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  return (v4mapped != null ? v4mapped[1] : ip).toLowerCase()
}

function isLoopbackIp (ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1'
}

/** The IP and TCP port of a multiaddr string such as /ip4/1.2.3.4/tcp/31400/p2p/..., or null. */
export function ipPortOf (addr: string): { ip: string, family: 4 | 6, port: number | null } | null {
  const m = /^\/(ip4|ip6)\/([^/]+)(?:\/tcp\/(\d+))?/.exec(addr)
  if (m == null) return null
  return { ip: m[2], family: m[1] === 'ip4' ? 4 : 6, port: m[3] != null ? Number(m[3]) : null }
}
