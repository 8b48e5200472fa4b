// Temporary bans of hostile peers: the gater refuses a banned peer's connections until the ban runs
// out. Each new ban of the same peer doubles its length, up to a bound, so a peer that keeps coming
// back stays out longer but never forever (it might have been a bug, since fixed). Pure.

export interface TempBanOptions {
  /** First ban length (default 60 s). */
  baseMs?: number
  /** Longest ban (default 1 h). */
  maxMs?: number
  /** A peer quiet for this long after its ban ran out starts again from baseMs (default 1 h). */
  forgiveMs?: number
}

interface Ban { until: number, strikes: number, reason: string }

export class TempBans {
  private readonly bans = new Map<string, Ban>()
  private readonly baseMs: number
  private readonly maxMs: number
  private readonly forgiveMs: number

  constructor (opts: TempBanOptions = {}) {
    this.baseMs = opts.baseMs ?? 60_000
    this.maxMs = Math.max(this.baseMs, opts.maxMs ?? 3_600_000)
    this.forgiveMs = opts.forgiveMs ?? 3_600_000
  }

  /** Bans `peer` from `now`; returns the ban's end. */
  ban (peer: string, now: number, reason: string): number {
    const prev = this.bans.get(peer)
    const strikes = prev != null && now - prev.until < this.forgiveMs ? prev.strikes + 1 : 1
    const until = now + Math.min(this.maxMs, this.baseMs * 2 ** Math.min(strikes - 1, 30))
    this.bans.set(peer, { until, strikes, reason })
    return until
  }

  isBanned (peer: string, now: number): boolean {
    const b = this.bans.get(peer)
    return b != null && now < b.until
  }

  /** Bans in force at `now`. */
  active (now: number): Array<{ peer: string, until: number, strikes: number, reason: string }> {
    const out = []
    for (const [peer, b] of this.bans) {
      if (now < b.until) out.push({ peer, ...b })
      else if (now - b.until > this.forgiveMs) this.bans.delete(peer)
    }
    return out
  }

  lift (peer: string): void { this.bans.delete(peer) }
}
