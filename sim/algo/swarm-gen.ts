// Seeded heterogeneous swarms: a mix of GPU classes, capacity as a share of the model, throughput
// correlated with capacity (bigger cards are faster). Integer throughputs keep per-block sums exact.
import { stream } from './rng.ts'

export interface NodeSpec {
  peerId: string
  capacity: number
  throughput: number
}

export type SwarmMix = 'hetero' | 'uniform'

/** [share of nodes, share of the model a node holds, throughput range]. */
const CLASSES: ReadonlyArray<readonly [number, number, number, number]> = [
  [0.30, 0.05, 50, 150], // small consumer GPU
  [0.35, 0.12, 150, 400],
  [0.25, 0.25, 300, 800],
  [0.10, 0.50, 600, 1500] // multi-GPU box
]

/** A base58-looking id, unique per (seed, index, tag). */
function peerIdFor (r: () => number, index: number, tag: string): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let s = '12D3KooW' + tag
  for (let i = 0; i < 20; i++) s += alphabet[Math.floor(r() * alphabet.length)]
  return `${s}${index.toString(36)}`
}

export interface GenOptions {
  mix?: SwarmMix
  /** Share of nodes that cannot hold one block (they stay standby). */
  tinyShare?: number
  /** Distinguishes joiner populations from the initial one. */
  tag?: string
}

export function generateNodes (count: number, blocks: number, seed: number, opts: GenOptions = {}): NodeSpec[] {
  const tag = opts.tag ?? 'n'
  const r = stream(seed, `nodes:${tag}`)
  const out: NodeSpec[] = []
  for (let i = 0; i < count; i++) {
    let cap: number; let tput: number
    if (opts.mix === 'uniform') {
      cap = Math.max(1, Math.round(blocks * 0.12))
      tput = 300
    } else {
      const u = r()
      let acc = 0
      let cls = CLASSES[CLASSES.length - 1]
      for (const c of CLASSES) { acc += c[0]; if (u < acc) { cls = c; break } }
      cap = Math.max(1, Math.round(cls[1] * blocks * (0.8 + 0.4 * r())))
      tput = Math.round(cls[2] + (cls[3] - cls[2]) * r())
    }
    if (opts.tinyShare != null && r() < opts.tinyShare) cap = 0
    out.push({ peerId: peerIdFor(r, i, tag), capacity: cap, throughput: tput })
  }
  return out
}
