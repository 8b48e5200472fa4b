// Which Petals servers a new Petals server bootstraps from (--initial_peers) and, while no member's
// Petals DHT is up, which single node founds the swarm (--new_swarm). Pure: the waiting is done by
// the negotiator (Negotiator.initialPeersFor).
//
// Why it matters (read from the source, Petals @ 22afba62, hivemind @ 213bff98, the
// go-libp2p-daemon tag v0.5.0.hivemind1 hivemind pins):
// - A server started with --new_swarm (run_server.py:206-207, initial_peers = []) founds a DHT of its
//   own; servers in different DHTs never find each other (islands). So a cold start where every
//   server finds nobody online and founds its own swarm splits it.
// - A server given initial peers that are not up yet does not wait for them: p2pd dials them once
//   (bootstrap.go:30-49, at most 4, 60 s timeout) and exits with "failed to connect to bootstrap
//   peers" (p2pd/main.go:426-430) before printing "Peer ID:", which hivemind reports as
//   P2PDaemonError("Daemon failed to start: ...") (p2p_daemon.py:695-699); if p2pd connects but no
//   initial peer answers the DHT ping within 3 s, DHTNode.create raises "DHTNode bootstrap failed:
//   none of the initial_peers responded to a ping" (dht/node.py:219-243, ensure_bootstrap_success=True).
//   Either way the server exits (Petals first runs the same bootstrap in check_direct_reachability,
//   server.py:137-140). So initial peers must be servers whose DHT already answers.
// - A server's DHT answers from the "Running a server on [...]" line on: DHT(start=True) returns
//   only once DHTNode.create has finished (dht/dht.py:87-88, 107-119; server.py:141-157). Not
//   before: p2pd may already accept TCP while the DHT handlers are not registered. And not at all
//   when it said "This server is accessible via relays": its DHT is then in client mode
//   (server.py:137-147) and registers no handlers (dht/protocol.py:73-74).
//   The bridge reports that as BackendStatus.dhtReady, announced as PetalsInfo.dht_ready.
import type { NodeState } from '../protocols/types.ts'
import { compareCodeUnits as cmp } from '../util/compare.ts'

/** At most this many initial peers (multiaddrs), as many as a record's petals.multiaddrs. */
export const MAX_INITIAL_PEERS = 16

/** What the choice needs to know about one member (alive or suspect), from its record. */
export interface SeedMember {
  /** petalmesh peer id. */
  peerId: string
  /** petalmesh state. */
  state: NodeState
  petals: {
    peerId: string
    multiaddrs: readonly string[]
    /** The bridge state of its Petals server (BackendState). */
    state: string
    /** Its Petals DHT answers (PetalsInfo.dht_ready); absent in records of nodes that predate the field. */
    dhtReady?: boolean
  } | null
}

export interface SeedInput {
  self: {
    peerId: string
    /** Our own Petals peer id: never our own initial peer (a stale record of ourselves). */
    petalsPeerId: string | null
    /** Our server has been launched before and is restarting (crashed): see `launched`. */
    launched: boolean
  }
  /** Live members; our own entry, if present, is ignored. */
  members: readonly SeedMember[]
  max?: number
}

export type SeedDecision =
  /** Bootstrap from these Petals multiaddrs (online servers first). */
  | { action: 'join', initialPeers: string[] }
  /** No member's DHT is up and we are the seed: start a new swarm. */
  | { action: 'found' }
  /** No member's DHT is up and another node is the seed: wait for a DHT to come up. */
  | { action: 'wait', seed: string }

/** Bridge states of a server that has been launched and will answer (or restart): not waiting, stopped or failed. */
const LAUNCHED = new Set(['starting', 'loading', 'online', 'crashed'])

export function petalsLaunched (state: string | undefined): boolean {
  return state != null && LAUNCHED.has(state)
}

/**
 * Whether a member's Petals DHT is known to answer. A record that predates `dht_ready` says so
 * only by being online (the old rule); one that has the field is believed: online alone is not
 * enough (a server reached through relays runs a client-mode DHT), and loading with the DHT up is.
 */
export function petalsDhtUp (m: SeedMember): boolean {
  const p = m.petals
  if (p == null || p.multiaddrs.length === 0) return false
  if (p.dhtReady != null) return p.dhtReady
  return m.state === 'online' && p.state === 'online'
}

/** Members that will run a Petals server: servers pending, claiming, loading or serving. */
function willServe (state: NodeState): boolean {
  return state === 'joining' || state === 'loading' || state === 'online'
}

/**
 * The initial peers for a Petals server about to start, or who founds the swarm.
 *
 * 1. Members (pending, joining, loading or online) whose DHT is up: their multiaddrs, online servers first, then by peer id; at most
 *    `max` (16) addresses; never our own server.
 * 2. None: exactly one node founds the swarm, the seed: among the members that will run a Petals
 *    server (pending, joining, loading, online) and ourselves, the first by (launched first, then peer id).
 *    A launched server with no DHT up anywhere is a founder whose DHT is on its way (or restarting):
 *    it stays the seed, so a node that arrives later with a smaller peer id does not found a second
 *    swarm. Pending newcomers count, so that of a cohort claiming one after another the first to
 *    claim does not found the swarm while a smaller id of its cohort is still deciding.
 */
export function chooseInitialPeers (input: SeedInput): SeedDecision {
  const max = input.max ?? MAX_INITIAL_PEERS
  const { self } = input
  const others = input.members.filter(m => m.peerId !== self.peerId)
  const up = others
    // A member going standby or leaving stops its server: its DHT is about to go.
    .filter(m => willServe(m.state) && petalsDhtUp(m) && m.petals != null && m.petals.peerId !== self.petalsPeerId)
    .sort((a, b) => online(b) - online(a) || cmp(a.peerId, b.peerId))
  const initialPeers: string[] = []
  for (const m of up) {
    for (const addr of m.petals?.multiaddrs ?? []) {
      if (initialPeers.length < max && !initialPeers.includes(addr)) initialPeers.push(addr)
    }
  }
  if (initialPeers.length > 0) return { action: 'join', initialPeers }

  const candidates = others
    .filter(m => willServe(m.state))
    .map(m => ({ peerId: m.peerId, launched: petalsLaunched(m.petals?.state) }))
  candidates.push({ peerId: self.peerId, launched: self.launched })
  candidates.sort((a, b) => Number(b.launched) - Number(a.launched) || cmp(a.peerId, b.peerId))
  const seed = candidates[0].peerId
  return seed === self.peerId ? { action: 'found' } : { action: 'wait', seed }
}

function online (m: SeedMember): number {
  return m.state === 'online' && m.petals?.state === 'online' ? 1 : 0
}
