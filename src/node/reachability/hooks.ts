// A tiny libp2p service that gives petalmesh's reachability monitor the two internal components it
// needs and libp2p's public API does not expose: the address manager (which addresses AutoNAT
// verified, which ones UPnP mapped) and the transport manager (to start listening on relays at run
// time, once we know peers cannot dial us).
import { multiaddr } from '@multiformats/multiaddr'
import type { AddressManager, TransportManager } from '@libp2p/interface-internal'

export interface ReachabilityHooksComponents {
  addressManager: AddressManager
  transportManager: TransportManager
}

export interface AddressFacts {
  addr: string
  type: 'transport' | 'announce' | 'observed' | 'dns-mapping' | 'ip-mapping'
  verified: boolean
}

export interface ReachabilityHooks {
  /** Our addresses with their origin and AutoNAT verdict. */
  addresses: () => AddressFacts[]
  /** Listen on `/p2p-circuit`: the relay transport reserves a slot on a relay peer. Idempotent. */
  listenOnRelays: () => Promise<void>
  /** Whether we listen on relays already. */
  relayListening: () => boolean
}

export function reachabilityHooks (): (components: ReachabilityHooksComponents) => ReachabilityHooks {
  return (components) => {
    let listening = false
    return {
      addresses: () => components.addressManager.getAddressesWithMetadata().map(a => ({ addr: a.multiaddr.toString(), type: a.type, verified: a.verified })),
      listenOnRelays: async () => {
        if (listening) return
        listening = true
        try {
          await components.transportManager.listen([multiaddr('/p2p-circuit')])
        } catch (err) {
          listening = false
          throw err
        }
      },
      relayListening: () => listening
    }
  }
}
