// Scenario scripts: the external events of a run (who starts when, who crashes, leaves or joins),
// generated once per seed and replayed identically for both planners.
import type { ScenarioName } from '../types.ts'
import { stream } from './rng.ts'
import { generateNodes, type NodeSpec, type SwarmMix } from './swarm-gen.ts'

export interface Script {
  scenario: ScenarioName
  initial: NodeSpec[]
  /** 'pending': all nodes start at `starts[i]` with nothing; 'converged': the planner's own layout is in place at t=0. */
  layout: 'pending' | 'converged'
  starts: number[]
  joins: Array<{ t: number, spec: NodeSpec }>
  crashes: Array<{ t: number, peerId: string }>
  leaves: Array<{ t: number, peerId: string }>
  /** Convergence and heal times are measured from here. */
  trigger: number
  durationMs: number
  /** Availability and bottleneck ratio are averaged from here on. */
  measureFrom: number
}

export interface ScriptOptions {
  scenario: ScenarioName
  nodes: number
  blocks: number
  seed: number
  mix: SwarmMix
  tinyShare: number
  durationMs: number
  loadMs: number
  /** Nodes to crash or stop (crash, leave); default 5 % of the swarm, at least 1. */
  kill?: number
  /** Joiners (join); default 10 %. */
  joiners?: number
  /** Spread of process start times in cold start (0 = the same instant). */
  startJitterMs: number
  /** churn: share of the swarm replaced per hour. */
  churnPerHour: number
}

const EVENT_AT = 60_000

function pick<T> (r: () => number, xs: readonly T[], k: number): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    const t = a[i]; a[i] = a[j]; a[j] = t
  }
  return a.slice(0, Math.min(k, a.length))
}

export function buildScript (o: ScriptOptions): Script {
  const initial = generateNodes(o.nodes, o.blocks, o.seed, { mix: o.mix, tinyShare: o.tinyShare })
  const r = stream(o.seed, `script:${o.scenario}`)
  const base: Script = {
    scenario: o.scenario,
    initial,
    layout: 'converged',
    starts: initial.map(() => 0),
    joins: [],
    crashes: [],
    leaves: [],
    trigger: 0,
    durationMs: o.durationMs,
    measureFrom: 0
  }
  const kill = o.kill ?? Math.max(1, Math.round(o.nodes * 0.05))
  switch (o.scenario) {
    case 'cold-start':
      base.layout = 'pending'
      base.starts = initial.map(() => o.startJitterMs > 0 ? Math.floor(r() * o.startJitterMs) : 0)
      // Loads finish around loadMs (±20 %) plus Petals' 0–10 s start sleep.
      base.measureFrom = Math.min(o.durationMs / 2, o.loadMs * 1.2 + 15_000)
      break
    case 'join': {
      const n = o.joiners ?? Math.max(1, Math.round(o.nodes * 0.1))
      const specs = generateNodes(n, o.blocks, o.seed, { mix: o.mix, tinyShare: o.tinyShare, tag: 'j' })
      base.joins = specs.map(spec => ({ t: EVENT_AT + Math.floor(r() * 60_000), spec }))
      base.trigger = EVENT_AT
      break
    }
    case 'crash':
      base.crashes = pick(r, initial, kill).map(n => ({ t: EVENT_AT, peerId: n.peerId }))
      base.trigger = EVENT_AT
      break
    case 'leave':
      base.leaves = pick(r, initial, kill).map(n => ({ t: EVENT_AT, peerId: n.peerId }))
      base.trigger = EVENT_AT
      break
    case 'churn': {
      // Poisson departures (half crash, half leave) and as many fresh joiners, from EVENT_AT on.
      const rate = (o.churnPerHour * o.nodes) / 3_600_000
      const alive = new Set(initial.map(n => n.peerId))
      const joinSpecs = generateNodes(Math.ceil(rate * o.durationMs * 2) + 1, o.blocks, o.seed, { mix: o.mix, tinyShare: o.tinyShare, tag: 'c' })
      let t = EVENT_AT; let ji = 0
      while (rate > 0) {
        t += -Math.log(1 - r()) / (2 * rate)
        if (t >= o.durationMs * 0.8) break
        if (r() < 0.5 && ji < joinSpecs.length) {
          const spec = joinSpecs[ji++]
          base.joins.push({ t, spec })
          alive.add(spec.peerId)
        } else {
          const victims = pick(r, [...alive].sort(), 1)
          if (victims.length === 0) continue
          alive.delete(victims[0])
          if (r() < 0.5) base.crashes.push({ t, peerId: victims[0] }); else base.leaves.push({ t, peerId: victims[0] })
        }
      }
      base.trigger = EVENT_AT
      break
    }
    case 'steady':
    case 'partition':
    case 'discovery':
      break
  }
  return base
}
