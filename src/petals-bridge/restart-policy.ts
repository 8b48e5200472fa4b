// Crash -> restart with exponential backoff; more than `maxRestarts` crashes within `windowMs` -> give up.

export interface RestartPolicyOptions {
  backoffBaseMs: number
  backoffMaxMs: number
  maxRestarts: number
  windowMs: number
}

export type RestartDecision =
  | { action: 'restart', delayMs: number, crashesInWindow: number }
  | { action: 'give-up', crashesInWindow: number }

export class RestartPolicy {
  private readonly opts: RestartPolicyOptions
  private crashes: number[] = []

  constructor (opts: RestartPolicyOptions) {
    this.opts = opts
  }

  /** Record a crash at `now` and decide what to do. */
  recordCrash (now: number): RestartDecision {
    this.crashes = this.crashes.filter((t) => now - t < this.opts.windowMs)
    this.crashes.push(now)
    const n = this.crashes.length
    if (n > this.opts.maxRestarts) return { action: 'give-up', crashesInWindow: n }
    const delayMs = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (n - 1))
    return { action: 'restart', delayMs, crashesInWindow: n }
  }

  reset (): void {
    this.crashes = []
  }
}
