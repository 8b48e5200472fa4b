// Recent log lines for `/v1/logs`: a bounded ring buffer, plus adapters that feed it from the Petals
// bridge (`backend.onLog`) and from the node's pino logger (as an extra destination stream).
import type { LogLine, LogSourceName } from './types.ts'

export const DEFAULT_LOG_RING_SIZE = 2000
/** Longer lines are cut: a Python traceback line can be huge, and the dashboard shows one line each. */
export const MAX_LOG_LINE_CHARS = 4000

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

/** A fixed-size ring of log lines; the oldest line goes when a new one comes and the ring is full. */
export class LogRing {
  private readonly buf: Array<LogLine | undefined>
  private next = 0
  private count = 0

  constructor (readonly capacity = DEFAULT_LOG_RING_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log ring capacity must be a positive integer, got ${capacity}`)
    this.buf = new Array<LogLine | undefined>(capacity)
  }

  push (line: LogLine): void {
    const text = line.text.length > MAX_LOG_LINE_CHARS ? line.text.slice(0, MAX_LOG_LINE_CHARS) + '…' : line.text
    this.buf[this.next] = { ts: line.ts, source: line.source, level: line.level, text }
    this.next = (this.next + 1) % this.capacity
    this.count = Math.min(this.count + 1, this.capacity)
  }

  /** Oldest first. */
  lines (): LogLine[] {
    const out: LogLine[] = []
    const start = (this.next - this.count + this.capacity) % this.capacity
    for (let i = 0; i < this.count; i++) {
      const l = this.buf[(start + i) % this.capacity]
      if (l != null) out.push(l)
    }
    return out
  }

  get size (): number { return this.count }

  /** A `logLines` source for the API options. */
  source (): () => LogLine[] {
    return () => this.lines()
  }

  /**
   * A pino destination (`pino.multistream([{ stream: ring.pinoStream() }, ...])`) that keeps the node's
   * own log records as `node` lines: message plus the interesting fields, one line each.
   */
  pinoStream (source: LogSourceName = 'node'): { write: (chunk: string) => void } {
    return {
      write: (chunk: string) => {
        for (const raw of chunk.split('\n')) {
          if (raw.trim() === '') continue
          this.push(parsePinoLine(raw, source))
        }
      }
    }
  }
}

/** Parses one pino JSON line; anything else becomes an info line with the raw text. */
export function parsePinoLine (raw: string, source: LogSourceName = 'node'): LogLine {
  try {
    const rec = JSON.parse(raw) as Record<string, unknown>
    const ts = typeof rec.time === 'number' ? rec.time : typeof rec.time === 'string' ? Date.parse(rec.time) : Date.now()
    const level = typeof rec.level === 'number' ? (PINO_LEVELS[rec.level] ?? String(rec.level)) : typeof rec.level === 'string' ? rec.level : 'info'
    const msg = typeof rec.msg === 'string' ? rec.msg : ''
    const extra: string[] = []
    for (const [k, v] of Object.entries(rec)) {
      if (k === 'time' || k === 'level' || k === 'msg' || k === 'pid' || k === 'hostname' || v == null) continue
      extra.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    }
    return { ts: Number.isFinite(ts) ? ts : Date.now(), source, level, text: extra.length > 0 ? `${msg} ${extra.join(' ')}` : msg }
  } catch {
    return { ts: Date.now(), source, level: 'info', text: raw }
  }
}

/** Merges several sources into one list sorted by time (stable for equal times). */
export function mergeLogLines (sources: ReadonlyArray<readonly LogLine[]>): LogLine[] {
  const all: Array<{ l: LogLine, i: number }> = []
  let i = 0
  for (const s of sources) for (const l of s) all.push({ l, i: i++ })
  all.sort((a, b) => (a.l.ts - b.l.ts) || (a.i - b.i))
  return all.map(x => x.l)
}
