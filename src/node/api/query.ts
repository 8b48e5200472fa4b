// Strict query-string parsing for the HTTP API: every bad or unknown parameter is a 400 with a
// message that says what was expected, so a typo (`?mod=`) never silently falls back to a default.

export class HttpError extends Error {
  constructor (readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
  }
}

/** Refuses parameters outside `allowed` and parameters given twice. */
export function checkParams (url: URL, allowed: readonly string[]): void {
  const seen = new Set<string>()
  for (const key of url.searchParams.keys()) {
    if (!allowed.includes(key)) {
      const hint = allowed.length === 0 ? 'this endpoint takes no parameters' : `allowed: ${allowed.join(', ')}`
      throw new HttpError(400, `unknown query parameter ${JSON.stringify(key)} (${hint})`)
    }
    if (seen.has(key)) throw new HttpError(400, `query parameter ${JSON.stringify(key)} given more than once`)
    seen.add(key)
  }
}

export function stringParam (url: URL, name: string): string | null {
  return url.searchParams.get(name)
}

export function intParam (url: URL, name: string, opts: { min: number, max: number }): number | null
export function intParam (url: URL, name: string, opts: { min: number, max: number, default: number }): number
export function intParam (url: URL, name: string, opts: { min: number, max: number, default?: number }): number | null {
  const raw = url.searchParams.get(name)
  if (raw == null) return opts.default ?? null
  if (!/^-?\d+$/.test(raw.trim())) throw new HttpError(400, `${name} must be an integer between ${opts.min} and ${opts.max}, got ${JSON.stringify(raw)}`)
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < opts.min || n > opts.max) throw new HttpError(400, `${name} must be an integer between ${opts.min} and ${opts.max}, got ${raw}`)
  return n
}

export function numberParam (url: URL, name: string, opts: { min: number, max: number }): number | null {
  const raw = url.searchParams.get(name)
  if (raw == null) return null
  const n = raw.trim() === '' ? NaN : Number(raw)
  if (!Number.isFinite(n) || n < opts.min || n > opts.max) throw new HttpError(400, `${name} must be a number between ${opts.min} and ${opts.max}, got ${JSON.stringify(raw)}`)
  return n
}

export function enumParam<T extends string> (url: URL, name: string, values: readonly T[], fallback: T): T
export function enumParam<T extends string> (url: URL, name: string, values: readonly T[]): T | null
export function enumParam<T extends string> (url: URL, name: string, values: readonly T[], fallback?: T): T | null {
  const raw = url.searchParams.get(name)
  if (raw == null) return fallback ?? null
  if (!(values as readonly string[]).includes(raw)) throw new HttpError(400, `${name} must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`)
  return raw as T
}

/** A comma-separated list of values from `values`; null when absent. */
export function enumListParam<T extends string> (url: URL, name: string, values: readonly T[]): Set<T> | null {
  const raw = url.searchParams.get(name)
  if (raw == null) return null
  const items = raw.split(',').map(s => s.trim()).filter(s => s !== '')
  if (items.length === 0) throw new HttpError(400, `${name} must list one or more of ${values.join(', ')}`)
  for (const it of items) {
    if (!(values as readonly string[]).includes(it)) throw new HttpError(400, `${name}: ${JSON.stringify(it)} is not one of ${values.join(', ')}`)
  }
  return new Set(items as T[])
}

export function boolParam (url: URL, name: string, fallback: boolean): boolean {
  const raw = url.searchParams.get(name)
  if (raw == null) return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new HttpError(400, `${name} must be true or false, got ${JSON.stringify(raw)}`)
}
