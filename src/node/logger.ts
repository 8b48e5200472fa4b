import { pino, type Logger, type DestinationStream } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }

export interface LoggerOptions {
  level?: string
  /** auto = pretty on a TTY, JSON lines otherwise (so log collectors get structured records). */
  format?: 'auto' | 'pretty' | 'json'
  destination?: DestinationStream
  /** Fields on every line, e.g. a node index in the simulator. */
  base?: Record<string, unknown>
  /** A second destination that gets JSON lines (the API's recent-log ring). */
  extraStream?: { write: (chunk: string) => void }
}

export function createLogger (opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? 'auto'
  const usePretty = format === 'pretty' || (format === 'auto' && opts.destination == null && process.stderr.isTTY === true)
  const base = { ...(opts.base ?? {}) }
  const main: DestinationStream = usePretty
    ? pretty({ colorize: process.stderr.isTTY === true, destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : opts.destination ?? pino.destination({ fd: 2, sync: true })
  const level = opts.level ?? 'info'
  const dest = opts.extraStream == null ? main : pino.multistream([{ stream: main, level: level as pino.Level }, { stream: opts.extraStream, level: level as pino.Level }])
  return pino({ level, base, ...(usePretty ? {} : { timestamp: pino.stdTimeFunctions.isoTime }) }, dest)
}

/** A logger that drops everything: for in-process simulations and unit tests. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
