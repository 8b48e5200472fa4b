// What the simulated swarm has announced, and what each node has heard of it. Every record a node
// publishes goes into one log; node j hears publication e after a seeded per-(e, j) latency, its own
// at once. A node's view is therefore "everything published" minus what is still in flight to it, and
// nodes whose views are identical share one key, so the planner runs once per distinct view.
import type { NodeState, Span } from '../../src/protocols/types.ts'
import type { PlanMember } from '../../src/protocols/coverage/index.ts'
import { mix32 } from './rng.ts'
import type { NodeSpec } from './swarm-gen.ts'

export interface Rec {
  state: NodeState
  span: Span | null
  since: number
  prev: { state: NodeState, span: Span | null } | null
}

interface Publication {
  id: number
  t: number
  peer: number
  rec: Rec
  before: Rec | null
}

export interface LatencyModel { minMs: number, maxMs: number }

export interface World {
  L: number
  nodes: NodeSpec[]
  /** Latest published record per node (index = node). */
  records: Array<Rec | null>
  /** Number of publications so far: a view version. */
  version: () => number
  publications: () => number
  publish: (t: number, peer: number, rec: Rec) => void
  /** Delay of publication `id` to node `j`. */
  delay: (id: number, j: number) => number
  /** True when some publication is still in flight to some node at `now`. */
  inFlight: (now: number) => boolean
  /** Key of node j's view at `now` (equal keys = identical views). */
  viewKey: (j: number, now: number) => string
  /** Node j's view at `now` as planner input (every member with a record). */
  viewMembers: (j: number, now: number) => PlanMember[]
  /** Per-peer record as seen by j at now (for callers that build their own arrays). */
  viewOverrides: (j: number, now: number) => Map<number, Rec | null>
  /** Node index of a peer id. */
  indexOf: (peerId: string) => number
  addNode: (spec: NodeSpec) => number
}

export function createWorld (L: number, initial: readonly NodeSpec[], latency: LatencyModel, seed: number): World {
  const nodes = [...initial]
  const records: Array<Rec | null> = nodes.map(() => null)
  const index = new Map<string, number>(nodes.map((n, i) => [n.peerId, i]))
  const log: Publication[] = []
  let firstInflight = 0
  const span = Math.max(0, latency.maxMs - latency.minMs)

  const delay = (id: number, j: number): number => latency.minMs + (span === 0 ? 0 : mix32(seed, id, j) % (span + 1))

  const advance = (now: number): void => {
    while (firstInflight < log.length && log[firstInflight].t + latency.maxMs <= now) firstInflight++
  }
  const delivered = (e: Publication, j: number, now: number): boolean => e.peer === j || e.t + delay(e.id, j) <= now

  const overrides = (j: number, now: number): Map<number, Rec | null> => {
    advance(now)
    // Oldest first: a peer starts as it was before its oldest in-flight publication, and each
    // publication already delivered to j replaces that (so the newest delivered one wins).
    const out = new Map<number, Rec | null>()
    for (let i = firstInflight; i < log.length; i++) {
      const e = log[i]
      if (!out.has(e.peer)) out.set(e.peer, e.before)
      if (delivered(e, j, now)) out.set(e.peer, e.rec)
    }
    for (const [p, r] of out) if (r === records[p]) out.delete(p)
    return out
  }

  return {
    L,
    nodes,
    records,
    version: () => log.length,
    publications: () => log.length,
    publish (t, peer, rec) {
      log.push({ id: log.length, t, peer, rec, before: records[peer] })
      records[peer] = rec
    },
    delay,
    inFlight (now) {
      advance(now)
      return firstInflight < log.length
    },
    viewKey (j, now) {
      advance(now)
      if (firstInflight >= log.length) return `v${log.length}`
      const missing: number[] = []
      for (let i = firstInflight; i < log.length; i++) if (!delivered(log[i], j, now)) missing.push(log[i].id)
      return missing.length === 0 ? `v${log.length}` : `v${log.length}-${missing.join(',')}`
    },
    viewMembers (j, now) {
      const ov = overrides(j, now)
      const out: PlanMember[] = []
      for (let p = 0; p < nodes.length; p++) {
        const r = ov.has(p) ? ov.get(p)! : records[p]
        if (r == null) continue
        const n = nodes[p]
        const m: PlanMember = { peerId: n.peerId, state: r.state, span: r.span, capacity: n.capacity, throughput: n.throughput, since: r.since }
        if (r.prev != null) m.prev = r.prev
        out.push(m)
      }
      return out
    },
    viewOverrides: overrides,
    indexOf: (peerId) => index.get(peerId) ?? -1,
    addNode (spec) {
      nodes.push(spec)
      records.push(null)
      index.set(spec.peerId, nodes.length - 1)
      return nodes.length - 1
    }
  }
}
