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
  listFile: z.string().default('').describe('JSON or YAML file {allow: [...], deny: [...]} re-read on change (no restart); newly denied peers are disconnected. Empty = none'),
  rateLimits: z.object({
    gossipPerPeer: z.number().positive().default(100).describe('Gossip messages per second accepted from one connected peer on each petalmesh topic (burst: twice that); excess is rejected and counted against the peer'),
    gossipPerAuthor: z.number().positive().default(20).describe('Records, heartbeats or obituaries per second accepted from one author (burst: twice that); excess is rejected when the author sent it itself, ignored when relayed'),
    streamsPerPeer: z.number().positive().default(10).describe('Inbound petalmesh streams (snapshot, claim push) per second per peer and protocol (burst: twice that); excess streams are reset and counted')
  }).strict().prefault({}).describe('Per-peer rate limits on gossip and streams'),
  guard: z.object({
    disconnectScore: z.number().max(0).default(-1000).describe('Disconnect and ban a peer whose gossipsub score falls below this (one invalid message costs -100 x count squared; gossipsub itself only graylists at -80)'),
    disconnectPenalty: z.number().positive().default(20).describe('Disconnect and ban a peer with this many misbehaviour points (1 per rejected message or refused stream, trust.probe.penalty for an unreachable Petals port; halve every minute)'),
    banMs: z.number().int().min(1000).default(60_000).describe('First ban of a disconnected hostile peer; each new ban doubles it, up to trust.guard.maxBanMs'),
    maxBanMs: z.number().int().min(1000).default(3_600_000).describe('Longest ban of a hostile peer'),
    checkMs: z.number().int().min(50).default(1000).describe('How often peer scores and points are checked')
  }).strict().prefault({}).describe('When a misbehaving peer is disconnected and banned'),
  probe: z.object({
    enabled: z.boolean().default(true).describe('Check that members serving blocks answer on their announced Petals port (TCP connect); those that do not are flagged unreachable and left out of routes'),
    timeoutMs: z.number().int().min(50).default(3000).describe('TCP connect timeout of one probe'),
    intervalMs: z.number().int().min(1000).default(60_000).describe('Re-probe period per member (also re-probed whenever its announced addresses or state change)'),
    failures: z.number().int().min(1).default(2).describe('Consecutive failed probes before a member is flagged unreachable'),
    concurrency: z.number().int().min(1).default(8).describe('Probes in flight at once'),
    penalty: z.number().min(0).default(20).describe('Misbehaviour points a member gets when flagged unreachable (at trust.guard.disconnectPenalty it is disconnected and banned); 0 = flag only')
  }).strict().prefault({}).describe('Checking that members answer on their announced Petals port')
}).strict()

export type TrustConfig = z.infer<typeof trustConfigSchema>
