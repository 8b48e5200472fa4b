// Typed errors carry the context a user needs to act, and the exit code a command should return.

export class PetalmeshError extends Error {
  readonly exitCode: number
  constructor (message: string, opts: { exitCode?: number, cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'PetalmeshError'
    this.exitCode = opts.exitCode ?? 1
  }
}

/** A configuration problem: names the key, the value it had, and what is allowed. Exit code 2. */
export class ConfigError extends PetalmeshError {
  readonly key: string
  readonly value: unknown
  readonly source: string | undefined
  constructor (key: string, value: unknown, allowed: string, source?: string) {
    const shown = value === undefined ? '' : ` = ${JSON.stringify(value)}`
    const where = source != null ? ` (from ${source})` : ''
    super(`invalid config: ${key}${shown}${where}: ${allowed}`, { exitCode: 2 })
    this.name = 'ConfigError'
    this.key = key
    this.value = value
    this.source = source
  }
}

/** The user asked for something malformed (bad flag value, unreadable file). Exit code 2. */
export class UsageError extends PetalmeshError {
  constructor (message: string, cause?: unknown) {
    super(message, { exitCode: 2, cause })
    this.name = 'UsageError'
  }
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
