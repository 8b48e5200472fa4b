// Ground truth of a run, independent of anyone's view: which nodes are alive, what they really serve
// (online) and what they have claimed (planned). All figures of a SimResult come from here.
import type { Span } from '../../src/protocols/types.ts'
import { effectiveReplication, upperBound, usableLength } from '../../src/protocols/coverage/index.ts'
import type { NodeSpec } from './swarm-gen.ts'

export interface TruthOptions {
  L: number
  R: number
  /** Availability and bottleneck are averaged over [measureFrom, end]. */
  measureFrom: number
  end: number
  /** Convergence and heal times are measured from here (scenario trigger). */
  trigger: number
}

export interface Truth {
  setAlive: (t: number, i: number, alive: boolean) => void
  setServing: (t: number, i: number, span: Span | null) => void
  setPlanned: (t: number, i: number, span: Span | null) => void
  /** Records one bottleneck sample at t (call on a fixed period). */
  sample: (t: number) => void
  addNode: (spec: NodeSpec) => void
  /** Per-block online servers (read-only view). */
  onlineCount: () => Int32Array
  finish: (t: number) => TruthSummary
}

export interface TruthSummary {
  availability: number | null
  bottleneckRatio: number | null
  fullCoverageMs: number | null
  replicationMs: number | null
  /** Mean duration of episodes where coverage or replication was below target after the trigger (null if none). */
  meanBrokenMs: number | null
  brokenEpisodes: number
  /** Share of the time from the trigger to the end with every block covered and at the reachable replication (planned spans). */
  replicatedShare: number | null
  coveredAtEnd: boolean
  replicatedAtEnd: boolean
  finalRatio: number | null
}

export function createTruth (nodes: NodeSpec[], o: TruthOptions): Truth {
  const { L } = o
  const alive: boolean[] = nodes.map(() => false)
  const serving: Array<Span | null> = nodes.map(() => null)
  const planned: Array<Span | null> = nodes.map(() => null)
  const onlineCnt = new Int32Array(L)
  const onlineT = new Float64Array(L)
  const plannedCnt = new Int32Array(L)
  let zeroOnline = L
  let zeroPlanned = L
  let rEff = 1
  let belowR = L
  let rDirty = true
  let boundDirty = true
  let bound = 0
  let boundAt = -Infinity

  // Availability: time with every block online, inside [measureFrom, end].
  let lastT = 0
  let okTime = 0
  // Convergence after the trigger.
  let coverageAt: number | null = null
  let coverageLost = false
  let replicationLost = false
  let replicationAt: number | null = null
  let brokenSince: number | null = null
  let brokenTotal = 0
  let brokenEpisodes = 0
  let samples = 0
  let ratioSum = 0
  let lastRatio: number | null = null

  const recountR = (): void => {
    const lens: number[] = []
    for (let i = 0; i < nodes.length; i++) if (alive[i]) lens.push(usableLength(nodes[i].capacity, L))
    const r = Math.max(1, effectiveReplication(lens, L, o.R))
    if (r !== rEff || rDirty) {
      rEff = r
      belowR = 0
      for (let b = 0; b < L; b++) if (plannedCnt[b] < rEff) belowR++
    }
    rDirty = false
  }

  const advance = (t: number): void => {
    // The reachable replication changes only with the node set: recount once per instant, not per node.
    if (rDirty && t > lastT) recountR()
    if (t > lastT) {
      const a = Math.max(lastT, o.measureFrom); const b = Math.min(t, o.end)
      if (b > a && zeroOnline === 0) okTime += b - a
      lastT = t
    }
  }

  const checkMilestones = (t: number): void => {
    if (t < o.trigger || rDirty) return
    const covered = zeroPlanned === 0
    const replicated = covered && belowR === 0
    // Never lost since the trigger: the time is 0, not the first moment we looked.
    if (!covered) coverageLost = true
    if (!replicated) replicationLost = true
    if (covered && coverageAt == null) coverageAt = coverageLost ? t : o.trigger
    if (replicated && replicationAt == null) replicationAt = replicationLost ? t : o.trigger
    if (!replicated && brokenSince == null) { brokenSince = t; brokenEpisodes++ }
    if (replicated && brokenSince != null) { brokenTotal += t - brokenSince; brokenSince = null }
  }

  const apply = (span: Span, sign: 1 | -1, i: number, which: 'online' | 'planned'): void => {
    const tq = nodes[i].throughput
    for (let b = span.start; b < span.end; b++) {
      if (which === 'online') {
        const before = onlineCnt[b]
        onlineCnt[b] += sign
        onlineT[b] += sign * tq
        if (before === 0 && onlineCnt[b] > 0) zeroOnline--
        if (before > 0 && onlineCnt[b] === 0) zeroOnline++
      } else {
        const before = plannedCnt[b]
        plannedCnt[b] += sign
        if (before === 0 && plannedCnt[b] > 0) zeroPlanned--
        if (before > 0 && plannedCnt[b] === 0) zeroPlanned++
        if (before < rEff && plannedCnt[b] >= rEff) belowR--
        if (before >= rEff && plannedCnt[b] < rEff) belowR++
      }
    }
  }

  const same = (a: Span | null, b: Span | null): boolean => (a == null && b == null) || (a != null && b != null && a.start === b.start && a.end === b.end)

  return {
    setAlive (t, i, a) {
      advance(t)
      if (alive[i] === a) return
      alive[i] = a
      if (!a) {
        if (serving[i] != null) { apply(serving[i]!, -1, i, 'online'); serving[i] = null }
        if (planned[i] != null) { apply(planned[i]!, -1, i, 'planned'); planned[i] = null }
      }
      rDirty = true; boundDirty = true
      checkMilestones(t)
    },
    setServing (t, i, span) {
      advance(t)
      if (!alive[i] || same(serving[i], span)) return
      if (serving[i] != null) apply(serving[i]!, -1, i, 'online')
      serving[i] = span
      if (span != null) apply(span, 1, i, 'online')
    },
    setPlanned (t, i, span) {
      advance(t)
      if (!alive[i] || same(planned[i], span)) return
      if (planned[i] != null) apply(planned[i]!, -1, i, 'planned')
      planned[i] = span
      if (span != null) apply(span, 1, i, 'planned')
      checkMilestones(t)
    },
    sample (t) {
      advance(t)
      checkMilestones(t)
      if (t < o.measureFrom || t > o.end) return
      // The tight bound is costly on big swarms: recompute at most once a simulated minute.
      if (boundDirty && t - boundAt >= 60_000) {
        const live = nodes.filter((_, i) => alive[i])
        const work = live.length * L
        bound = upperBound(live, L, work > 2_000_000 ? { iterations: 0 } : {})
        boundDirty = false; boundAt = t
      }
      let m = Infinity
      for (let b = 0; b < L; b++) if (onlineT[b] < m) m = onlineT[b]
      const ratio = bound > 0 ? Math.max(0, Math.min(1, m / bound)) : 1
      samples++; ratioSum += ratio; lastRatio = ratio
    },
    addNode (spec) {
      nodes.push(spec)
      alive.push(false); serving.push(null); planned.push(null)
    },
    onlineCount: () => onlineCnt,
    finish (t) {
      advance(t)
      if (rDirty) recountR()
      checkMilestones(t)
      if (brokenSince != null) { brokenTotal += t - brokenSince; brokenSince = null }
      const measured = Math.max(0, Math.min(t, o.end) - o.measureFrom)
      return {
        availability: measured > 0 ? okTime / measured : null,
        bottleneckRatio: samples > 0 ? ratioSum / samples : null,
        fullCoverageMs: coverageAt == null ? null : coverageAt - o.trigger,
        replicationMs: replicationAt == null ? null : replicationAt - o.trigger,
        meanBrokenMs: brokenEpisodes > 0 ? brokenTotal / brokenEpisodes : null,
        replicatedShare: t > o.trigger ? Math.max(0, 1 - brokenTotal / (t - o.trigger)) : null,
        brokenEpisodes,
        coveredAtEnd: zeroOnline === 0,
        replicatedAtEnd: zeroPlanned === 0 && belowR === 0,
        finalRatio: lastRatio
      }
    }
  }
}
