// Reachability: how peers can reach this node (direct, UPnP-mapped, relayed) and what it does about it.
import type { PetalmeshConfig } from '../config.ts'
import type { NatOptions } from '../libp2p.ts'
import { upnpEnabled } from './decide.ts'

export { startReachabilityMonitor, type ReachabilityMonitor, type ReachabilityStatus } from './monitor.ts'
export { decideReachability, dhtModeFor, natDetected, upnpEnabled, type ReachabilityDecision, type ReachabilityInput } from './decide.ts'
export { probePeer, type ProbeResult } from './probe.ts'

/** libp2p NAT traversal options from the `network` config section (null on the memory transport). */
export function natOptionsFor (config: PetalmeshConfig, relayAllowed: () => boolean): NatOptions | undefined {
  const n = config.network
  if (n.transport !== 'tcp' || !n.natTraversal) return undefined
  return {
    autonat: n.autonat,
    relayServer: n.relayServer,
    relayMaxReservations: n.relayMaxReservations,
    relayMaxCircuitMs: n.relayMaxCircuitMs,
    relayMaxCircuitBytes: n.relayMaxCircuitBytes,
    holePunching: n.holePunching,
    upnp: upnpEnabled(n.upnp, n.transport, config.listen, n.reachability),
    relayAllowed
  }
}
