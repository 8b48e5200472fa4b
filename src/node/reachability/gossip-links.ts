// Repairs gossipsub links left broken by a half-open connection. After a network outage a peer may
// redial us while our side still holds the old, dead connection. Gossipsub keeps its outbound stream
// on the old connection and does not open one on the new connection. When the old connection finally
// dies, gossipsub drops its stream (or the whole peer) although the peer is still connected, and it
// never recovers: the peer hears nothing from us, or we ignore it. Both look alive at the libp2p level
// and silently drop out of each other's swarm views. The check: a peer that is connected directly,
// speaks gossipsub, but has no gossipsub outbound stream for two checks in a row is hung up, so the
// next dial starts from a clean state.
import type { PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { PetalmeshLibp2p } from '../libp2p.ts'

const MESHSUB = '/meshsub/'

export interface GossipLinkRepair {
  stop: () => void
  /** Peers hung up so far. */
  repaired: () => number
}

export function startGossipLinkRepair (libp2p: PetalmeshLibp2p, log: Logger, intervalMs = 2000): GossipLinkRepair {
  const pubsub = libp2p.services.pubsub as unknown as { streamsOutbound?: Map<string, unknown> }
  let suspects = new Set<string>()
  let repaired = 0
  let running = false
  const check = async (): Promise<void> => {
    if (running || pubsub.streamsOutbound == null) return
    running = true
    try {
      const next = new Set<string>()
      const byPeer = new Map<string, PeerId>()
      for (const c of libp2p.getConnections()) {
        // Gossipsub does not run on limited (relayed) connections; only an open direct one counts.
        if (c.status !== 'open' || c.limits != null) continue
        byPeer.set(c.remotePeer.toString(), c.remotePeer)
      }
      for (const [id, peer] of byPeer) {
        if (pubsub.streamsOutbound.has(id)) continue
        const speaks = await libp2p.peerStore.get(peer).then(p => p.protocols.some(x => x.startsWith(MESHSUB)), () => false)
        if (!speaks) continue
        if (suspects.has(id)) {
          repaired++
          log.info({ peer: id }, 'gossip link to a connected peer is broken (stale connection after a network outage): reconnecting')
          await libp2p.hangUp(peer).catch(() => {})
        } else {
          next.add(id)
        }
      }
      suspects = next
    } finally {
      running = false
    }
  }
  const timer = setInterval(() => { void check() }, intervalMs)
  timer.unref()
  return { stop: () => { clearInterval(timer) }, repaired: () => repaired }
}
