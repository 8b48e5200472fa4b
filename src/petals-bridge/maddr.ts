// Multiaddr helpers for hivemind addresses (/ip4/1.2.3.4/tcp/31330/p2p/Qm...).

import { multiaddr } from '@multiformats/multiaddr'

export interface ParsedMaddr {
  components: Array<{ name: string, value?: string }>
  tcpPort: number | null
  peerId: string | null
}

/** Parse a multiaddr string; null if it is not a valid multiaddr. */
export function parseMaddr (text: string): ParsedMaddr | null {
  try {
    const components = multiaddr(text).getComponents().map((c) => ({ name: c.name, value: c.value }))
    const tcp = components.find((c) => c.name === 'tcp')
    const p2p = components.findLast((c) => c.name === 'p2p')
    return {
      components,
      tcpPort: tcp?.value != null ? Number(tcp.value) : null,
      peerId: p2p?.value ?? null
    }
  } catch {
    return null
  }
}

/** `maddr` without a trailing /p2p/<id>. */
export function withoutPeerId (maddr: string): string {
  return maddr.replace(/\/p2p\/[^/]+\/?$/, '')
}

/** `maddr` ending in /p2p/<peerId> (an existing /p2p/ suffix is replaced). */
export function withPeerId (maddr: string, peerId: string): string {
  return `${withoutPeerId(maddr)}/p2p/${peerId}`
}
