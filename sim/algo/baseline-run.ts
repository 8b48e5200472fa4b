// The Petals baseline on the same simulated clock, swarm and gossip delays as petalmesh. Each server
// behaves as Petals' Server.run does: sleep U(0, 10 s), choose_best_blocks on what it has heard,
// announce JOINING, load, go ONLINE, then every U(0, 120 s) run should_choose_other_blocks and, if
// it says so, announce OFFLINE and start over (sleep, choose, reload). Failure detection is the same
// as petalmesh's (the comparison is between planners, not DHT expiry timers).
import {
  petalsChooseBestBlocks, petalsChooseBestStart, petalsShouldChooseOtherFrom, usableLength, type PetalsSpan
} from '../../src/protocols/coverage/index.ts'
import type { NodeState, Span } from '../../src/protocols/types.ts'
import { createQueue } from './events.ts'
import { stream } from './rng.ts'
import type { Script } from './script.ts'
import { createTruth } from './truth.ts'
import { createWorld, type Rec } from './world.ts'
import type { RunnerOutput, RunnerSettings } from './runner-types.ts'

interface BNode {
  alive: boolean
  span: Span | null
  /** Currently announced as JOINING/ONLINE (counts in everyone's throughputs). */
  announced: boolean
  online: boolean
  reload: boolean
  token: number
  aliveSince: number
  goneAt: number
}

const counts = (r: Rec | null): boolean => r != null && r.span != null && (r.state === 'joining' || r.state === 'loading' || r.state === 'online')

export function runBaseline (script: Script, s: RunnerSettings): RunnerOutput {
  const t0 = performance.now()
  const L = s.blocks
  const P = s.petals
  const world = createWorld(L, script.initial, s.latency, s.seed)
  const truth = createTruth([...script.initial], { L, R: s.replication, measureFrom: script.measureFrom, end: script.durationMs, trigger: script.trigger })
  const q = createQueue()
  const rng = stream(s.seed, 'petals')
  const loadRng = stream(s.seed, 'load')
  const nodes: BNode[] = script.initial.map(() => ({ alive: false, span: null, announced: false, online: false, reload: false, token: 0, aliveSince: NaN, goneAt: NaN }))
  // Global JOINING/ONLINE throughput per block (everything published, in flight or not).
  const T = new Float64Array(L)
  let entries = 0
  const passStats = { passes: 0 }
  const reshuffleCache = new Map<number, number>()
  let reshuffles = 0
  let lastReshuffleAt = -Infinity
  let lastReshuffle: number | undefined
  let moves = 0; let duplicates = 0; let reads = 0; let readBytes = 0; let fullChecks = 0; let checks = 0
  const detect: number[] = []
  let currentT = 0
  // Peer-id order of node indices, for should_choose_other_blocks' span list.
  const byPeer: number[] = script.initial.map((_, i) => i).sort((a, b) => (script.initial[a].peerId < script.initial[b].peerId ? -1 : 1))

  const contrib = (i: number, r: Rec | null, sign: 1 | -1, arr: Float64Array): void => {
    if (!counts(r)) return
    const tp = world.nodes[i].throughput
    for (let b = r!.span!.start; b < r!.span!.end; b++) arr[b] += sign * tp
  }
  const publish = (t: number, i: number, state: NodeState, span: Span | null): void => {
    const before = world.records[i]
    contrib(i, before, -1, T)
    if (counts(before)) entries -= before!.span!.end - before!.span!.start
    const rec: Rec = { state, span, since: t, prev: null }
    world.publish(t, i, rec)
    contrib(i, rec, 1, T)
    if (counts(rec)) entries += span!.end - span!.start
    truth.setPlanned(t, i, counts(rec) ? span : null)
  }
  /** What node j has heard: global T with the publications still in flight to j undone. */
  const vbuf = new Float64Array(L)
  const wbuf = new Float64Array(L)
  /** Note: returns a shared buffer, valid until the next call. */
  const viewT = (j: number, now: number): { T: Float64Array, ov: Map<number, Rec | null> } => {
    const v = vbuf
    v.set(T)
    const ov = world.viewOverrides(j, now)
    for (const [p, r] of ov) { contrib(p, world.records[p], -1, v); contrib(p, r, 1, v) }
    reads++; readBytes += entries * P.entryBytes
    return { T: v, ov }
  }
  const loadTime = (reload: boolean): number => (reload ? s.reloadMs : s.loadMs) * (0.8 + 0.4 * loadRng())
  const len = (i: number): number => usableLength(world.nodes[i].capacity, L)

  const start = (t: number, i: number): void => {
    const n = nodes[i]
    n.alive = true; n.aliveSince = t
    truth.setAlive(t, i, true)
    if (len(i) === 0) return // Petals refuses to start without room for one block
    const token = ++n.token
    q.push(t + rng() * 2 * P.meanSelectionDelayMs, () => choose(i, token))
  }

  function choose (i: number, token: number): void {
    const n = nodes[i]
    const t = currentT
    if (!n.alive || n.token !== token) return
    const { T: v } = viewT(i, t)
    const k = len(i)
    const startBlock = petalsChooseBestStart(v, k)
    // A duplicate: with everything already announced in view, Petals would have chosen otherwise.
    if (petalsChooseBestStart(T, k) !== startBlock) duplicates++
    n.span = { start: startBlock, end: startBlock + k }
    n.announced = true
    publish(t, i, 'joining', n.span)
    const reload = n.reload
    q.push(t + loadTime(reload), () => loaded(i, token))
  }

  function loaded (i: number, token: number): void {
    const n = nodes[i]
    const t = currentT
    if (!n.alive || n.token !== token) return
    n.online = true; n.reload = false
    publish(t, i, 'online', n.span)
    truth.setServing(t, i, n.span)
    q.push(t + rng() * 2 * P.meanBalanceCheckMs, () => check(i, token))
  }

  function check (i: number, token: number): void {
    const n = nodes[i]
    const t = currentT
    if (!n.alive || n.token !== token || n.span == null) return
    checks++
    const { T: v, ov } = viewT(i, t)
    const me = n.span
    const k = me.end - me.start
    // The cheap exits of should_choose_other_blocks, then the full re-shuffle only if needed.
    let move = false
    if (P.balanceQuality > 1) move = true
    else {
      const initial = minOf(v)
      const w = wbuf
      w.set(v)
      for (let b = me.start; b < me.end; b++) w[b] -= world.nodes[i].throughput * (1 + 1e-3)
      if (!(initial > 1e-3 && minOf(w) <= 0) && petalsChooseBestStart(w, k) !== me.start) {
        fullChecks++
        const spansInView = (): { spans: PetalsSpan[], local: number } => {
          const spans: PetalsSpan[] = []
          let local = -1
          for (const p of byPeer) {
            const r = ov.has(p) ? ov.get(p)! : world.records[p]
            if (!counts(r)) continue
            if (p === i) local = spans.length
            spans.push({ peerId: world.nodes[p].peerId, start: r!.span!.start, len: r!.span!.end - r!.span!.start, throughput: world.nodes[p].throughput })
          }
          return { spans, local }
        }
        if (!P.shareReshuffle) {
          const { spans, local } = spansInView()
          move = local >= 0 && petalsShouldChooseOtherFrom(v, spans, local, { balanceQuality: P.balanceQuality, rng, maxPasses: P.maxPasses, stats: passStats })
        } else {
          // Big swarms: one re-shuffle estimate per distinct view of the throughputs (JOINING→ONLINE
          // changes nothing Petals reads), shared by every check on that view.
          const key = hashT(v)
          let newT = reshuffleCache.get(key)
          // Very big swarms: also reuse the last estimate for refreshMs of simulated time.
          if (newT == null && P.reshuffleRefreshMs > 0 && t - lastReshuffleAt < P.reshuffleRefreshMs) newT = lastReshuffle
          if (newT == null) {
            lastReshuffleAt = t
            reshuffles++
            const { spans, local } = spansInView()
            const u = Float64Array.from(v)
            if (local >= 0) petalsShouldChooseOtherFrom(u, spans, local, { balanceQuality: 0, rng, maxPasses: P.maxPasses, stats: passStats })
            newT = minOf(u)
            if (reshuffleCache.size > 64) reshuffleCache.clear()
            reshuffleCache.set(key, newT)
            lastReshuffle = newT
          }
          move = newT >= initial && newT >= 1e-3 && initial / newT < P.balanceQuality - 1e-3
        }
      }
    }
    if (!move) {
      q.push(t + rng() * 2 * P.meanBalanceCheckMs, () => check(i, token))
      return
    }
    // "Swarm is imbalanced, server will load other blocks": announce OFFLINE, choose again, reload.
    moves++
    n.online = false; n.announced = false; n.reload = true
    truth.setServing(t, i, null)
    publish(t, i, 'offline', null)
    n.span = null
    const next = ++n.token
    q.push(t + rng() * 2 * P.meanSelectionDelayMs, () => choose(i, next))
  }

  // Initial layout: Petals servers that came up one by one with full information (its best case).
  if (script.layout === 'converged') {
    const order = script.initial.map((_, i) => i)
    const r = stream(s.seed, 'petals-layout')
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); const x = order[i]; order[i] = order[j]; order[j] = x }
    const placed: Array<{ peerId: string, state: 'online', span: Span, capacity: number, throughput: number }> = []
    for (const i of order) {
      const n = nodes[i]
      n.alive = true; n.aliveSince = 0
      truth.setAlive(0, i, true)
      const k = len(i)
      if (k === 0) continue
      const span = petalsChooseBestBlocks({ totalBlocks: L, numBlocks: k, members: placed })
      placed.push({ peerId: script.initial[i].peerId, state: 'online', span, capacity: k, throughput: script.initial[i].throughput })
      n.span = span; n.announced = true; n.online = true
      const rec: Rec = { state: 'online', span, since: -Infinity, prev: null }
      world.records[i] = rec
      contrib(i, rec, 1, T); entries += k
      truth.setPlanned(0, i, span); truth.setServing(0, i, span)
      const token = ++n.token
      q.push(rng() * 2 * P.meanBalanceCheckMs, () => check(i, token))
    }
  } else {
    script.starts.forEach((t, i) => q.push(t, () => start(t, i)))
  }

  for (const c of script.crashes) {
    q.push(c.t, () => {
      const i = world.indexOf(c.peerId)
      if (i < 0 || !nodes[i].alive) return
      const n = nodes[i]
      n.alive = false; n.goneAt = c.t; n.token++
      truth.setAlive(c.t, i, false)
      q.push(c.t + s.detectMs, () => { publish(currentT, i, 'offline', null); detect.push(currentT - c.t) })
    })
  }
  for (const l of script.leaves) {
    q.push(l.t, () => {
      const i = world.indexOf(l.peerId)
      if (i < 0 || !nodes[i].alive) return
      const n = nodes[i]
      n.alive = false; n.goneAt = l.t; n.token++
      publish(l.t, i, 'offline', null) // SIGINT: Petals announces OFFLINE and stops
      truth.setAlive(l.t, i, false)
    })
  }
  for (const j of script.joins) {
    q.push(j.t, () => {
      const i = world.addNode(j.spec)
      truth.addNode(j.spec)
      nodes.push({ alive: false, span: null, announced: false, online: false, reload: false, token: 0, aliveSince: NaN, goneAt: NaN })
      let lo = 0; let hi = byPeer.length
      while (lo < hi) { const mid = (lo + hi) >> 1; if (world.nodes[byPeer[mid]].peerId < j.spec.peerId) lo = mid + 1; else hi = mid }
      byPeer.splice(lo, 0, i)
      start(j.t, i)
    })
  }
  for (let t = 0.5; t <= script.durationMs; t += s.sampleMs) { const tt = t; q.push(tt, () => truth.sample(tt)) }

  for (let e = q.pop(); e != null; e = q.pop()) {
    if (e.t > script.durationMs) break
    currentT = e.t
    e.run()
  }
  const sum = truth.finish(script.durationMs)

  // Control-plane bytes: each choose/check reads all L keys (every JOINING/ONLINE entry comes back,
  // entryBytes each); each server re-announces its keys to `replicasPerKey` DHT nodes every updatePeriod.
  let nodeMs = 0; let announceBytes = 0
  nodes.forEach((n, i) => {
    if (Number.isNaN(n.aliveSince)) return
    const until = n.alive ? script.durationMs : n.goneAt
    nodeMs += until - n.aliveSince
    announceBytes += ((until - n.aliveSince) / P.updatePeriodMs) * len(i) * P.replicasPerKey * P.entryBytes
  })
  const nodeSec = nodeMs / 1000
  const meanLatency = (s.latency.minMs + s.latency.maxMs) / 2
  return {
    summary: sum,
    moves,
    duplicateClaims: duplicates,
    detectMs: detect.length > 0 ? detect.reduce((a, b) => a + b, 0) / detect.length + meanLatency : null,
    bytesPerNodePerSec: nodeSec > 0 ? (readBytes + announceBytes) / nodeSec : 0,
    wallMs: performance.now() - t0,
    extra: { checks, fullChecks, reshuffles, reshufflePasses: passStats.passes, reads }
  }
}

function minOf (a: Float64Array): number {
  let m = Infinity
  for (let b = 0; b < a.length; b++) if (a[b] < m) m = a[b]
  return m
}

const hashView = new Float64Array(1)
const hashBits = new Uint32Array(hashView.buffer)
function hashT (a: Float64Array): number {
  let h = 0x811c9dc5
  for (let b = 0; b < a.length; b++) {
    hashView[0] = a[b]
    h = Math.imul(h ^ hashBits[0], 0x01000193)
    h = Math.imul(h ^ hashBits[1], 0x01000193)
  }
  return h >>> 0
}
