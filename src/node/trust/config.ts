// The `trust` section of the daemon config: private swarm key and admission lists.
import { z } from 'zod'
import { peerIdFromString } from '@libp2p/peer-id'

/** True when `s` parses as a libp2p peer id (base58btc `12D3KooW…`/`Qm…` or a CIDv1 `bafz…`). */
export function isPeerIdString (s: string): boolean {
  try {
    peerIdFromString(s)
    return true
  } catch {
    return false
  }
}

/** The canonical (base58btc) form of a peer id string; throws if it is not one. */
export function canonicalPeerId (s: string): string {
  return peerIdFromString(s.trim()).toString()
}

const peerIdString = z.string().refine(s => isPeerIdString(s.trim()), {
  message: 'not a valid peer id; expected something like 12D3KooW...'
})

/** Nest under `trust` in the daemon config (with `.prefault({})`). */
export const trustConfigSchema = z.object({
  swarmKeyFile: z.string().default('').describe('Private swarm: file holding the swarm key (petalmesh swarm-key --out FILE; mode 0600). Empty = no file. The key can instead come from the environment variable PETALMESH_SECRET_SWARM_KEY; only nodes with the same key can connect'),
  allow: z.array(peerIdString).default([]).describe('Admission allowlist of peer ids; empty = every peer not denied is admitted. Merged with the allow list of trust.listFile'),
  deny: z.array(peerIdString).default([]).describe('Admission denylist of peer ids: refused at connection and their records/heartbeats rejected; wins over allow. Merged with the deny list of trust.listFile'),
  listFile: z.string().default('').describe('JSON or YAML file {allow: [...], deny: [...]} re-read on change (no restart); newly denied peers are disconnected. Empty = none')
}).strict()

export type TrustConfig = z.infer<typeof trustConfigSchema>
