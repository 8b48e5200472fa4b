// Small builders shared by the coverage tests.
import type { PlanMember } from '../../src/protocols/coverage/index.ts'
import type { NodeState, Span } from '../../src/protocols/types.ts'
import { rngFrom } from '../../sim/algo/rng.ts'

export function member (peerId: string, capacity: number, throughput: number, state: NodeState = 'joining', span: Span | null = null, since = 0): PlanMember {
  return { peerId, state, span, capacity, throughput, since }
}

export function online (peerId: string, start: number, end: number, throughput: number, capacity = end - start, since = -Infinity): PlanMember {
  return { peerId, state: 'online', span: { start, end }, capacity, throughput, since }
}

/** The simulator's seeded generator, so tests and simulator draw the same swarms. */
export const rng = rngFrom

/** A heterogeneous pending swarm like the simulator's (GPU classes, capacity as a share of L). */
export function heteroSwarm (n: number, L: number, seed: number): PlanMember[] {
  const r = rng(seed)
  const out: PlanMember[] = []
  for (let i = 0; i < n; i++) {
    const u = r()
    const [f, t0, t1] = u < 0.3 ? [0.05, 50, 150] : u < 0.65 ? [0.12, 150, 400] : u < 0.9 ? [0.25, 300, 800] : [0.5, 600, 1500]
    const cap = Math.max(1, Math.round(f * L * (0.8 + 0.4 * r())))
    out.push(member(`12D3KooW${seed}x${i.toString(36)}${Math.floor(r() * 1e9).toString(36)}`, cap, Math.round(t0 + (t1 - t0) * r())))
  }
  return out
}

export function shuffled<T> (xs: readonly T[], seed: number): T[] {
  const r = rng(seed)
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    const t = a[i]; a[i] = a[j]; a[j] = t
  }
  return a
}

/** Members with every decision of a plan applied (served spans become online). */
export function applyPlan (members: readonly PlanMember[], decisions: Map<string, { action: string, span?: Span }>): PlanMember[] {
  return members.map(m => {
    const d = decisions.get(m.peerId)
    if (d?.action === 'serve' && d.span != null) return { ...m, state: 'online' as const, span: d.span, since: -Infinity }
    return m
  })
}
