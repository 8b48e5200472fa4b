// Misbehaviour points per peer (rejected messages, rate-limit excess, a Petals port that does not
// answer), decaying over time. They feed gossipsub's application-specific score, so the mesh prunes
// a misbehaving peer, and the hostile-peer guard, which disconnects it. Pure: callers pass the clock.

export interface PenaltyOptions {
  /** Points halve every this many ms (default 60 s): a past mistake is forgiven, a stream of them is not. */
  halfLifeMs?: number
  maxPeers?: number
}

interface Entry { points: number, at: number, total: number, reasons: Map<string, number> }

export class PeerPenalties {
  private readonly peers = new Map<string, Entry>()
  private readonly halfLifeMs: number
  private readonly maxPeers: number

  constructor (opts: PenaltyOptions = {}) {
    this.halfLifeMs = opts.halfLifeMs ?? 60_000
    this.maxPeers = opts.maxPeers ?? 10_000
  }

  /** Adds `points` to `peer` for `reason` (a short, number-free label). */
  add (peer: string, points: number, reason: string, now: number): number {
    let e = this.peers.get(peer)
    if (e == null) {
      if (this.peers.size >= this.maxPeers) {
        const oldest = this.peers.keys().next().value
        if (oldest != null) this.peers.delete(oldest)
      }
      e = { points: 0, at: now, total: 0, reasons: new Map() }
      this.peers.set(peer, e)
    }
    e.points = this.decayed(e, now) + points
    e.at = Math.max(e.at, now)
    e.total += points
    if (e.reasons.size < 32 || e.reasons.has(reason)) e.reasons.set(reason, (e.reasons.get(reason) ?? 0) + 1)
    return e.points
  }

  /** Current (decayed) points of `peer`; 0 for a peer never penalised. */
  points (peer: string, now: number): number {
    const e = this.peers.get(peer)
    return e == null ? 0 : this.decayed(e, now)
  }

  /** What `peer` was penalised for, with counts (for logs and the API). */
  reasons (peer: string): Record<string, number> {
    return Object.fromEntries(this.peers.get(peer)?.reasons ?? [])
  }

  /** Peers with points above `min` at `now`. */
  offenders (now: number, min = 0): Array<{ peer: string, points: number }> {
    const out: Array<{ peer: string, points: number }> = []
    for (const [peer, e] of this.peers) {
      const p = this.decayed(e, now)
      if (p > min) out.push({ peer, points: p })
    }
    return out.sort((a, b) => b.points - a.points)
  }

  forget (peer: string): void { this.peers.delete(peer) }

  private decayed (e: Entry, now: number): number {
    const dt = Math.max(0, now - e.at)
    return e.points * Math.pow(0.5, dt / this.halfLifeMs)
  }
}
