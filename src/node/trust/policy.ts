// Admission policy: which peers may connect to this node and have their records and heartbeats
// accepted. A denylist always wins; an allowlist, when not empty, admits only the peers it names.
// The lists are the union of the static config lists (trust.allow / trust.deny) and the lists of
// the watched list file (trust.listFile), which can change at run time.
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../../util/errors.ts'
import { canonicalPeerId } from './config.ts'

export interface AdmissionLists {
  allow: readonly string[]
  deny: readonly string[]
}

/** What an enforcement point needs: the connection gater and the membership validator call this. */
export interface AdmissionCheck {
  isAdmitted: (peerId: string) => boolean
}

export type AdmissionListener = (policy: AdmissionPolicy) => void

export class AdmissionPolicy implements AdmissionCheck {
  private readonly base: { allow: Set<string>, deny: Set<string> }
  private file: { allow: Set<string>, deny: Set<string> } = { allow: new Set(), deny: new Set() }
  private allow = new Set<string>()
  private deny = new Set<string>()
  private readonly self: string | undefined
  private readonly listeners = new Set<AdmissionListener>()

  /**
   * @param opts.allow, opts.deny - static lists (peer id strings; validated and canonicalised)
   * @param opts.self - this node's own peer id: always admitted (its own records come back in snapshots)
   */
  constructor (opts: { allow?: readonly string[], deny?: readonly string[], self?: string } = {}) {
    this.base = {
      allow: new Set(normalizeList(opts.allow ?? [], 'trust.allow')),
      deny: new Set(normalizeList(opts.deny ?? [], 'trust.deny'))
    }
    this.self = opts.self != null ? canonicalPeerId(opts.self) : undefined
    this.recompute()
  }

  /** True when the peer may connect and publish: not denied, and allowed if an allowlist is set. */
  isAdmitted (peerId: string): boolean {
    if (peerId === this.self) return true
    if (this.deny.has(peerId)) return false
    return this.allow.size === 0 || this.allow.has(peerId)
  }

  /** Replaces the list file's contribution (null: no file lists). Listeners run only if the effective lists changed. */
  setFileLists (lists: AdmissionLists | null): boolean {
    this.file = {
      allow: new Set(lists?.allow ?? []),
      deny: new Set(lists?.deny ?? [])
    }
    return this.recompute()
  }

  /** The effective lists (config ∪ file), sorted. */
  lists (): { allow: string[], deny: string[] } {
    return { allow: [...this.allow].sort(), deny: [...this.deny].sort() }
  }

  /** Calls `fn` after every change of the effective lists; returns the unsubscribe function. */
  onChange (fn: AdmissionListener): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  private recompute (): boolean {
    const allow = new Set([...this.base.allow, ...this.file.allow])
    const deny = new Set([...this.base.deny, ...this.file.deny])
    const changed = !sameSet(allow, this.allow) || !sameSet(deny, this.deny)
    this.allow = allow
    this.deny = deny
    if (changed) {
      for (const fn of [...this.listeners]) {
        try { fn(this) } catch { /* a listener's failure must not stop the others */ }
      }
    }
    return changed
  }
}

/**
 * Parses a list file's text: a JSON or YAML object `{ allow?: string[], deny?: string[] }`.
 * Throws a ConfigError (key trust.listFile, value = the path) that says what is wrong and where.
 */
export function parseAdmissionLists (text: string, path: string): AdmissionLists {
  const bad = (what: string): ConfigError => new ConfigError('trust.listFile', path, what)
  if (text.trim() === '') {
    // An empty file is most often one caught mid-write; treating it as "no lists" would open the gate.
    throw bad('the list file is empty; write {} (or allow: [] / deny: []) for empty lists')
  }
  let parsed: unknown
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]
    throw bad(`the list file is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML/JSON'}: ${msg}`)
  }
  if (parsed == null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw bad('the list file must contain an object { allow: [peer ids], deny: [peer ids] }')
  }
  const obj = parsed as Record<string, unknown>
  const unknown = Object.keys(obj).filter(k => k !== 'allow' && k !== 'deny')
  if (unknown.length > 0) throw bad(`unknown key ${JSON.stringify(unknown[0])} in the list file; only "allow" and "deny" are allowed`)
  const listOf = (key: 'allow' | 'deny'): string[] => {
    const v = obj[key]
    if (v == null) return []
    if (!Array.isArray(v)) throw bad(`"${key}" must be a list of peer ids`)
    return v.map((item, i) => {
      if (typeof item !== 'string') throw bad(`${key}[${i}] = ${JSON.stringify(item)} is not a string; expected a peer id like 12D3KooW...`)
      try {
        return canonicalPeerId(item)
      } catch {
        throw bad(`${key}[${i}] = ${JSON.stringify(item)} is not a valid peer id; expected something like 12D3KooW...`)
      }
    })
  }
  return { allow: listOf('allow'), deny: listOf('deny') }
}

function normalizeList (ids: readonly string[], key: string): string[] {
  return ids.map((id, i) => {
    try {
      return canonicalPeerId(id)
    } catch {
      throw new ConfigError(`${key}[${i}]`, id, 'not a valid peer id; expected something like 12D3KooW...')
    }
  })
}

function sameSet (a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
