/** A source of uniform numbers in [0, 1), like Math.random. */
export type Rng = () => number

/** FNV-1a, to turn string seeds into 32-bit ones. */
function hashSeed (seed: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Small deterministic PRNG (mulberry32): same seed, same sequence, so random routing is testable. */
export function seededRng (seed: number | string): Rng {
  let state = (typeof seed === 'string' ? hashSeed(seed) : Math.floor(seed)) >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
