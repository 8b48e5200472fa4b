// One line of Petals output in hivemind's log format (hivemind/utils/logging.py):
//   "{asctime}.{msecs:03.0f} [{levelname}]{caller_block} {message}", datefmt "%b %d %H:%M:%S"
// WARNING prints as WARN; non-INFO records carry " [logger.func:lineno]".

export type PetalsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL'

export interface PetalsLogRecord {
  /** Timestamp as printed, e.g. "Jul 23 13:07:31.667" (no year in Petals' format). */
  time: string
  level: PetalsLogLevel
  /** "logger.func:lineno" for non-INFO records, else null. */
  caller: string | null
  message: string
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g // eslint-disable-line no-control-regex
const RECORD = /^(\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}) \[(DEBUG|INFO|WARN|ERROR|CRITICAL)\](?: \[([^\]]+)\])? (.*)$/

export function stripAnsi (text: string): string {
  return text.replace(ANSI, '')
}

/** Parse a formatted log record; null for anything else (traceback lines, progress bars, warnings). */
export function parseLogRecord (line: string): PetalsLogRecord | null {
  const match = RECORD.exec(stripAnsi(line).trimEnd())
  if (match == null) return null
  return { time: match[1], level: match[2] as PetalsLogLevel, caller: match[3] ?? null, message: match[4] }
}

/** The logger level a line of Petals output maps to. */
export function levelOf (record: PetalsLogRecord | null): 'debug' | 'info' | 'warn' | 'error' {
  switch (record?.level) {
    case 'DEBUG': return 'debug'
    case 'WARN': return 'warn'
    case 'ERROR':
    case 'CRITICAL': return 'error'
    default: return 'info'
  }
}
