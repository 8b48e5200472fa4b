// npx tsx sim/bound/cli.ts [--nodes 20] [--blocks 48] [--seeds 1-6] [--iterations 200000] [--restarts 3] [--mip SECONDS]
//   [--replication 2] [--summary | --crash | --migrate | --join]
// For each seed's heterogeneous swarm (the one `npm run sim` negotiates), prints the planner's joint
// cold-start plan and the best placement a seeded annealing search found, both as bottleneck / bound.
// With --mip, also the placement MIP solved by HiGHS (mip.ts) within SECONDS, with and without the
// replication target: its best placement and its proven bound, and the plan against the tighter of
// the bound (upper-bound.ts: LP relaxation, server counting and pairing) and the proven ones.
// --summary prints one line instead: the joint plans' mean and smallest ratio over the seeds, how many
// are below 0.9, and the time per plan. --crash prints, per seed, what a crash of the simulator's
// victim costs and what the rebalancer wins back (after-crash.ts). --migrate takes the layout the
// crash replay ends with and measures a migration to the survivors' joint plan in waves that never
// uncover a block (migrate.ts; petalmesh does not do this). --join replays a one-by-one join
// for both planners and the rebalancing after it (after-join.ts).
import { parseArgs } from 'node:util'
import { crashVictimIndex, heterogeneous } from '../net/negotiated.ts'
import { effectiveReplication, upperBound, usableLength } from '../../src/protocols/coverage/index.ts'
import { anneal, jointPlan, quality } from './best-known.ts'
import { solvePlacementMip } from './mip.ts'
import { afterCrash, layoutStats } from './after-crash.ts'
import { migrationWaves } from './migrate.ts'
import { afterJoin } from './after-join.ts'

function int (name: string, v: string, min: number): number {
  const x = Number(v)
  if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  return x
}

try {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '20' }, blocks: { type: 'string', default: '48' }, seeds: { type: 'string', default: '1-6' }, iterations: { type: 'string', default: '200000' }, restarts: { type: 'string', default: '3' }, replication: { type: 'string', default: '2' }, mip: { type: 'string' }, summary: { type: 'boolean', default: false }, crash: { type: 'boolean', default: false }, migrate: { type: 'boolean', default: false }, join: { type: 'boolean', default: false } } })
  const N = int('nodes', values.nodes, 1); const L = int('blocks', values.blocks, 1); const R = int('replication', values.replication, 1)
  const [a, b] = values.seeds.split('-').map(s => int('seeds', s, 0))
  const iterations = int('iterations', values.iterations, 0); const restarts = int('restarts', values.restarts, 1)
  const mipSeconds = values.mip == null ? null : int('mip', values.mip, 1)
  if (values.summary) {
    let sum = 0; let min = Infinity; let ms = 0; let n = 0; let met = 0
    const low: string[] = []
    for (let seed = a; seed <= (b ?? a); seed++) {
      const nodes = heterogeneous(seed, N)
      const t0 = performance.now()
      const plan = jointPlan(nodes, L, R)
      ms += performance.now() - t0
      const r = -anneal(nodes, plan, L, R, 0, 0).quality[2] / upperBound(nodes, L)
      const rEff = effectiveReplication(nodes.map(x => usableLength(x.capacity, L)), L, R)
      if (quality(nodes, plan, L, rEff)[1] === 0) met++
      sum += r; min = Math.min(min, r); n++
      if (r < 0.9) low.push(`${seed}: ${r.toFixed(3)}`)
    }
    console.log(`${N} nodes, ${L} blocks, seeds ${a}-${b ?? a}: mean ${(sum / n).toFixed(3)}, min ${min.toFixed(3)} of the bound (LP, counting, pairing), ${low.length} below 0.9${low.length > 0 ? ` (${low.join(', ')})` : ''}, reachable replication met in ${met} of ${n}, ${(ms / n).toFixed(1)} ms per plan`)
    process.exit(0)
  }
  if (values.crash) {
    console.log('| seed | victim | joint plan | after crash + heals (moves) | + moves inside cooldownMs (moves) | after cooldownMs + rebalance (moves) |')
    console.log('|---|---|---|---|---|---|')
    for (let seed = a; seed <= (b ?? a); seed++) {
      const nodes = heterogeneous(seed, N)
      const victim = crashVictimIndex(seed, N)
      const c = afterCrash(nodes, L, R, victim)
      console.log(`| ${seed} | ${victim} | ${c.plan.toFixed(3)} | ${c.healed.toFixed(3)} (${c.healMoves}) | ${c.settled.toFixed(3)} (${c.settleMoves}) | ${c.rebalanced.toFixed(3)} (${c.rebalanceMoves}) |`)
    }
    process.exit(0)
  }
  if (values.migrate) {
    console.log('| seed | after crash + rebalance (fewest servers) | survivors\' joint plan (fewest servers) | nodes to move | waves: moves, bottleneck while reloading → after, blocks below R after |')
    console.log('|---|---|---|---|---|')
    for (let seed = a; seed <= (b ?? a); seed++) {
      const c = afterCrash(heterogeneous(seed, N), L, R, crashVictimIndex(seed, N))
      const m = migrationWaves(c.final, L, R)
      const fewest = layoutStats(c.final, L).minServers
      const waves = m.waves.map(w => `${w.moves}, ${(w.during / c.bound).toFixed(3)} → ${(w.after / c.bound).toFixed(3)}, ${w.thinAfter}`).join('; ')
      console.log(`| ${seed} | ${c.rebalanced.toFixed(3)} (${fewest}) | ${(m.target.min / c.bound).toFixed(3)} (${m.target.minServers}) | ${m.toMove} | ${waves}${m.reached ? '' : '; stuck'} |`)
    }
    process.exit(0)
  }
  if (values.join) {
    console.log('| seed | one-by-one join: petalmesh (fewest servers) | Petals baseline (fewest servers) | petalmesh + moves inside cooldownMs (moves) | petalmesh after cooldownMs + rebalance (moves) |')
    console.log('|---|---|---|---|---|')
    for (let seed = a; seed <= (b ?? a); seed++) {
      const j = afterJoin(heterogeneous(seed, N), L, R)
      console.log(`| ${seed} | ${j.joined.toFixed(3)} (${j.joinedMinServers}) | ${j.petals.toFixed(3)} (${j.petalsMinServers}) | ${j.settled.toFixed(3)} (${j.settleMoves}) | ${j.rebalanced.toFixed(3)} (${j.rebalanceMoves}) |`)
    }
    process.exit(0)
  }
  if (mipSeconds == null) {
    console.log('| seed | bound | planner (joint plan) | best found by search |')
    console.log('|---|---|---|---|')
  } else {
    console.log(`| seed | bound (LP + counting) | planner (joint plan) | best found by search | MIP best (reachable R ≤ ${R}) | MIP proven bound (reachable R / none) | planner / tightest bound |`)
    console.log('|---|---|---|---|---|---|---|')
  }
  for (let seed = a; seed <= (b ?? a); seed++) {
    const nodes = heterogeneous(seed, N)
    const bound = upperBound(nodes, L)
    const plan = jointPlan(nodes, L, R)
    // Zero steps: the plan's own quality.
    const planned = -anneal(nodes, plan, L, R, 0, 0).quality[2]
    let best = planned
    for (let k = 0; k < restarts; k++) best = Math.max(best, -anneal(nodes, plan, L, R, iterations, seed * 1000 + k).quality[2])
    const f = (x: number): string => `${x} (${(x / bound).toFixed(3)})`
    if (mipSeconds == null) {
      console.log(`| ${seed} | ${bound.toFixed(1)} | ${f(planned)} | ${f(best)} |`)
      continue
    }
    // The planner meets the replication the capacities allow, not always R: the MIP asks the same.
    const rEff = effectiveReplication(nodes.map(n => usableLength(n.capacity, L)), L, R)
    const withR = await solvePlacementMip(nodes, L, rEff, mipSeconds)
    const without = await solvePlacementMip(nodes, L, 0, mipSeconds)
    const proven = Math.min(bound, withR.dualBound, without.dualBound)
    const g = (x: number | null): string => x == null ? '–' : x.toFixed(1)
    const st = (m: typeof withR): string => m.status === 'Optimal' ? ' (optimal)' : ''
    console.log(`| ${seed} | ${bound.toFixed(1)} | ${f(planned)} | ${f(best)} | ${g(withR.best)}${st(withR)} | ${g(withR.dualBound)} / ${g(without.dualBound)}${st(without)} | ${(planned / proven).toFixed(3)} |`)
  }
} catch (err) {
  console.error(`error: ${(err as Error).message}`)
  process.exit(2)
}
