// What a planned migration to a fresh joint plan would take, offline. After a crash a tight layout
// can stay far below what its survivors could reach (or, in an exact double tiling, below the
// replication target) because no set of one to three nodes improves it. This measures the
// alternative petalmesh does not implement: every node whose span differs from the survivors' joint
// plan moves there, in waves; a wave takes, in canonical order, every such node whose blocks all keep
// a server while it reloads (so no block is ever uncovered), and the next wave starts once it has
// loaded. Reports each wave's size and the layout after it, i.e. how long and how deep the stretch
// below replication is that such a migration would have to announce.
import { planSwarm } from '../../src/protocols/coverage/index.ts'
import type { PlanMember } from '../../src/protocols/coverage/types.ts'
import type { Span } from '../../src/protocols/types.ts'
import { layoutStats } from './after-crash.ts'

export interface MigrationWave {
  moves: number
  /** Bottleneck while the wave reloads (its nodes serve nothing) and after it, in throughput units. */
  during: number
  after: number
  /** Blocks below `replication` servers after the wave. */
  thinAfter: number
}

export interface Migration {
  /** The joint plan's bottleneck and fewest servers. */
  target: { min: number, minServers: number }
  /** Nodes whose span differs from the joint plan. */
  toMove: number
  waves: MigrationWave[]
  /** Whether the waves reach the joint plan (false: some node could never leave without a hole). */
  reached: boolean
}

/** The waves that take `members` (online, with spans) to their joint plan, at most `maxWaves`. */
export function migrationWaves (members: readonly PlanMember[], L: number, R: number, maxWaves = 20): Migration {
  const pending = members.map(m => ({ ...m, state: 'joining' as const, span: null, since: 0, prev: undefined }))
  const plan = planSwarm({ totalBlocks: L, replication: R, members: pending, now: Number.MAX_SAFE_INTEGER })
  const target = new Map<string, Span>()
  for (const [id, d] of plan.decisions) if (d.action === 'serve') target.set(id, d.span)
  const cur = new Map<string, Span | null>(members.map(m => [m.peerId, m.span]))
  const differs = (id: string): boolean => (cur.get(id)?.start ?? -1) !== (target.get(id)?.start ?? -1)
  const layout = (spans: ReadonlyMap<string, Span | null>): PlanMember[] => members.map(m => ({ ...m, span: spans.get(m.peerId) ?? null }))
  const ids = members.map(m => m.peerId).sort()
  const toMove = ids.filter(differs).length
  const waves: MigrationWave[] = []
  while (waves.length < maxWaves && ids.some(differs)) {
    const cnt = new Int32Array(L)
    for (const sp of cur.values()) if (sp != null) for (let b = sp.start; b < sp.end; b++) cnt[b]++
    const wave: string[] = []
    for (const id of ids) {
      if (!differs(id)) continue
      const sp = cur.get(id)
      if (sp != null) {
        let keeps = true
        for (let b = sp.start; b < sp.end && keeps; b++) if (cnt[b] < 2) keeps = false
        if (!keeps) continue
        for (let b = sp.start; b < sp.end; b++) cnt[b]--
      }
      wave.push(id)
    }
    if (wave.length === 0) break
    const reloading = new Map(cur)
    for (const id of wave) reloading.set(id, null)
    const during = layoutStats(layout(reloading), L).min
    for (const id of wave) cur.set(id, target.get(id) ?? null)
    const after = layoutStats(layout(cur), L)
    const c = new Int32Array(L)
    for (const sp of cur.values()) if (sp != null) for (let b = sp.start; b < sp.end; b++) c[b]++
    waves.push({ moves: wave.length, during, after: after.min, thinAfter: c.filter(x => x < R).length })
  }
  return { target: layoutStats(layout(target), L), toMove, waves, reached: !ids.some(differs) }
}
