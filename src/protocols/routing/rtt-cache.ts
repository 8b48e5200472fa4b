import {
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_RTT_FAILURE_TTL_MS,
  DEFAULT_RTT_TTL_MS,
  PETALS_PING_EMA_ALPHA,
  PETALS_PING_EXPIRATION_MS
} from './constants.ts'

/** Measures one RTT in ms (e.g. libp2p ping); must give up when `signal` aborts. */
export type PingFn = (peerId: string, signal: AbortSignal) => Promise<number>

export interface RttCacheOptions {
  ping: PingFn
  /** A ping slower than this counts as failed. */
  timeoutMs?: number
  /** A successful measurement is reused for this long. */
  ttlMs?: number
  /** A failed ping marks the peer unreachable (Infinity) for this long. */
  failureTtlMs?: number
  /** EMA factor for new samples, as Petals' PingAggregator; 1 keeps only the latest sample. */
  emaAlpha?: number
  /** How long an old sample may still be smoothed into a new one. */
  historyMs?: number
  /** Clock in ms; injected so tests control expiry. */
  now?: () => number
}

interface Entry {
  rttMs: number
  measuredAt: number
  freshUntil: number
}

/**
 * Client→server RTT cache. `measure` pings in parallel every requested peer without a fresh value,
 * each with a short timeout, and returns RTTs for all of them (Infinity = unreachable, which the router
 * penalises as Petals does). Concurrent calls share in-flight pings. Successful samples are smoothed
 * with an EMA over the previous finite one, like Petals' PingAggregator.
 */
export class RttCache {
  readonly timeoutMs: number
  readonly ttlMs: number
  readonly failureTtlMs: number
  readonly emaAlpha: number
  readonly historyMs: number
  private readonly ping: PingFn
  private readonly now: () => number
  private readonly entries = new Map<string, Entry>()
  private readonly inFlight = new Map<string, Promise<number>>()

  constructor (options: RttCacheOptions) {
    this.ping = options.ping
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PING_TIMEOUT_MS
    this.ttlMs = options.ttlMs ?? DEFAULT_RTT_TTL_MS
    this.failureTtlMs = options.failureTtlMs ?? DEFAULT_RTT_FAILURE_TTL_MS
    this.emaAlpha = options.emaAlpha ?? PETALS_PING_EMA_ALPHA
    this.historyMs = options.historyMs ?? PETALS_PING_EXPIRATION_MS
    this.now = options.now ?? Date.now
  }

  /** RTTs of `peerIds` in ms, pinging those without a fresh value (all of them if `force`). */
  async measure (peerIds: Iterable<string>, options: { force?: boolean } = {}): Promise<Map<string, number>> {
    const ids = [...new Set(peerIds)]
    const values = await Promise.all(ids.map(async id => {
      const cached = options.force === true ? undefined : this.get(id)
      return cached ?? await this.measureOne(id)
    }))
    return new Map(ids.map((id, i) => [id, values[i]]))
  }

  /** Fresh RTT of `peerId`, or undefined when it must be measured again. */
  get (peerId: string): number | undefined {
    const entry = this.entries.get(peerId)
    return entry != null && this.now() < entry.freshUntil ? entry.rttMs : undefined
  }

  /** Every fresh RTT, as `findRoute`'s `rtts` input. */
  snapshot (): Map<string, number> {
    const now = this.now()
    const out = new Map<string, number>()
    for (const [id, e] of this.entries) if (now < e.freshUntil) out.set(id, e.rttMs)
    return out
  }

  /** Record an RTT measured elsewhere (Infinity for a failure). Returns the stored, smoothed value. */
  record (peerId: string, rttMs: number): number {
    const now = this.now()
    const prev = this.entries.get(peerId)
    let value = rttMs
    if (Number.isFinite(rttMs) && prev != null && Number.isFinite(prev.rttMs) && now - prev.measuredAt < this.historyMs) {
      value = this.emaAlpha * rttMs + (1 - this.emaAlpha) * prev.rttMs
    }
    const ttl = Number.isFinite(value) ? this.ttlMs : this.failureTtlMs
    this.entries.set(peerId, { rttMs: value, measuredAt: now, freshUntil: now + ttl })
    return value
  }

  /** Drop what we know about `peerId` (e.g. it left the swarm). */
  forget (peerId: string): void {
    this.entries.delete(peerId)
  }

  private async measureOne (peerId: string): Promise<number> {
    const running = this.inFlight.get(peerId)
    if (running != null) return await running
    const p = this.pingWithTimeout(peerId).then(rtt => this.record(peerId, rtt))
    this.inFlight.set(peerId, p)
    try {
      return await p
    } finally {
      this.inFlight.delete(peerId)
    }
  }

  /** One ping, Infinity on error, timeout, or a nonsense result. Never rejects. */
  private async pingWithTimeout (peerId: string): Promise<number> {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<number>(resolve => {
      timer = setTimeout(() => {
        controller.abort(new Error(`ping to ${peerId} timed out after ${this.timeoutMs} ms`))
        resolve(Infinity)
      }, this.timeoutMs)
    })
    try {
      const rtt = await Promise.race([this.ping(peerId, controller.signal), timeout])
      return Number.isFinite(rtt) && rtt >= 0 ? rtt : Infinity
    } catch {
      return Infinity
    } finally {
      clearTimeout(timer)
    }
  }
}
