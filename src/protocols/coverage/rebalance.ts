// Rebalancing that pays for itself. Petals moves a server whenever the swarm looks 25 % below what a
// greedy re-shuffle could reach, and the mover then picks its own place; servers flip back and forth and
// each move reloads weights for ~10 minutes. Here a move set is planned jointly by every node, and only
// happens when the bottleneck it guarantees beats the current one by the configured factor after paying
// for the reload. Two planners: greedy donors that leave only blocks with room to spare (no dip at all),
// and, when that finds nothing, re-placement of one to three nodes (replace.ts), which is what recovers
// the throughput a crash costs in tight replication-2 layouts.
import type { Span } from '../types.ts'
import { canonicalCompare } from './order.ts'
import type { PlannedMove } from './heal.ts'
import { addSpan, type RoundNode, type RoundState } from './round-state.ts'
import type { CoverageParams } from './types.ts'
import { planReplacement, replacementOrder } from './replace.ts'

export interface MoveEconomics {
  /** Bottleneck now. */
  before: number
  /** Bottleneck once the moved nodes have reloaded. */
  after: number
  /** Bottleneck while they reload (their old blocks lose them, the new ones don't have them yet). */
  during: number
  params: Pick<CoverageParams, 'minGain' | 'reloadMs' | 'horizonMs'>
}

/**
 * The economic test: the bottleneck averaged over the horizon (reload downtime at `during`, the rest at
 * `after`) must exceed before × (1 + minGain).
 */
export function shouldMove (e: MoveEconomics): boolean {
  const H = e.params.horizonMs
  const r = Math.min(e.params.reloadMs, H)
  if (H <= 0) return false
  const amortised = (r * e.during + (H - r) * e.after) / H
  return amortised > e.before * (1 + e.params.minGain)
}

/**
 * The bottleneck a move set must reach so that shouldMove holds when the reload does not lower the
 * current bottleneck (which planRebalance guarantees: donors only leave blocks that stay above it).
 * Infinity when the reload alone eats the horizon.
 */
export function requiredAfter (before: number, params: MoveEconomics['params']): number {
  const H = params.horizonMs; const r = params.reloadMs
  if (r >= H) return Infinity
  return before * ((1 + params.minGain) * H - r) / (H - r)
}

export interface RebalanceOptions {
  params: CoverageParams
  now: number
  /** Upper bound on the bottleneck (quantised units): no plan is searched if it cannot reach the target. */
  bound: number
  /** Blocks being loaded by a join or a previous move: no move touches them until that settles. */
  locked: Uint8Array
  /** How many donor candidates are scored per step (the fastest first). */
  candidates?: number
}

/**
 * Plans a set of moves (all or nothing) after which every block reaches requiredAfter(bottleneck).
 * Rules that make it safe to run on every node every round:
 * - no move touches a locked region, donors leave only blocks that stay ≥ the target and ≥ the
 *   replication target, and a donor's region is locked for the rest of the plan: so each region has at
 *   most one move set in flight, and the bottleneck never dips during the reload;
 * - nodes that claimed their span within cooldownMs are no donors, and join a re-placement set only
 *   if it gains more than cooldownGain (hysteresis);
 * - the plan is all or nothing: partial progress doesn't lift the swarm's bottleneck, so it isn't made.
 * A steady swarm therefore converges: every executed plan raises the bottleneck by > minGain, which can
 * happen only finitely often below the upper bound, and then nothing moves.
 * When no donor set exists and nothing is locked anywhere, one to three nodes are re-placed instead
 * (replace.ts), which may dip the bottleneck while they reload (the economic test counts it); `st`
 * then gets those moves applied too. Cooling nodes may be in such a set when it gains more than
 * cooldownGain: after a crash, waiting out the hour would cost a quarter of the bottleneck for it.
 */
export function planRebalance (st: RoundState, online: readonly RoundNode[], opts: RebalanceOptions): PlannedMove[] {
  const moves = planDonorMoves(st, online, opts)
  if (moves.length > 0 || opts.locked.some(x => x !== 0)) return moves
  const { params, now } = opts
  // Nodes inside their cool-down may join a set, which must then gain more (cooldownGain).
  const cooling = (n: RoundNode): boolean => now - n.since < params.cooldownMs
  const eligible = replacementOrder(online.filter(n => n.state === 'online' && n.span != null && n.len > 0 &&
    n.len < st.L && (!cooling(n) || Number.isFinite(params.cooldownGain))), canonicalCompare)
  const replaced = planReplacement(st, eligible, { params, bound: opts.bound, cooling })
  const byId = new Map(eligible.map(n => [n.peerId, n]))
  for (const m of replaced) {
    const n = byId.get(m.peerId)!
    addSpan(st, m.from!, n.tq, -1)
    addSpan(st, m.span, n.tq, 1)
  }
  return replaced
}

/** The greedy step: donors that can leave without any block falling below the target. */
function planDonorMoves (st: RoundState, online: readonly RoundNode[], opts: RebalanceOptions): PlannedMove[] {
  const L = st.L
  let before = Infinity
  for (let b = 0; b < L; b++) if (st.load[b] < before) before = st.load[b]
  if (!(before > 0)) return []
  const target = requiredAfter(before, opts.params)
  if (!(target <= opts.bound)) return []
  const locked = Uint8Array.from(opts.locked)
  for (let b = 0; b < L; b++) if (target - st.load[b] >= 1 && locked[b] !== 0) return []

  const { params, now } = opts
  const eligible = online.filter(n => n.state === 'online' && n.span != null && n.len > 0 && n.len < L &&
    now - n.since >= params.cooldownMs)
  eligible.sort((a, b) => (b.tq - a.tq) || canonicalCompare(a, b))

  const donorOk = (n: RoundNode): boolean => {
    const s = n.span!
    for (let b = s.start; b < s.end; b++) {
      if (locked[b] !== 0 || st.load[b] - n.tq < target || st.cnt[b] - 1 < st.rEff) return false
    }
    return true
  }

  const K = opts.candidates ?? 48
  const moves: PlannedMove[] = []
  const used = new Set<string>()
  const value = new Float64Array(L)
  let cursor = 0
  const window: RoundNode[] = []
  // Deficits are counted in whole milli-units so float dust never asks for a move.
  const countDeficit = (): number => { let k = 0; for (let b = 0; b < L; b++) if (target - st.load[b] >= 1) k++; return k }
  let deficit = countDeficit()
  // All or nothing, also for `st`: a plan that fails halfway leaves it as it found it (the caller
  // returns it as the round's state).
  const applied: Array<{ tq: number, from: Span, span: Span }> = []
  const fail = (): PlannedMove[] => {
    for (const a of applied.reverse()) { addSpan(st, a.span, a.tq, -1); addSpan(st, a.from, a.tq, 1) }
    return []
  }

  while (deficit > 0) {
    if (moves.length >= params.maxMoves) return fail()
    // Keep K unused, still eligible candidates.
    for (let i = window.length - 1; i >= 0; i--) if (used.has(window[i].peerId) || !donorOk(window[i])) window.splice(i, 1)
    while (window.length < K && cursor < eligible.length) {
      const n = eligible[cursor++]
      if (!used.has(n.peerId) && donorOk(n)) window.push(n)
    }
    let best: { node: RoundNode, start: number, v: number } | null = null
    const lockedPre = new Int32Array(L + 1)
    for (let b = 0; b < L; b++) lockedPre[b + 1] = lockedPre[b] + (locked[b] !== 0 ? 1 : 0)
    for (const n of window) {
      for (let b = 0; b < L; b++) {
        const d = target - st.load[b]
        value[b] = d >= 1 ? Math.min(n.tq, d) : 0
      }
      let sum = 0
      for (let b = 0; b < L; b++) {
        sum += value[b]
        if (b >= n.len) sum -= value[b - n.len]
        const start = b - n.len + 1
        if (start < 0 || lockedPre[b + 1] - lockedPre[start] > 0) continue
        if (best == null || sum > best.v * (1 + 1e-12)) best = { node: n, start, v: sum }
      }
    }
    if (best == null || best.v < 1) return fail()
    const n = best.node
    const from = n.span!
    const span: Span = { start: best.start, end: best.start + n.len }
    addSpan(st, from, n.tq, -1)
    addSpan(st, span, n.tq, 1)
    applied.push({ tq: n.tq, from, span })
    for (let b = from.start; b < from.end; b++) locked[b] = 1
    used.add(n.peerId)
    moves.push({ peerId: n.peerId, span, from })
    deficit = countDeficit()
  }
  return moves
}
