// The hostile-peer guard. Gossipsub prunes and graylists a peer whose score drops, but never closes
// its connection, and knows nothing of our streams. Every `checkMs` the guard looks at each connected
// peer's gossipsub score and misbehaviour points; past either threshold it bans the peer (the gater
// then refuses it for the ban's length) and hangs up.
import type { PeerId } from '@libp2p/interface'
import type { PeerPenalties } from './penalties.ts'
import type { TempBans } from './bans.ts'

export interface GuardThresholds {
  /** Gossipsub score below which a peer is disconnected. */
  disconnectScore: number
  /** Misbehaviour points at which a peer is disconnected. */
  disconnectPenalty: number
  checkMs: number
}

export interface GuardTarget {
  peerId: PeerId
  getPeers: () => PeerId[]
  hangUp: (peer: PeerId) => Promise<void>
}

export interface GuardEvent {
  peer: string
  score: number
  points: number
  reason: string
  bannedUntil: number
}

export interface GuardOptions extends GuardThresholds {
  penalties: PeerPenalties
  bans: TempBans
  /** Gossipsub's score of a peer (0 when the peer is unknown to it). */
  score: (peer: string) => number
  /** Peers that must never be banned (this node). */
  exempt?: (peer: string) => boolean
  onDisconnect?: (e: GuardEvent) => void
  now?: () => number
}

/** The decision alone (pure): why to disconnect a peer, or null to keep it. */
export function guardVerdict (score: number, points: number, t: Pick<GuardThresholds, 'disconnectScore' | 'disconnectPenalty'>): string | null {
  if (score < t.disconnectScore) return `gossipsub score ${score.toFixed(0)} below ${t.disconnectScore}`
  if (points >= t.disconnectPenalty) return `${points.toFixed(1)} misbehaviour points (limit ${t.disconnectPenalty})`
  return null
}

export interface Guard {
  /** Checks every connected peer now; returns the peers disconnected. */
  check: () => Promise<GuardEvent[]>
  /** Tells the guard a peer's points just reached the limit: it is cut off now, not at the next check. */
  report: (peer: string, points: number) => void
  stop: () => void
  /** Disconnections so far. */
  readonly disconnects: GuardEvent[]
}

export function startGuard (node: GuardTarget, opts: GuardOptions): Guard {
  const now = opts.now ?? Date.now
  const disconnects: GuardEvent[] = []
  let checking = false
  // Peers reported at the limit (points decay, so by the next check they may sit just below it).
  const due = new Map<string, number>()
  const check = async (): Promise<GuardEvent[]> => {
    if (checking) return []
    checking = true
    const out: GuardEvent[] = []
    try {
      const t = now()
      for (const p of node.getPeers()) {
        const id = p.toString()
        if (opts.exempt?.(id) === true) continue
        const score = opts.score(id)
        const points = Math.max(opts.penalties.points(id, t), due.get(id) ?? 0)
        due.delete(id)
        const reason = guardVerdict(score, points, opts)
        if (reason == null) continue
        const bannedUntil = opts.bans.ban(id, t, reason)
        // Points that led to a ban are spent: after the ban the peer starts from a clean slate.
        opts.penalties.forget(id)
        const e: GuardEvent = { peer: id, score, points, reason, bannedUntil }
        out.push(e)
        disconnects.push(e)
        if (disconnects.length > 1000) disconnects.shift()
        await node.hangUp(p).catch(() => {})
        try { opts.onDisconnect?.(e) } catch { /* a listener must not stop the guard */ }
      }
    } finally {
      checking = false
    }
    return out
  }
  const timer = setInterval(() => { void check() }, opts.checkMs)
  timer.unref?.()
  const report = (peer: string, points: number): void => {
    if (points < opts.disconnectPenalty || opts.exempt?.(peer) === true) return
    due.set(peer, points)
    void check()
  }
  return { check, report, stop: () => { clearInterval(timer) }, disconnects }
}
