// Gossip topic names and the DHT key of a swarm. Names carry the protocol major so that
// incompatible versions never share a topic.
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PROTOCOL_MAJOR } from '../version.ts'

export interface SwarmTopics {
  /** Full signed records and obituaries. */
  records: string
  /** Compact heartbeats. */
  heartbeats: string
}

export function swarmTopics (model: string): SwarmTopics {
  const base = `/petalmesh/${PROTOCOL_MAJOR}/swarm/${encodeURIComponent(model)}`
  return { records: `${base}/records`, heartbeats: `${base}/heartbeat` }
}

/** Serving nodes provide this CID in the DHT so that anyone knowing one bootstrap peer can find the swarm. */
export async function swarmCid (model: string): Promise<CID> {
  const digest = await sha256.digest(new TextEncoder().encode(`petalmesh:${PROTOCOL_MAJOR}:swarm:${model}`))
  return CID.createV1(raw.code, digest)
}
