// Seeded randomness for the simulator: every stream is derived from (seed, purpose) so runs reproduce
// and the two planners see identical swarms, failures and message delays.

/** mulberry32: small, fast, good enough for simulation. Returns a [0, 1) generator. */
export function rngFrom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 32-bit mix of integers (for per-message delays without keeping state). */
export function mix32 (...xs: number[]): number {
  let h = 0x9e3779b9
  for (const x of xs) {
    h ^= x >>> 0
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
    h ^= h >>> 16
  }
  return h >>> 0
}

/** An independent stream for one purpose of one run. */
export function stream (seed: number, purpose: string): () => number {
  let h = seed >>> 0
  for (let i = 0; i < purpose.length; i++) h = mix32(h, purpose.charCodeAt(i))
  return rngFrom(h)
}
