// Which of Petals' network flags match how the node is reachable. Petals' own libp2p daemon (p2pd)
// runs AutoNAT, UPnP and auto-relay itself; petalmesh only tells it what it cannot find out alone:
// the public IP a directly reachable host is dialled at. It never turns Petals' relay off, because
// Petals' port (petals.port) may be firewalled where petalmesh's is not.
import type { PetalsConfig } from './config.ts'

export type PetalsReachability = 'unknown' | 'direct' | 'mapped' | 'relayed'

export interface PetalsReachabilityHint {
  reachability: PetalsReachability
  /** The public IP peers reach this host at (AutoNAT-verified or announced); null if none is known. */
  publicIp: string | null
}

export interface PetalsReachabilityArgs {
  args: string[]
  /** Why these flags (shown by `petals command` and logged at launch). */
  reason: string
}

export function petalsReachabilityArgs (config: Pick<PetalsConfig, 'publicIp' | 'announceMaddrs' | 'port'>, hint: PetalsReachabilityHint | null | undefined): PetalsReachabilityArgs {
  if (config.publicIp != null || config.announceMaddrs.length > 0) {
    return { args: [], reason: 'petals.publicIp / petals.announceMaddrs are configured: announcing those' }
  }
  if (hint == null || hint.reachability === 'unknown') {
    return { args: [], reason: 'reachability not known yet: Petals detects it itself (AutoNAT, UPnP, relays)' }
  }
  if (hint.reachability === 'direct') {
    if (hint.publicIp == null) return { args: [], reason: 'directly reachable on a network without a known public IP: Petals announces its interface addresses' }
    if (hint.publicIp.includes(':')) {
      return { args: ['--announce_maddrs', `/ip6/${hint.publicIp}/tcp/${config.port}`], reason: `directly reachable at ${hint.publicIp}: announcing Petals' port ${config.port} there` }
    }
    return { args: ['--public_ip', hint.publicIp], reason: `directly reachable at ${hint.publicIp}: announcing Petals' port ${config.port} there` }
  }
  if (hint.reachability === 'mapped') {
    return { args: [], reason: 'behind a router that maps ports (UPnP/NAT-PMP): Petals maps its own port the same way, relays stay on as a fallback' }
  }
  return { args: [], reason: 'behind a NAT without a port mapping: Petals\' own relays stay on (its DHT runs in client mode)' }
}
