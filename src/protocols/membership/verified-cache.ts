// Signed records this node has already checked. Snapshots, self-visibility checks and re-gossip
// hand a node the same signed bytes again and again; an Ed25519 verify (plus building the key)
// is by far the most expensive step of handling them, and its answer for the same bytes cannot
// change. The key is a hash of record and signature together, so a valid signature paired with
// other record bytes never hits.
import { createHash } from 'node:crypto'
import type { SignedRecord } from './membership.ts'

//
// The answer depends on nothing but the bytes, so every node of one process can share one cache
// (processVerifiedRecords): a real deployment runs one node per process and sees no difference; a
// simulated swarm of thirty nodes in one process checks each signature once instead of thirty
// times (in a cold start these checks were the largest single CPU cost of the whole process).
export class VerifiedRecords {
  private readonly seen = new Set<string>()
  private max: number

  constructor (max = 1024) {
    this.max = max
  }

  /** Bounds the cache (least recently used entries go first). */
  resize (max: number): void {
    this.max = Math.max(1, max)
    this.evict()
  }

  /** Grows the bound to at least `max` (a shared cache serves the largest of its users' needs). */
  atLeast (max: number): void {
    if (max > this.max) this.max = max
  }

  get size (): number { return this.seen.size }

  has (signed: SignedRecord): boolean {
    const key = keyOf(signed)
    if (!this.seen.has(key)) return false
    // Re-insert: Set iteration order is insertion order, so this marks it most recently used.
    this.seen.delete(key)
    this.seen.add(key)
    return true
  }

  add (signed: SignedRecord): void {
    const key = keyOf(signed)
    this.seen.delete(key)
    this.seen.add(key)
    this.evict()
  }

  private evict (): void {
    for (const k of this.seen) {
      if (this.seen.size <= this.max) break
      this.seen.delete(k)
    }
  }
}

function keyOf (signed: SignedRecord): string {
  return createHash('sha256').update(signed.record).update(signed.signature).digest('base64')
}

let shared: VerifiedRecords | null = null

/** The cache every node of this process shares (see above). */
export function processVerifiedRecords (): VerifiedRecords {
  shared ??= new VerifiedRecords()
  return shared
}
