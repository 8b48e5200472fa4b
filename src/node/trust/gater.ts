// Enforcing the admission policy on connections: a libp2p ConnectionGater that asks the live
// policy each time, and a hang-up sweep for peers a list change made inadmissible.
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { AdmissionCheck } from './policy.ts'

/**
 * A gater that refuses to dial, and refuses connections (once the remote peer id is known, after
 * encryption) from, every peer the policy does not admit. It reads the policy on every call, so a
 * list change applies to the next connection without rebuilding anything.
 */
export function createAdmissionGater (policy: AdmissionCheck): ConnectionGater {
  const deny = (peerId: PeerId): boolean => !policy.isAdmitted(peerId.toString())
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    // Checked again once upgraded: a list change during an upgrade must not let the peer slip in.
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny
  }
}

/** The part of a libp2p node the hang-up sweep needs. */
export interface HangUpTarget {
  getPeers: () => PeerId[]
  hangUp: (peer: PeerId) => Promise<void>
}

/**
 * Closes every connection to peers the policy no longer admits. Returns the peer ids it hung up
 * on (a failed hang-up is still listed: the gater refuses the peer's new connections anyway).
 */
export async function disconnectInadmissible (node: HangUpTarget, policy: AdmissionCheck): Promise<string[]> {
  const victims = node.getPeers().filter(p => !policy.isAdmitted(p.toString()))
  await Promise.allSettled(victims.map(async p => { await node.hangUp(p) }))
  return victims.map(p => p.toString())
}
