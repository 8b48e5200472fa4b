// petalmesh nodes on the simulated clock. The protocol modelled (what the network layer implements):
// - nodes act on a shared slot grid (slotMs = heartbeat/4): at each slot a node plans from its view,
//   then publishes what changed; a record reaches each peer after its own gossip latency;
// - a new node announces `joining` without a span, and is planned for once everyone has heard of it
//   (settleMs = the gossip bound rounded up to whole slots, at least one slot);
// - a claim is checked once everyone has heard of it (same delay); if it stands it becomes `loading`,
//   then `online` after the load time; if it lost, the node takes its new slot in the same step;
// - a crashed node is declared offline after detectMs; a leaving node announces `leaving`, keeps serving
//   until every one of its blocks has another online server (or the drain limit), then goes.
import { planSwarm, resolveParams, usableLength, type CoverageParams, type PlanDecision, type SwarmPlan } from '../../src/protocols/coverage/index.ts'
import type { NodeState, Span } from '../../src/protocols/types.ts'
import { createQueue } from './events.ts'
import { stream } from './rng.ts'
import type { Script } from './script.ts'
import { createTruth } from './truth.ts'
import { createWorld, type LatencyModel, type Rec } from './world.ts'
import type { RunnerOutput, RunnerSettings } from './runner-types.ts'

type Phase = 'absent' | 'pending' | 'joining' | 'loading' | 'online' | 'standby' | 'leaving' | 'gone'

interface PNode {
  phase: Phase
  alive: boolean
  span: Span | null
  since: number
  /** Next load is a move (counts as reload). */
  reload: boolean
  token: number
  leftAt: number
}

export function runPetalmesh (script: Script, s: RunnerSettings): RunnerOutput {
  const t0 = performance.now()
  const L = s.blocks
  // Wait for gossip to reach everyone before planning a newcomer or trusting a claim (this model has
  // no covering refresh from bootstrap peers, so a round waits the whole gossip bound: lead = settle).
  const settleMs = Math.max(1, Math.ceil(s.latency.maxMs / s.slotMs)) * s.slotMs
  const params: CoverageParams = resolveParams({ ...s.coverage, settleMs, roundLeadMs: settleMs, reloadMs: s.reloadMs })
  const latency: LatencyModel = s.latency
  const world = createWorld(L, script.initial, latency, s.seed)
  const truth = createTruth([...script.initial], { L, R: s.replication, measureFrom: script.measureFrom, end: script.durationMs, trigger: script.trigger })
  const q = createQueue()
  const loadRng = stream(s.seed, 'load')
  const nodes: PNode[] = script.initial.map(() => ({ phase: 'absent', alive: false, span: null, since: 0, reload: false, token: 0, leftAt: 0 }))
  const slotOf = (t: number): number => Math.ceil(t / s.slotMs - 1e-9)
  const buckets = new Map<number, Array<(t: number) => void>>()
  const scheduled = new Set<number>()
  let moves = 0; let lost = 0; let claims = 0
  const movesBy: Record<string, number> = {}
  let heartbeatMsgs = 0
  const aliveSince: number[] = script.initial.map(() => NaN)

  const needSlot = (k: number): void => {
    if (scheduled.has(k) || k * s.slotMs > script.durationMs) return
    scheduled.add(k)
    q.push(k * s.slotMs, () => { scheduled.delete(k); slot(k) })
  }
  const at = (t: number, f: (t: number) => void): void => {
    const k = slotOf(t)
    const list = buckets.get(k)
    if (list == null) buckets.set(k, [f]); else list.push(f)
    needSlot(k)
  }

  const publish = (t: number, i: number, state: NodeState, span: Span | null, since: number, prev: Rec['prev'] = null): void => {
    world.publish(t, i, { state, span, since, prev })
    truth.setPlanned(t, i, state === 'joining' || state === 'loading' || state === 'online' ? span : null)
  }

  const startNode = (t: number, i: number): void => {
    const n = nodes[i]
    n.alive = true; aliveSince[i] = t
    truth.setAlive(t, i, true)
    n.phase = 'pending'; n.since = t
    publish(t, i, 'joining', null, t)
  }

  // Initial layout: the planner's own converged placement, known to everyone at t=0.
  if (script.layout === 'converged') {
    const members = script.initial.map(n => ({ peerId: n.peerId, state: 'joining' as const, span: null, capacity: n.capacity, throughput: n.throughput, since: -Infinity }))
    const plan = planSwarm({ totalBlocks: L, replication: s.replication, members, params, now: 0 })
    script.initial.forEach((spec, i) => {
      const d = plan.decisions.get(spec.peerId)!
      const n = nodes[i]
      n.alive = true; aliveSince[i] = 0
      truth.setAlive(0, i, true)
      if (d.action === 'serve') {
        n.phase = 'online'; n.span = d.span; n.since = -Infinity
        world.records[i] = { state: 'online', span: d.span, since: -Infinity, prev: null }
        truth.setPlanned(0, i, d.span); truth.setServing(0, i, d.span)
      } else {
        n.phase = 'standby'
        world.records[i] = { state: 'standby', span: null, since: -Infinity, prev: null }
      }
    })
  } else {
    script.starts.forEach((t, i) => at(t, tt => startNode(tt, i)))
  }

  const loadTime = (reload: boolean): number => (reload ? s.reloadMs : s.loadMs) * (0.8 + 0.4 * loadRng())

  const claim = (t: number, i: number, span: Span, reason: string): void => {
    const n = nodes[i]
    const prev = { state: n.phase === 'pending' ? 'joining' as NodeState : n.phase as NodeState, span: n.span }
    if (n.phase === 'loading' || n.phase === 'online') {
      moves++
      movesBy[reason] = (movesBy[reason] ?? 0) + 1
      n.reload = true
      truth.setServing(t, i, null)
    }
    if (n.phase === 'joining' && reason === 'claim-lost') lost++
    claims++
    n.phase = 'joining'; n.span = span; n.since = t; n.token++
    publish(t, i, 'joining', span, t, prev)
  }

  const settle = (t: number, i: number): void => {
    const n = nodes[i]
    n.phase = 'loading'
    const token = ++n.token
    publish(t, i, 'loading', n.span, n.since)
    const reload = n.reload
    at(t + loadTime(reload), tt => {
      if (!n.alive || n.token !== token || n.phase !== 'loading') return
      n.phase = 'online'; n.reload = false
      publish(tt, i, 'online', n.span, n.since)
      truth.setServing(tt, i, n.span)
    })
  }

  // Plans by view key; a plan stays valid for its key until validUntil.
  let cache = new Map<string, { plan: SwarmPlan, validUntil: number }>()
  let cacheVersion = -1
  let planCalls = 0
  const planFor = (key: string, j: number, now: number): SwarmPlan => {
    if (world.version() !== cacheVersion) { cache = new Map(); cacheVersion = world.version() }
    const hit = cache.get(key)
    if (hit != null && now < hit.validUntil) return hit.plan
    planCalls++
    const plan = planSwarm({ totalBlocks: L, replication: s.replication, members: world.viewMembers(j, now), params, now })
    cache.set(key, { plan, validUntil: plan.validUntil })
    return plan
  }

  let lastEvalVersion = -1
  let lastValidUntil = Infinity

  const act = (t: number, i: number, d: PlanDecision): void => {
    const n = nodes[i]
    if (!n.alive || n.phase === 'leaving' || n.phase === 'gone' || n.phase === 'absent') return
    if (d.action === 'serve') claim(t, i, d.span, d.reason)
    else if (d.action === 'standby' && n.phase !== 'standby') {
      n.phase = 'standby'; n.span = null; n.since = t
      publish(t, i, 'standby', null, t)
    }
  }

  const slot = (k: number): void => {
    const t = k * s.slotMs
    // Claims are judged once they have had time to reach everyone; until then their owners hold.
    const joining = nodes.map((n, i) => (n.alive && n.phase === 'joining' ? i : -1)).filter(i => i >= 0)
    const due = (i: number): boolean => t - nodes[i].since >= settleMs
    const mustEval = world.version() !== lastEvalVersion || t >= lastValidUntil || joining.length > 0 || world.inFlight(t)
    if (mustEval) {
      const versionBefore = world.version()
      lastEvalVersion = versionBefore
      const decide: Array<[number, PlanDecision]> = []
      let validUntil = Infinity
      if (!world.inFlight(t)) {
        const key = world.viewKey(0, t)
        const plan = planFor(key, 0, t)
        validUntil = plan.validUntil
        for (const a of plan.actions) {
          const i = world.indexOf(a.peerId)
          if (i >= 0 && (nodes[i].phase !== 'joining' || due(i))) decide.push([i, a.decision])
        }
        for (const i of joining) {
          const d = plan.decisions.get(world.nodes[i].peerId)
          if (d != null && d.action === 'stay' && due(i)) decide.push([i, d])
        }
      } else {
        // Views differ: plan per distinct view (exact, slower; only with long gossip delays).
        for (let i = 0; i < nodes.length; i++) {
          if (!nodes[i].alive) continue
          const plan = planFor(world.viewKey(i, t), i, t)
          validUntil = Math.min(validUntil, plan.validUntil)
          const d = plan.decisions.get(world.nodes[i].peerId)
          if (d == null) continue
          if (nodes[i].phase === 'joining' ? due(i) : d.action !== 'stay') decide.push([i, d])
        }
      }
      lastValidUntil = validUntil
      for (const [i, d] of decide) {
        if (i < 0) continue
        if (d.action === 'stay') { if (nodes[i].phase === 'joining' && nodes[i].alive) settle(t, i) } else act(t, i, d)
      }
      if (Number.isFinite(validUntil)) needSlot(slotOf(validUntil))
    }
    // Lifecycle steps due now (after planning: they reach others only later anyway).
    const lifecycle = buckets.get(k)
    if (lifecycle != null) { buckets.delete(k); for (const f of lifecycle) f(t) }
    // Graceful leavers go once every block they serve has another online server.
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]
      if (n.phase !== 'leaving' || !n.alive) continue
      const span = n.span
      let covered = true
      if (span != null) {
        const cnt = truth.onlineCount()
        for (let b = span.start; b < span.end && covered; b++) if (cnt[b] < 2) covered = false
      }
      if (covered || t - n.leftAt >= s.maxDrainMs) {
        n.phase = 'gone'; n.alive = false
        publish(t, i, 'offline', null, t)
        truth.setAlive(t, i, false)
      } else needSlot(k + 1)
    }
    if (world.version() !== lastEvalVersion || nodes.some(n => n.alive && n.phase === 'joining')) needSlot(k + 1)
  }

  for (const c of script.crashes) {
    q.push(c.t, () => {
      const i = world.indexOf(c.peerId)
      if (i < 0 || !nodes[i].alive) return
      nodes[i].alive = false; nodes[i].phase = 'gone'
      truth.setAlive(c.t, i, false)
      at(c.t + s.detectMs, tt => { publish(tt, i, 'offline', null, tt); detectAt.push(tt - c.t) })
    })
  }
  const detectAt: number[] = []
  for (const l of script.leaves) {
    q.push(l.t, () => at(l.t, tt => {
      const i = world.indexOf(l.peerId)
      if (i < 0 || !nodes[i].alive) return
      const n = nodes[i]
      if (n.phase === 'online') {
        n.phase = 'leaving'; n.leftAt = tt
        publish(tt, i, 'leaving', n.span, n.since)
      } else {
        n.phase = 'gone'; n.alive = false
        publish(tt, i, 'offline', null, tt)
        truth.setAlive(tt, i, false)
      }
    }))
  }
  for (const j of script.joins) {
    q.push(j.t, () => {
      const i = world.addNode(j.spec)
      truth.addNode(j.spec)
      nodes.push({ phase: 'absent', alive: false, span: null, since: 0, reload: false, token: 0, leftAt: 0 })
      aliveSince.push(NaN)
      at(j.t, tt => startNode(tt, i))
    })
  }
  for (let t = 0.5; t <= script.durationMs; t += s.sampleMs) { const tt = t; q.push(tt, () => truth.sample(tt)) }
  needSlot(0)

  for (let e = q.pop(); e != null; e = q.pop()) {
    if (e.t > script.durationMs) break
    e.run()
  }
  const sum = truth.finish(script.durationMs)

  // Control-plane bytes: every node receives every state-change record and every node's heartbeat,
  // gossipCopies times on average (gossipsub mesh duplicates).
  let aliveMs = 0
  nodes.forEach((n, i) => {
    if (Number.isNaN(aliveSince[i])) return
    aliveMs += (n.alive ? script.durationMs : Math.max(aliveSince[i], n.leftAt)) - aliveSince[i]
  })
  heartbeatMsgs = aliveMs / s.heartbeatMs
  const bytes = (world.publications() * s.recordBytes + heartbeatMsgs * s.heartbeatBytes) * s.gossipCopies
  const bytesPerNodePerSec = bytes / (script.durationMs / 1000)
  const meanLatency = (latency.minMs + latency.maxMs) / 2

  return {
    summary: sum,
    moves,
    duplicateClaims: lost,
    detectMs: detectAt.length > 0 ? detectAt.reduce((a, b) => a + b, 0) / detectAt.length + meanLatency : null,
    bytesPerNodePerSec,
    wallMs: performance.now() - t0,
    extra: { claims, planCalls, healMoves: movesBy.heal ?? 0, rebalanceMoves: movesBy.rebalance ?? 0, lengthOk: nodes.every((n, i) => n.span == null || n.span.end - n.span.start <= usableLength(world.nodes[i].capacity, L)) }
  }
}
