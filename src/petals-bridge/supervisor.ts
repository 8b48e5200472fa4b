// The backend state machine shared by the real and the simulated backend:
//
//   stopped --setSpan(s)--> [waiting] --> starting --joining--> loading --Started--> online
//      ^                                    |  \_____________________|__________________|
//      |                                    v        (exit, not requested)
//      |                                 crashed --backoff--> starting ...   (more than maxRestarts in window -> failed)
//      +-- stopping <-- setSpan(null) / new span (graceful stop, then start on the new span)
//
// `waiting` only with SetSpanOptions.resolveInitialPeers: the launch waits for its initial peers
// (a restart after a crash waits in `crashed`). A change of span or close() cancels the wait.
// All transitions run one at a time on a queue; process events update status directly.

import type { Span } from '../protocols/types.ts'
import { BackendClosedError, PetalsBridgeError } from './errors.ts'
import { makeFailure } from './failures.ts'
import type { Failure } from './failures.ts'
import type { PetalsEvent } from './log-events.ts'
import { silentLogger } from './logger.ts'
import type { BridgeLogger } from './logger.ts'
import { RestartPolicy } from './restart-policy.ts'
import type { RestartPolicyOptions } from './restart-policy.ts'
import type { RunExit, RunHandle, Runner } from './runner.ts'
import type { BackendLogLine, BackendStatus, InitialPeersResolver, PetalsBackend, SetSpanOptions } from './types.ts'

export interface SupervisorOptions {
  runner: Runner
  restart: RestartPolicyOptions
  petalsPeerId: string | null
  petalsMultiaddrs: string[]
  logger?: BridgeLogger
  now?: () => number
  /** Called once after close() has stopped everything (e.g. to close the log file). */
  onClosed?: () => void
}

interface CurrentRun {
  handle: RunHandle
  span: Span
}

export function spansEqual (a: Span | null, b: Span | null): boolean {
  if (a == null || b == null) return a === b
  return a.start === b.start && a.end === b.end
}

const isLoopback = (maddr: string): boolean => /^\/ip4\/127\.|^\/ip6\/::1\//.test(maddr)

/** Turn an error thrown by Runner.start into a failure (configuration problems are permanent). */
export function failureFromStartError (err: unknown): Failure {
  if (err instanceof PetalsBridgeError) {
    const failure = makeFailure('invalid-config', err.message)
    return { ...failure, hint: err.hint }
  }
  return makeFailure('exited', `could not start: ${(err as Error)?.message ?? String(err)}`)
}

export class SupervisedBackend implements PetalsBackend {
  readonly kind: 'petals' | 'simulated'
  readonly needsInitialPeers: boolean
  private readonly runner: Runner
  private readonly policy: RestartPolicy
  private readonly restart: RestartPolicyOptions
  private activeRun: symbol | null = null
  private readonly logger: BridgeLogger
  private readonly now: () => number
  private readonly onClosed: (() => void) | undefined
  private current: BackendStatus
  private desired: { span: Span | null, initialPeers: string[], resolvePeers: InitialPeersResolver | null } = { span: null, initialPeers: [], resolvePeers: null }
  /** A launch waiting for its initial peers: aborted when that launch is no longer wanted. */
  private launchWait: AbortController | null = null
  private run: CurrentRun | null = null
  private failedSpan: Span | null = null
  private restartTimer: { timer: NodeJS.Timeout, span: Span } | null = null
  private queue: Promise<void> = Promise.resolve()
  private closed = false
  private readonly statusListeners = new Set<(s: BackendStatus) => void>()
  private readonly logListeners = new Set<(l: BackendLogLine) => void>()

  constructor (opts: SupervisorOptions) {
    this.runner = opts.runner
    this.kind = opts.runner.kind
    // Only a real Petals server joins a DHT that initial peers must lead to.
    this.needsInitialPeers = opts.runner.kind === 'petals'
    this.policy = new RestartPolicy(opts.restart)
    this.restart = opts.restart
    this.logger = opts.logger ?? silentLogger
    this.now = opts.now ?? Date.now
    this.onClosed = opts.onClosed
    this.current = {
      state: 'stopped',
      span: null,
      loading: null,
      petalsPeerId: opts.petalsPeerId,
      petalsMultiaddrs: [...opts.petalsMultiaddrs],
      dhtReady: false,
      restarts: 0,
      lastError: null
    }
  }

  status (): BackendStatus {
    return structuredClone(this.current)
  }

  onStatus (listener: (s: BackendStatus) => void): () => void {
    this.statusListeners.add(listener)
    return () => { this.statusListeners.delete(listener) }
  }

  onLog (listener: (line: BackendLogLine) => void): () => void {
    this.logListeners.add(listener)
    return () => { this.logListeners.delete(listener) }
  }

  async setSpan (span: Span | null, opts: SetSpanOptions = {}): Promise<void> {
    if (this.closed) throw new BackendClosedError()
    const wanted = span == null ? null : { start: span.start, end: span.end }
    if (opts.initialPeers != null) this.desired.initialPeers = [...opts.initialPeers]
    if (opts.resolveInitialPeers !== undefined) this.desired.resolvePeers = opts.resolveInitialPeers
    const unchanged = spansEqual(wanted, this.desired.span)
    this.desired.span = wanted
    if (unchanged) return await this.queue // idempotent: same span, nothing to do (a failed span stays failed)
    // A launch still waiting for its initial peers is for a span we no longer want: let the queue move on.
    this.launchWait?.abort()
    await this.enqueue(async () => { await this.reconcile() })
  }

  async close (): Promise<void> {
    if (this.closed) return await this.queue
    this.closed = true
    this.desired.span = null
    this.launchWait?.abort()
    this.cancelRestart()
    await this.enqueue(async () => {
      await this.reconcile()
      this.onClosed?.()
    })
  }

  // --- transitions (always on the queue) ---

  private enqueue (fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn).catch((err: unknown) => {
      this.bridgeLog('error', `supervisor error: ${(err as Error)?.stack ?? String(err)}`)
    })
    this.queue = next
    return next
  }

  private async reconcile (): Promise<void> {
    const want = this.desired.span
    if (this.run != null && !spansEqual(this.run.span, want)) {
      await this.stopRun(want == null ? 'serving nothing' : `moving to span ${want.start}:${want.end}`)
    }
    if (want == null) {
      this.cancelRestart()
      this.failedSpan = null
      this.policy.reset() // the next assignment is a fresh attempt
      this.update({ state: 'stopped', span: null, loading: null, dhtReady: false })
      return
    }
    if (this.run != null) return
    if (this.current.state === 'failed' && spansEqual(this.failedSpan, want)) return
    if (this.restartTimer != null && spansEqual(this.restartTimer.span, want)) return // backoff pending
    this.cancelRestart()
    if (this.current.state === 'failed') {
      this.policy.reset()
      this.failedSpan = null
    }
    await this.launch(want)
  }

  private async launch (span: Span, isRestart = false): Promise<void> {
    const peers = await this.initialPeers(span, isRestart)
    if (peers == null) return // no longer wanted (the queued reconcile takes over), or failed (retried like a crash)
    this.update({ state: 'starting', span, loading: null, dhtReady: false, restarts: this.current.restarts + (isRestart ? 1 : 0) })
    this.bridgeLog('info', `starting Petals on blocks ${span.start}:${span.end}`)
    const token = Symbol('run')
    this.activeRun = token
    let handle: RunHandle
    try {
      handle = await this.runner.start(span, peers, {
        event: (e) => { if (this.activeRun === token) this.onEvent(e) },
        log: (line) => { this.emitLog(line) }
      })
    } catch (err) {
      this.activeRun = null
      const failure = failureFromStartError(err)
      if (!(err instanceof PetalsBridgeError)) {
        this.bridgeLog('error', `failed to start Petals: ${(err as Error)?.stack ?? String(err)}`)
      }
      this.onCrash(span, failure)
      return
    }
    const run: CurrentRun = { handle, span }
    this.run = run
    void handle.exited.then((exit) => this.enqueue(async () => { this.onExit(run, exit) }))
  }

  /** The initial peers for this launch, or null if it does not happen now (cancelled while waiting, or the resolver failed). */
  private async initialPeers (span: Span, isRestart: boolean): Promise<string[] | null> {
    const resolvePeers = this.desired.resolvePeers
    if (resolvePeers == null) return [...this.desired.initialPeers]
    const ctl = new AbortController()
    this.launchWait = ctl
    // A restart waits in `crashed`: peers count a crashed server as launched (node/petals-seed.ts).
    if (!isRestart) this.update({ state: 'waiting', span, loading: null, dhtReady: false })
    try {
      const cancelled = new Promise<null>((resolve) => { ctl.signal.addEventListener('abort', () => { resolve(null) }, { once: true }) })
      const peers = await Promise.race([resolvePeers({ span, restart: isRestart, signal: ctl.signal }), cancelled])
      if (peers == null || ctl.signal.aborted || this.closed || !spansEqual(this.desired.span, span)) return null
      return [...peers]
    } catch (err) {
      if (ctl.signal.aborted) return null
      // Not a reason to start a swarm of our own: a failed start, retried after the backoff.
      this.bridgeLog('error', `could not get the initial peers: ${(err as Error)?.stack ?? String(err)}`)
      this.onCrash(span, failureFromStartError(err))
      return null
    } finally {
      if (this.launchWait === ctl) this.launchWait = null
    }
  }

  private async stopRun (why: string): Promise<void> {
    const run = this.run
    if (run == null) return
    this.bridgeLog('info', `stopping Petals (${why})`)
    this.activeRun = null
    this.update({ state: 'stopping', dhtReady: false }) // its DHT is going away
    await run.handle.stop()
    if (this.run === run) this.run = null
  }

  private onExit (run: CurrentRun, exit: RunExit): void {
    if (this.run !== run) return // stopped on purpose, already handled
    this.run = null
    this.activeRun = null
    if (exit.requested) return
    const failure = exit.failure ??
      (exit.signal != null
        ? makeFailure('killed', `terminated by ${exit.signal}`)
        : makeFailure('exited', `exit code ${String(exit.code)}`))
    this.onCrash(run.span, failure)
  }

  private onCrash (span: Span, failure: Failure): void {
    const lastError = { kind: failure.kind, message: failure.message, hint: failure.hint }
    if (failure.permanent) {
      this.giveUp(span, lastError, 'restarting cannot fix this')
      return
    }
    const decision = this.policy.recordCrash(this.now())
    if (decision.action === 'give-up') {
      this.giveUp(span, lastError, `${decision.crashesInWindow} crashes within ${Math.round(this.restart.windowMs / 1000)} s`)
      return
    }
    this.bridgeLog('warn', `Petals crashed (${failure.kind}): ${failure.message}; restarting in ${decision.delayMs} ms`)
    this.update({ state: 'crashed', loading: null, dhtReady: false, lastError })
    const timer = setTimeout(() => {
      if (this.restartTimer?.timer !== timer) return
      this.restartTimer = null
      void this.enqueue(async () => {
        if (this.closed || this.run != null) return
        if (!spansEqual(this.desired.span, span)) { await this.reconcile(); return }
        await this.launch(span, true)
      })
    }, decision.delayMs)
    timer.unref?.()
    this.restartTimer = { timer, span }
  }

  private giveUp (span: Span, lastError: BackendStatus['lastError'] & object, why: string): void {
    this.failedSpan = span
    const message = `${lastError.message} (giving up: ${why}; the node stays on standby)`
    this.bridgeLog('error', `Petals failed (${lastError.kind}): ${message}. ${lastError.hint}`)
    this.update({ state: 'failed', loading: null, dhtReady: false, lastError: { ...lastError, message } })
  }

  private cancelRestart (): void {
    if (this.restartTimer != null) {
      clearTimeout(this.restartTimer.timer)
      this.restartTimer = null
    }
  }

  // --- events from the running server ---

  private onEvent (e: PetalsEvent): void {
    switch (e.event) {
      case 'dht_ready': {
        if (e.peerId != null && this.current.petalsPeerId != null && e.peerId !== this.current.petalsPeerId) {
          this.bridgeLog('warn', `Petals runs as ${e.peerId}, not as ${this.current.petalsPeerId} from its identity file`)
        }
        const routable = e.multiaddrs.filter((m) => !isLoopback(m))
        const multiaddrs = routable.length > 0 ? routable : e.multiaddrs
        this.update({
          petalsPeerId: e.peerId ?? this.current.petalsPeerId,
          petalsMultiaddrs: multiaddrs.length > 0 ? multiaddrs : this.current.petalsMultiaddrs,
          // From here on its DHT answers pings (hivemind's DHT(start=True) returned), unless it is a client-mode one.
          dhtReady: e.dhtServer
        })
        break
      }
      case 'joining':
        this.update({ state: 'loading', loading: { done: 0, total: e.span.end - e.span.start } })
        break
      case 'loading':
        // Progress never takes an online server back to loading (a late or repeated line).
        if (this.current.state !== 'online') this.update({ state: 'loading', loading: { done: e.done, total: e.total } })
        break
      case 'online':
        this.bridgeLog('info', `Petals is online on blocks ${this.run?.span.start}:${this.run?.span.end}`)
        this.update({ state: 'online', loading: null, lastError: null })
        break
      case 'crashed':
        this.update({ lastError: { kind: e.reason, message: e.message, hint: e.hint } })
        break
      default:
        break
    }
  }

  // --- plumbing ---

  private update (patch: Partial<BackendStatus>): void {
    const next = { ...this.current, ...patch }
    if (JSON.stringify(next) === JSON.stringify(this.current)) return
    this.current = next
    const snapshot = this.status()
    for (const listener of this.statusListeners) {
      try {
        listener(structuredClone(snapshot))
      } catch (err) {
        this.logger.error({ err }, 'petals status listener failed')
      }
    }
  }

  private emitLog (line: BackendLogLine): void {
    for (const listener of this.logListeners) {
      try {
        listener(line)
      } catch {}
    }
  }

  private bridgeLog (level: 'info' | 'warn' | 'error', text: string): void {
    this.logger[level]({ component: 'petals-bridge' }, text)
    this.emitLog({ ts: Date.now(), source: 'bridge', level, text })
  }
}
