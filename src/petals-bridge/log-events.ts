// Petals' output -> typed lifecycle events (reference §2.2-2.6 and §9):
//   "Running a server on [...]"          -> dht_ready (peer ID = last /p2p/ component; dhtServer false
//                                           after "This server is accessible via relays")
//   "Announced that blocks ... are joining" -> joining (span)
//   "Loaded <model> block i"             -> loading i/n
//   "Started"                            -> online
//   "Announced that blocks ... are offline" -> offline
//   repeated "Failed to load file ..."   -> crashed (stuck-download)
//   uncaught exception / argparse error  -> crashed (classified)

import type { Span } from '../protocols/types.ts'
import { classifyFailureText, makeFailure } from './failures.ts'
import type { FailureKind } from './failures.ts'
import { parseLogRecord, stripAnsi } from './log-format.ts'

interface Base { time: string | null }

export type PetalsEvent =
  | Base & { event: 'version', version: string }
  | Base & { event: 'dht_prefix', prefix: string }
  | Base & { event: 'swarm', swarm: 'public' | 'private', initialPeers: string[] }
  /**
   * The server's DHT is up. `dhtServer` is false when Petals said "This server is accessible via
   * relays": its DHT then runs in client mode (petals server.py:137-147) and answers no pings
   * (hivemind dht/protocol.py:73-74), so it cannot be another server's initial peer.
   */
  | Base & { event: 'dht_ready', peerId: string | null, multiaddrs: string[], dhtServer: boolean }
  | Base & { event: 'joining', span: Span }
  | Base & { event: 'loading', block: number, done: number, total: number }
  | Base & { event: 'throughput', tokensPerSec: number, blocks: number }
  | Base & { event: 'online', span: Span | null }
  | Base & { event: 'rebalancing' }
  | Base & { event: 'offline', blocks: number[] }
  | Base & { event: 'shutdown' }
  | Base & { event: 'interrupted' }
  | Base & { event: 'download_retry', file: string, count: number }
  | Base & { event: 'crashed', reason: FailureKind, message: string, hint: string, permanent: boolean }

export type PetalsEventName = PetalsEvent['event']

export interface LogParserOptions {
  /** Consecutive "Failed to load file" warnings after which the download counts as stuck (default 3). */
  stuckDownloadRetries?: number
}

/** Python reprs Petals prints: `range(2, 5)`, `[60, 61, 62]`, `['prefix.60', 'prefix.61']`. */
export function parseBlockList (text: string): number[] {
  const range = /^range\((\d+), (\d+)\)$/.exec(text.trim())
  if (range != null) {
    const blocks: number[] = []
    for (let i = Number(range[1]); i < Number(range[2]); i++) blocks.push(i)
    return blocks
  }
  const quoted = [...text.matchAll(/'([^']*)'/g)].map((m) => m[1])
  if (quoted.length > 0) {
    return quoted.map((uid) => Number(/\.(\d+)$/.exec(uid)?.[1] ?? NaN)).filter((n) => Number.isInteger(n))
  }
  return [...text.matchAll(/-?\d+/g)].map((m) => Number(m[0]))
}

function spanOf (blocks: number[]): Span | null {
  if (blocks.length === 0) return null
  return { start: Math.min(...blocks), end: Math.max(...blocks) + 1 }
}

/** Streaming parser: feed it lines in order, collect the events each line produces. */
export class PetalsLogParser {
  private readonly stuckAfter: number
  private span: Span | null = null
  private loaded = 0
  private downloadFailures = 0
  private sawDiskSpace = false
  private viaRelays = false
  private crashed = false
  private lastWasRecord = false
  private recordRecoverable = false
  private tracebackAttached = false
  private chaining = false

  constructor (opts: LogParserOptions = {}) {
    this.stuckAfter = opts.stuckDownloadRetries ?? 3
  }

  /** Events derived from one line of output (stdout or stderr). */
  push (rawLine: string): PetalsEvent[] {
    const line = stripAnsi(rawLine).replace(/\s+$/, '')
    if (line === '' || line.startsWith('[petalmesh]')) return [] // the bridge's own notes in the log file
    const record = parseLogRecord(line)
    if (record != null) return this.onRecord(record.time, record.level, record.message)
    return this.onRaw(line)
  }

  private onRecord (time: string, level: string, message: string): PetalsEvent[] {
    this.lastWasRecord = true
    this.chaining = false
    this.recordRecoverable = level === 'WARN' || level === 'DEBUG' || (level === 'ERROR' && /attempting to recover/.test(message))
    const events: PetalsEvent[] = []
    let match: RegExpExecArray | null

    if ((match = /^Running Petals (\S+)/.exec(message)) != null) {
      this.reset()
      events.push({ event: 'version', time, version: match[1] })
    } else if ((match = /^This server is accessible (directly|via relays)$/.exec(message)) != null) {
      this.viaRelays = match[1] === 'via relays'
    } else if ((match = /^Using DHT prefix: (.+)$/.exec(message)) != null) {
      events.push({ event: 'dht_prefix', time, prefix: match[1] })
    } else if (message === 'Connecting to the public swarm') {
      events.push({ event: 'swarm', time, swarm: 'public', initialPeers: [] })
    } else if ((match = /^Connecting to a private swarm, initial peers: \[(.*)\]$/.exec(message)) != null) {
      events.push({ event: 'swarm', time, swarm: 'private', initialPeers: [...match[1].matchAll(/'([^']*)'/g)].map((m) => m[1]) })
    } else if ((match = /^Running a server on \[(.*)\]$/.exec(message)) != null) {
      const multiaddrs = [...match[1].matchAll(/'([^']*)'/g)].map((m) => m[1])
      const peerId = multiaddrs.map((m) => /\/p2p\/([^/]+)\/?$/.exec(m)?.[1]).find((id) => id != null) ?? null
      events.push({ event: 'dht_ready', time, peerId, multiaddrs, dhtServer: !this.viaRelays })
    } else if ((match = /^Announced that blocks (.+) are joining$/.exec(message)) != null) {
      this.span = spanOf(parseBlockList(match[1]))
      this.loaded = 0
      this.downloadFailures = 0
      if (this.span != null) events.push({ event: 'joining', time, span: this.span })
    } else if (/^Loaded adapter \S+ for block \d+/.test(message)) {
      // adapter weights of an already counted block
    } else if ((match = /^Loaded (.+) block (\d+)(?:,.*)?$/.exec(message)) != null) {
      this.loaded += 1
      this.downloadFailures = 0
      const total = this.span == null ? this.loaded : this.span.end - this.span.start
      events.push({ event: 'loading', time, block: Number(match[2]), done: Math.min(this.loaded, total), total })
    } else if ((match = /^Reporting throughput: ([\d.]+) tokens\/sec for (\d+) blocks/.exec(message)) != null) {
      events.push({ event: 'throughput', time, tokensPerSec: Number(match[1]), blocks: Number(match[2]) })
    } else if (message === 'Started') {
      events.push({ event: 'online', time, span: this.span })
    } else if (message === 'Swarm is imbalanced, server will load other blocks') {
      events.push({ event: 'rebalancing', time })
    } else if ((match = /^Announced that blocks (.+) are offline$/.exec(message)) != null) {
      events.push({ event: 'offline', time, blocks: parseBlockList(match[1]) })
    } else if (message === 'Module container shut down successfully') {
      events.push({ event: 'shutdown', time })
    } else if (message === 'Caught KeyboardInterrupt, shutting down') {
      events.push({ event: 'interrupted', time })
    } else if ((match = /^Failed to load (?:file|block) (\S+) from HF Hub/.exec(message)) != null) {
      this.downloadFailures += 1
      events.push({ event: 'download_retry', time, file: match[1], count: this.downloadFailures })
      if (this.downloadFailures >= this.stuckAfter) {
        const kind = this.sawDiskSpace ? 'disk-space' : 'stuck-download'
        events.push(...this.crash(time, makeFailure(kind, `${this.downloadFailures} failed attempts to load ${match[1]}`)))
      }
    } else if (level === 'ERROR' || level === 'CRITICAL') {
      if (!this.recordRecoverable) {
        const failure = classifyFailureText(message)
        if (failure != null) events.push(...this.crash(time, failure))
      }
    }
    return events
  }

  private onRaw (line: string): PetalsEvent[] {
    const wasRecord = this.lastWasRecord
    this.lastWasRecord = false
    if (line.startsWith('Traceback (most recent call last):')) {
      if (wasRecord) this.tracebackAttached = this.recordRecoverable
      else if (!this.chaining) this.tracebackAttached = false
      this.chaining = false
      return []
    }
    if (/^(During handling of the above exception|The above exception was the direct cause)/.test(line)) {
      this.chaining = true
      return []
    }
    if (/Insufficient disk space to load a block/.test(line)) this.sawDiskSpace = true
    if (this.tracebackAttached || /^\s/.test(line)) return []
    const failure = classifyFailureText(line)
    return failure == null ? [] : this.crash(null, failure)
  }

  private crash (time: string | null, failure: ReturnType<typeof makeFailure>): PetalsEvent[] {
    if (this.crashed) return []
    this.crashed = true
    return [{ event: 'crashed', time, reason: failure.kind, message: failure.message, hint: failure.hint, permanent: failure.permanent }]
  }

  private reset (): void {
    this.span = null
    this.loaded = 0
    this.downloadFailures = 0
    this.sawDiskSpace = false
    this.viaRelays = false
    this.crashed = false
  }
}

/** All events of a complete log (e.g. a saved Petals log file). */
export function parsePetalsLog (text: string, opts?: LogParserOptions): PetalsEvent[] {
  const parser = new PetalsLogParser(opts)
  return text.split(/\r\n|\r|\n/).flatMap((line) => parser.push(line))
}
