// Opens one negotiation stream (/petalmesh/coverage/1.0.0) to a peer and says which path it took:
// a direct connection or one through a relay. It pushes this node's own current signed record, which
// the peer treats like the same record heard on gossip, and reads the overlapping records it returns.
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import type { PetalmeshLibp2p } from '../libp2p.ts'
import type { Membership } from '../membership.ts'
import { COVERAGE_PROTOCOL, pushClaimOverStream } from '../../protocols/negotiation/claim-stream.ts'
import { PROTOCOL_MAJOR } from '../../protocols/version.ts'
import { PetalmeshError } from '../../util/errors.ts'

export interface ProbeResult {
  peer: string
  protocol: string
  ok: boolean
  /** direct = a plain TCP connection (dialled, or opened by hole punching); relayed = through a relay. */
  path: 'direct' | 'relayed' | null
  remoteAddr: string | null
  rttMs: number
  overlapping: number
  error: string | null
}

function relayed (c: Connection): boolean {
  return c.limits != null || c.remoteAddr.toString().includes('/p2p-circuit')
}

export async function probePeer (libp2p: PetalmeshLibp2p, membership: Membership, peer: string, timeoutMs = 5000): Promise<ProbeResult> {
  let id
  try {
    id = peerIdFromString(peer)
  } catch {
    throw new PetalmeshError(`not a peer id: ${JSON.stringify(peer)}`)
  }
  const signed = membership.signedSelf()
  const t0 = Date.now()
  const base = { peer, protocol: COVERAGE_PROTOCOL }
  if (signed == null) return { ...base, ok: false, path: null, remoteAddr: null, rttMs: 0, overlapping: 0, error: 'this node has not published a record yet (clients cannot probe)' }
  let conn: Connection | undefined
  try {
    const signal = AbortSignal.timeout(timeoutMs)
    // Prefer a direct connection when there is one (hole punching adds it next to the relayed one).
    conn = libp2p.getConnections(id).sort((a, b) => Number(relayed(a)) - Number(relayed(b)))[0] ?? await libp2p.dial(id, { signal })
    const stream = await conn.newStream(COVERAGE_PROTOCOL, { signal, runOnLimitedConnection: true })
    const reply = await pushClaimOverStream(stream, { protocol: PROTOCOL_MAJOR, claim: signed })
    return { ...base, ok: reply.error === '', path: relayed(conn) ? 'relayed' : 'direct', remoteAddr: conn.remoteAddr.toString(), rttMs: Date.now() - t0, overlapping: reply.overlapping.length, error: reply.error === '' ? null : reply.error }
  } catch (err) {
    return { ...base, ok: false, path: conn == null ? null : relayed(conn) ? 'relayed' : 'direct', remoteAddr: conn?.remoteAddr.toString() ?? null, rttMs: Date.now() - t0, overlapping: 0, error: (err as Error).message }
  }
}
