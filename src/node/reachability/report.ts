// What `petalmesh doctor` says about reachability: how peers reach the node and, when they cannot
// dial it, exactly which port to forward. Pure text from the node's /v1/reachability answer.
import type { ReachabilityStatus } from './monitor.ts'

export interface ReachabilityReportInput {
  /** The running node's /v1/reachability, or null when no node runs. */
  status: ReachabilityStatus | null
  /** Why there is no status (no node running, API unreachable). */
  unavailable?: string
  /** The TCP port petalmesh listens on, from the config (used when no node runs). */
  configuredPort: number | null
  /** The TCP port of the Petals server (petals.port). */
  petalsPort: number
}

export interface ReachabilityReport {
  ok: boolean
  lines: string[]
  /** TCP ports an operator should forward for direct reachability; empty when none is needed. */
  forwardPorts: number[]
}

function relayPeer (addr: string): string | null {
  return /\/p2p\/([^/]+)\/p2p-circuit/.exec(addr)?.[1] ?? null
}

export function reachabilityReport (input: ReachabilityReportInput): ReachabilityReport {
  const s = input.status
  if (s == null) {
    const port = input.configuredPort
    return {
      ok: true,
      forwardPorts: [],
      lines: [
        `reachability: not known (${input.unavailable ?? 'no running node'}); a running node detects it (petalmesh status, GET /v1/reachability)`,
        `  peers dial this node on TCP ${port ?? '(the listen port)'} (petalmesh) and TCP ${input.petalsPort} (Petals); behind a NAT without port forwarding it is reached through a relay`
      ]
    }
  }
  const lines = [`reachability: ${s.reachability} — ${s.reason}`]
  lines.push(`  DHT mode: ${s.dhtMode}${s.dhtMode === 'client' ? ' (peers cannot dial this node, so it does not serve DHT queries)' : ''}`)
  if (s.observedAddrs.length > 0) lines.push(`  peers see this node at: ${s.observedAddrs.slice(0, 3).join(', ')}`)
  if (s.mappedAddrs.length > 0) lines.push(`  router port mapping (UPnP/NAT-PMP): ${s.mappedAddrs.join(', ')}`)
  const relays = [...new Set(s.relayAddrs.map(relayPeer).filter((p): p is string => p != null))]
  if (relays.length > 0) lines.push(`  relay in use: ${relays.join(', ')} (connections through it are limited; hole punching (DCUtR) upgrades them to direct ones where the NATs allow)`)
  const forwardPorts: number[] = []
  if (s.dialable === false) {
    const port = s.listenPort ?? input.configuredPort
    if (port != null) forwardPorts.push(port)
    forwardPorts.push(input.petalsPort)
    const publicIp = /^\/ip[46]\/([^/]+)/.exec(s.observedAddrs[0] ?? '')?.[1] ?? '<your public IP>'
    lines.push(`  to be reachable directly: forward TCP port ${port ?? '(the listen port)'} (petalmesh) and TCP ${input.petalsPort} (Petals) on your router or firewall to this machine,`)
    lines.push(`  then set announce: ["/ip4/${publicIp}/tcp/${port ?? 'PORT'}"] (or network.reachability: public) and petals.publicIp: ${publicIp}`)
    if (relays.length === 0) lines.push(`  no relay reservation yet: ${s.relayClient.enabled ? 'the node is looking for a relay among its peers (a directly reachable petalmesh node)' : 'network.relayClient is off, so peers cannot reach this node at all'}`)
  }
  if (!s.natTraversal) lines.push('  NAT traversal is off (memory transport)')
  return { ok: !(s.dialable === false && s.relayAddrs.length === 0 && !s.relayClient.enabled), lines, forwardPorts }
}
