import { PETALS_BAN_BACKOFF_RATE, PETALS_BAN_TIMEOUT_MS } from './constants.ts'

export interface BanListOptions {
  /** Length of the first ban (Petals `ban_timeout`). */
  baseMs?: number
  /** Each consecutive ban lasts this many times longer (hivemind `Blacklist.backoff_rate`). */
  backoffRate?: number
  /** Optional cap; hivemind has none, so the default is Infinity. */
  maxMs?: number
}

interface BanEntry {
  /** Bans handed out since the last success; the next ban lasts base × rate^failures. */
  failures: number
  /** Time (same clock as `now`) when the current ban ends; 0 when not banned. */
  until: number
}

/**
 * Temporary ban list with exponential backoff, following hivemind's `Blacklist` as used by Petals'
 * sequence manager: a failure while not banned starts a ban of `base × rate^k` (k = bans since the last
 * success) — 15 s, 30 s, 60 s, … — a failure during a ban changes nothing, and a success clears both
 * the ban and the counter. No timers: every query takes `now` (ms), so tests drive the clock.
 */
export class BanList {
  readonly baseMs: number
  readonly backoffRate: number
  readonly maxMs: number
  private readonly entries = new Map<string, BanEntry>()

  constructor (options: BanListOptions = {}) {
    this.baseMs = options.baseMs ?? PETALS_BAN_TIMEOUT_MS
    this.backoffRate = options.backoffRate ?? PETALS_BAN_BACKOFF_RATE
    this.maxMs = options.maxMs ?? Infinity
  }

  /** Record a failure of `peerId` at `now`. Returns the end time of the ban in force afterwards. */
  ban (peerId: string, now: number): number {
    const entry = this.entries.get(peerId) ?? { failures: 0, until: 0 }
    // As hivemind: repeated failures during one ban (e.g. several requests in flight) count once.
    if (now < entry.until || this.baseMs <= 0) return entry.until
    const duration = Math.min(this.baseMs * this.backoffRate ** entry.failures, this.maxMs)
    entry.until = now + duration
    entry.failures += 1
    this.entries.set(peerId, entry)
    return entry.until
  }

  isBanned (peerId: string, now: number): boolean {
    const entry = this.entries.get(peerId)
    return entry != null && now < entry.until
  }

  /** End of the current ban, or null when `peerId` is not banned at `now`. */
  bannedUntil (peerId: string, now: number): number | null {
    const entry = this.entries.get(peerId)
    return entry != null && now < entry.until ? entry.until : null
  }

  /** Bans handed out to `peerId` since its last success. */
  failures (peerId: string): number {
    return this.entries.get(peerId)?.failures ?? 0
  }

  /** `peerId` answered: lift its ban and forget its history. */
  success (peerId: string): void {
    this.entries.delete(peerId)
  }

  /** Peers banned at `now`, sorted. */
  banned (now: number): string[] {
    return [...this.entries].filter(([, e]) => now < e.until).map(([id]) => id).sort()
  }

  clear (): void {
    this.entries.clear()
  }
}
