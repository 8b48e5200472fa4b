// Deterministic orderings shared by every planner step: each node must rank members identically,
// so nothing here may depend on input order, locale or randomness.
import { compareCodeUnits as cmpStr } from '../../util/compare.ts'

/** FNV-1a 32-bit hash of a string: a stable pseudo-random rank for tie-breaks (peer ids are not uniform). */
export function peerHash (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export interface Rankable { peerId: string, capacity: number, throughput: number }

/**
 * Planning order: biggest spans first (like first-fit-decreasing packing), then fastest, then a hash of
 * the peer id so equal machines are not always ranked by the same lexicographic accident.
 */
export function canonicalCompare (a: Rankable, b: Rankable): number {
  return (b.capacity - a.capacity) || (b.throughput - a.throughput) ||
    (peerHash(a.peerId) - peerHash(b.peerId)) || cmpStr(a.peerId, b.peerId)
}

export function byPeerId (a: { peerId: string }, b: { peerId: string }): number {
  return cmpStr(a.peerId, b.peerId)
}
