// The minimal logger the bridge accepts (pino-compatible: a pino logger satisfies it as is).

type LogFn = {
  (msg: string, ...args: unknown[]): void
  (obj: object, msg?: string, ...args: unknown[]): void
}

export interface BridgeLogger {
  info: LogFn
  warn: LogFn
  error: LogFn
  debug: LogFn
}

const noop = (): void => {}

/** A logger that drops everything; the default when none is injected. */
export const silentLogger: BridgeLogger = { info: noop, warn: noop, error: noop, debug: noop }
