// Per-key token buckets: the rate limit on gossip and streams per peer. Pure (the caller passes the
// clock), bounded in memory (least recently used keys are dropped past `maxKeys`).

export interface TokenBucketOptions {
  /** Sustained rate: tokens added per second. */
  ratePerSec: number
  /** Bucket size: how many can be spent at once after a quiet period. */
  burst: number
  /** Keys tracked at most; the least recently used are forgotten first (default 10,000). */
  maxKeys?: number
}

interface Bucket { tokens: number, at: number }

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly rate: number
  private readonly burst: number
  private readonly maxKeys: number

  constructor (opts: TokenBucketOptions) {
    if (!(opts.ratePerSec > 0) || !(opts.burst >= 1)) throw new RangeError(`rate limit needs ratePerSec > 0 and burst >= 1 (got ${opts.ratePerSec}, ${opts.burst})`)
    this.rate = opts.ratePerSec
    this.burst = opts.burst
    this.maxKeys = opts.maxKeys ?? 10_000
  }

  /** Spends `cost` tokens of `key`'s bucket if it holds that many; false = over the limit. */
  take (key: string, now: number, cost = 1): boolean {
    let b = this.buckets.get(key)
    if (b == null) {
      b = { tokens: this.burst, at: now }
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value
        if (oldest != null) this.buckets.delete(oldest)
      }
    } else {
      // Refill for the time elapsed (a clock going backwards refills nothing).
      b.tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.rate / 1000)
      b.at = Math.max(b.at, now)
      this.buckets.delete(key) // re-inserted below: Map order doubles as the LRU order
    }
    this.buckets.set(key, b)
    if (b.tokens < cost) return false
    b.tokens -= cost
    return true
  }

  /** Tokens left for `key` at `now` (the burst size for an unknown key). */
  available (key: string, now: number): number {
    const b = this.buckets.get(key)
    if (b == null) return this.burst
    return Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.rate / 1000)
  }

  forget (key: string): void { this.buckets.delete(key) }
  get size (): number { return this.buckets.size }
}
