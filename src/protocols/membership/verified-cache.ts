// Remembers signatures this node has already verified. The same signed record reaches a node many
// times (gossip, every snapshot, claim replies); one Ed25519 check per distinct record is enough,
// and at cold start re-verifying snapshots was the largest CPU cost of a node.
import { equals } from 'uint8arrays/equals'
import { toString } from 'uint8arrays/to-string'

export interface VerifiedCache {
  /** True if exactly these record bytes were verified with exactly this signature. */
  has: (record: Uint8Array, signature: Uint8Array) => boolean
  add: (record: Uint8Array, signature: Uint8Array) => void
  readonly size: number
}

/** A bounded cache (oldest entries go first). Keyed by signature, checked against the record bytes. */
export function createVerifiedCache (max = 4096): VerifiedCache {
  const entries = new Map<string, Uint8Array>()
  return {
    has (record, signature) {
      const seen = entries.get(toString(signature, 'base64'))
      return seen != null && equals(seen, record)
    },
    add (record, signature) {
      const key = toString(signature, 'base64')
      entries.delete(key)
      entries.set(key, record)
      if (entries.size > max) entries.delete(entries.keys().next().value as string)
    },
    get size () { return entries.size }
  }
}
