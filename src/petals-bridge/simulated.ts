// The simulated backend: same state machine and events as the real one, no Python. It prints Petals-style
// log lines (parsed by the same parser), "loads" blocks on a timer and can be told to fail.

import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:net'
import type { Span } from '../protocols/types.ts'
import { makeFailure } from './failures.ts'
import type { FailureKind } from './failures.ts'
import { PetalsLogParser } from './log-events.ts'
import { silentLogger } from './logger.ts'
import type { BridgeLogger } from './logger.ts'
import type { RestartPolicyOptions } from './restart-policy.ts'
import type { RunExit, RunHandle, Runner, RunSink } from './runner.ts'
import { SupervisedBackend } from './supervisor.ts'
import type { PetalsBackend } from './types.ts'

export interface SimulatedBackendOptions {
  /** Time to load one block (default 50 ms). */
  loadMsPerBlock?: number
  /** Time from launch to "Running a server on" (default 20 ms). */
  startMs?: number
  /** Time a graceful stop takes (default 10 ms). */
  stopMs?: number
  /** Crash this long after each launch (default: never). */
  failAfterMs?: number
  /** What the crash looks like (default 'cuda-oom'). */
  failKind?: FailureKind
  /** How many launches crash (default: every one, when failAfterMs is set). */
  failTimes?: number
  /** Restart policy (default: 50 ms base, 1 s max, 5 restarts per 60 s). */
  restart?: Partial<RestartPolicyOptions>
  petalsPeerId?: string
  /** Announce these instead of listening (nothing answers on them unless you make it). */
  petalsMultiaddrs?: string[]
  /**
   * Listen on a loopback TCP port while "running" and announce it, so peers probing the announced
   * Petals port get an answer, as from a real server (default: true unless petalsMultiaddrs is set).
   */
  listen?: boolean
  /** Model name and DHT prefix used in the simulated log lines. */
  model?: string
  dhtPrefix?: string
  logger?: BridgeLogger
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** A random string shaped like an RSA peer ID ("Qm" + 44 base58 characters). */
export function fakePeerId (): string {
  return 'Qm' + [...randomBytes(44)].map((b) => B58[b % 58]).join('')
}

/** Format a line the way hivemind's log handler does. */
export function petalsLogLine (level: 'INFO' | 'WARN' | 'ERROR', message: string, caller?: string, at = new Date()): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
  const time = `${MONTHS[at.getMonth()]} ${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`
  const callerBlock = level === 'INFO' ? '' : ` [${caller ?? 'petals.server.server.run:0'}]`
  return `${time} [${level}]${callerBlock} ${message}`
}

interface SimSettings {
  loadMsPerBlock: number
  startMs: number
  stopMs: number
  failAfterMs: number | null
  failKind: FailureKind
  failTimes: number
  model: string
  dhtPrefix: string
  peerId: string
  multiaddrs: string[]
  listen: boolean
}

/** A loopback TCP listener that accepts and closes connections: what a port probe needs to see. */
async function listenLoopback (): Promise<{ port: number, server: Server }> {
  const server = createServer((socket) => { socket.on('error', () => {}); socket.end() })
  server.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const addr = server.address()
  if (addr == null || typeof addr === 'string') throw new Error('simulated Petals server has no TCP port')
  return { port: addr.port, server }
}

class SimulatedRunner implements Runner {
  readonly kind = 'simulated' as const
  private readonly settings: SimSettings
  private launches = 0

  constructor (settings: SimSettings) {
    this.settings = settings
  }

  async start (span: Span, initialPeers: string[], sink: RunSink): Promise<RunHandle> {
    this.launches += 1
    const fails = this.settings.failAfterMs != null && this.launches <= this.settings.failTimes
    if (!this.settings.listen) return new SimulatedRun(this.settings, span, initialPeers, sink, fails)
    const { port, server } = await listenLoopback()
    const settings = { ...this.settings, multiaddrs: [`/ip4/127.0.0.1/tcp/${port}/p2p/${this.settings.peerId}`] }
    return new SimulatedRun(settings, span, initialPeers, sink, fails, server)
  }
}

class SimulatedRun implements RunHandle {
  readonly exited: Promise<RunExit>
  private resolveExit!: (exit: RunExit) => void
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly parser = new PetalsLogParser()
  private readonly settings: SimSettings
  private readonly sink: RunSink
  private readonly span: Span
  private done = false
  private online = false
  private readonly server: Server | null

  constructor (settings: SimSettings, span: Span, initialPeers: string[], sink: RunSink, fails: boolean, server: Server | null = null) {
    this.settings = settings
    this.server = server
    this.sink = sink
    this.span = span
    this.exited = new Promise((resolve) => { this.resolveExit = resolve })
    const s = settings
    this.print('INFO', 'Running Petals 2.3.0.dev2 (simulated)')
    this.after(s.startMs, () => {
      this.print('INFO', initialPeers.length > 0
        ? `Connecting to a private swarm, initial peers: [${initialPeers.map((p) => `'${p}'`).join(', ')}]`
        : 'Connecting to a private swarm, initial peers: []')
      this.print('INFO', `Running a server on [${s.multiaddrs.map((m) => `'${m}'`).join(', ')}]`)
      this.print('INFO', `Announced that blocks range(${span.start}, ${span.end}) are joining`)
      // "Started" comes from whichever callback loads the last block: timers set at once run out
      // of order when the event loop is late (Node groups timers by duration), and a separate
      // "Started" timer could then fire before the last "Loaded".
      let loaded = 0
      const total = span.end - span.start
      const started = (): void => { this.online = true; this.print('INFO', 'Started') }
      for (let i = span.start; i < span.end; i++) {
        this.after((i - span.start + 1) * s.loadMsPerBlock, () => {
          this.print('INFO', `Loaded ${s.model} block ${i}`)
          if (++loaded === total) started()
        })
      }
      if (total <= 0) this.after(1, started)
    })
    if (fails) this.after(s.failAfterMs as number, () => { this.crash() })
  }

  async stop (): Promise<void> {
    if (this.done) return
    this.clearTimers()
    this.announceOffline()
    this.print('INFO', 'Caught KeyboardInterrupt, shutting down')
    await new Promise((resolve) => setTimeout(resolve, this.settings.stopMs))
    this.finish({ code: 0, signal: null, failure: null, requested: true })
  }

  private crash (): void {
    if (this.done) return
    this.clearTimers()
    const failure = makeFailure(this.settings.failKind, '(simulated)')
    this.announceOffline()
    this.print('ERROR', `${failure.message}`, 'petalmesh.simulated:0')
    this.finish({ code: 1, signal: null, failure, requested: false })
  }

  private announceOffline (): void {
    const uids = []
    for (let i = this.span.start; i < this.span.end; i++) uids.push(`'${this.settings.dhtPrefix}.${i}'`)
    this.print('INFO', `Announced that blocks [${uids.join(', ')}] are offline`)
    if (this.online) this.print('INFO', 'Module container shut down successfully')
  }

  private finish (exit: RunExit): void {
    if (this.done) return
    this.done = true
    this.server?.close()
    this.resolveExit(exit)
  }

  private print (level: 'INFO' | 'WARN' | 'ERROR', message: string, caller?: string): void {
    const line = petalsLogLine(level, message, caller)
    this.sink.log({ ts: Date.now(), source: 'petals', level: level === 'INFO' ? 'info' : level === 'WARN' ? 'warn' : 'error', text: line })
    for (const event of this.parser.push(line)) {
      if (event.event !== 'crashed') this.sink.event(event)
    }
  }

  private after (ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      if (!this.done) fn()
    }, ms)
    this.timers.add(timer)
  }

  private clearTimers (): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }
}

/** A backend that behaves like the Petals one (states, events, crashes, backoff) without any process. */
export function createSimulatedBackend (opts: SimulatedBackendOptions = {}): PetalsBackend {
  const peerId = opts.petalsPeerId ?? fakePeerId()
  const multiaddrs = opts.petalsMultiaddrs ?? [`/ip4/127.0.0.1/tcp/31330/p2p/${peerId}`]
  const model = opts.model ?? 'petalmesh/simulated-model'
  const runner = new SimulatedRunner({
    loadMsPerBlock: opts.loadMsPerBlock ?? 50,
    startMs: opts.startMs ?? 20,
    stopMs: opts.stopMs ?? 10,
    failAfterMs: opts.failAfterMs ?? null,
    failKind: opts.failKind ?? 'cuda-oom',
    failTimes: opts.failTimes ?? Number.POSITIVE_INFINITY,
    model,
    dhtPrefix: opts.dhtPrefix ?? model.split('/').at(-1)!.replaceAll('.', '-'),
    peerId,
    multiaddrs,
    listen: opts.listen ?? opts.petalsMultiaddrs == null
  })
  return new SupervisedBackend({
    runner,
    restart: { backoffBaseMs: 50, backoffMaxMs: 1_000, maxRestarts: 5, windowMs: 60_000, ...opts.restart },
    petalsPeerId: peerId,
    petalsMultiaddrs: multiaddrs,
    logger: opts.logger ?? silentLogger
  })
}
