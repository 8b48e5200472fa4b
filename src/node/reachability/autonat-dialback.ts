// AutoNAT v1 with dial-backs that really dial. @libp2p/autonat 3.0.x answers a peer's "dial me back
// at X" by calling connectionManager.openConnection(X) without `force`, so when it is already
// connected to that peer at X (a NATed node that dialled a public node at the very address the
// public node asks about) it gets the existing connection back, reports "dialable" without having
// dialled anything, and then closes that connection — the NATed node's only link to the swarm.
// Here the server's dial-back (one multiaddr; the client side dials arrays or peer ids) always opens
// a fresh connection, so the answer is a real test and the existing connection survives.
import { autoNAT, type AutoNATComponents, type AutoNATServiceInit } from '@libp2p/autonat'
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { ConnectionManager, OpenConnectionOptions } from '@libp2p/interface-internal'
import type { PeerId } from '@libp2p/interface'

type AutoNATFactory = ReturnType<typeof autoNAT>

/** A connection manager whose openConnection forces a new connection when given a single multiaddr. */
export function forceSingleAddrDials (cm: ConnectionManager): ConnectionManager {
  const openConnection = async (target: PeerId | Multiaddr | Multiaddr[], options?: OpenConnectionOptions): ReturnType<ConnectionManager['openConnection']> =>
    await cm.openConnection(target, isMultiaddr(target) ? { ...options, force: true } : options)
  return new Proxy(cm, {
    get (t, prop, receiver) {
      if (prop === 'openConnection') return openConnection
      const v = Reflect.get(t, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    }
  })
}

export function autoNATWithFreshDialBacks (init: AutoNATServiceInit = {}): AutoNATFactory {
  const factory = autoNAT(init)
  return (components: AutoNATComponents) => {
    const connectionManager = forceSingleAddrDials(components.connectionManager)
    // libp2p's components object is a Proxy; shadow one property and let the rest resolve through it.
    return factory(Object.create(components, { connectionManager: { value: connectionManager } }) as AutoNATComponents)
  }
}
