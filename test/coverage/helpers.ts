// Small builders shared by the coverage tests.
import type { PlanMember } from '../../src/protocols/coverage/index.ts'
import { addSpan, newRoundState, type RoundNode, type RoundState } from '../../src/protocols/coverage/round-state.ts'
import type { NodeState, Span } from '../../src/protocols/types.ts'
import type { PlannedMove } from '../../src/protocols/coverage/heal.ts'
import { expect } from 'vitest'
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

/** An online round node `n<i>` serving len blocks from `start` (capacity = len, throughput = tq). */
export function servingNode (i: number, len: number, tq: number, start: number): RoundNode {
  return { peerId: `n${i}`, capacity: len, throughput: tq, len, tq, state: 'online', span: { start, end: start + len }, since: 0 }
}

/** Per-block counts and loads of `nodes`' spans (water level out of the way). */
export function roundStateOf (L: number, rEff: number, nodes: readonly RoundNode[]): RoundState {
  const st = newRoundState(L, rEff, 1e9)
  for (const n of nodes) addSpan(st, n.span!, n.tq, 1)
  return st
}

/**
 * Checks a planned move set against the nodes it moves (distinct nodes, each leaving its current span
 * for another start in range, of its own length) and takes their old spans out of `st`. Returns the
 * nodes by id.
 */
export function expectMoveSet (moves: readonly PlannedMove[], nodes: readonly RoundNode[], L: number, st: RoundState): Map<string, RoundNode> {
  expect(new Set(moves.map(m => m.peerId)).size).toBe(moves.length)
  const byId = new Map(nodes.map(n => [n.peerId, n]))
  for (const m of moves) {
    const n = byId.get(m.peerId)!
    expect(m.from).toEqual(n.span)
    expect(m.span.end - m.span.start).toBe(n.len)
    expect(m.span.start).toBeGreaterThanOrEqual(0)
    expect(m.span.end).toBeLessThanOrEqual(L)
    expect(m.span.start).not.toBe(n.span!.start)
    addSpan(st, n.span!, n.tq, -1)
  }
  return byId
}
