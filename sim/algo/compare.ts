// Side-by-side runs of petalmesh and the Petals baseline on identical seeded swarms.
//   npx tsx sim/algo/compare.ts --nodes 1000 --blocks 80 [--scenarios cold-start,steady,...] [--seed 1]
//        [--duration-ms N] [--heartbeat-ms 5000] [--replication 2] [--min-gain F] [--cooldown-ms N] [--horizon-ms N] [--json]
//        [--seeds A-B]
// --min-gain / --cooldown-ms / --horizon-ms override petalmesh's planner parameters (defaults: DEFAULT_COVERAGE_PARAMS).
// --seeds A-B runs every seed from A to B and prints, per scenario, in how many seeds petalmesh's
// bottleneck ratio is ≥ the baseline's, both medians and means, and both planners' moves.
import { parseArgs } from 'node:util'
import type { SimResult } from '../types.ts'
import type { CoverageParams } from '../../src/protocols/coverage/index.ts'
import { runAlgoScenario } from './index.ts'
import { aheadOnIssueOrder, ORDER_TOLERANCE, replicatedShare } from './issue-order.ts'

function num (name: string, v: string): number {
  const x = Number(v)
  if (!Number.isFinite(x) || x < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`)
  return x
}

const FIELDS: Array<keyof SimResult> = [
  'converged', 'fullCoverageMs', 'replicationMs', 'duplicateClaims', 'moves', 'movesPerNodePerHour',
  'detectMs', 'healMs', 'availability', 'bottleneckRatio', 'bytesPerNodePerSec', 'wallMs'
]

function replication (v: string): number {
  const r = Number(v)
  if (!Number.isInteger(r) || r < 1) throw new Error(`--replication must be an integer >= 1, got ${JSON.stringify(v)}`)
  return r
}

function cell (v: unknown): string {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 4 : 0)
  return String(v)
}

function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

function main (): void {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '200' },
      blocks: { type: 'string', default: '80' },
      seed: { type: 'string', default: '1' },
      scenarios: { type: 'string', default: 'cold-start,steady,join,crash,leave,churn' },
      'duration-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      replication: { type: 'string', default: '2' },
      'min-gain': { type: 'string' },
      'cooldown-ms': { type: 'string' },
      'horizon-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      seeds: { type: 'string' }
    }
  })
  const coverage: Partial<CoverageParams> = {}
  if (values['min-gain'] != null) coverage.minGain = num('min-gain', values['min-gain'])
  if (values['cooldown-ms'] != null) coverage.cooldownMs = num('cooldown-ms', values['cooldown-ms'])
  if (values['horizon-ms'] != null) coverage.horizonMs = num('horizon-ms', values['horizon-ms'])
  const run = (scenario: string, seed: number): SimResult => runAlgoScenario({
    scenario,
    nodes: Number(values.nodes),
    blocks: Number(values.blocks),
    seed,
    baseline: true,
    durationMs: values['duration-ms'] != null ? Number(values['duration-ms']) : undefined,
    heartbeatMs: values['heartbeat-ms'] != null ? Number(values['heartbeat-ms']) : undefined,
    replication: replication(values.replication),
    coverage
  })
  if (values.seeds != null) {
    const m = /^(\d+)-(\d+)$/.exec(values.seeds)
    if (m == null || Number(m[1]) > Number(m[2])) throw new Error(`--seeds must be A-B with A <= B, e.g. 1-40, got ${JSON.stringify(values.seeds)}`)
    for (const scenario of values.scenarios.split(',')) {
      const pm: number[] = []; const pb: number[] = []; const rm: number[] = []; const rb: number[] = []
      let wins = 0; let orderWins = 0; let moves = 0; let baseMoves = 0
      const behind: number[] = []
      for (let seed = Number(m[1]); seed <= Number(m[2]); seed++) {
        const r = run(scenario, seed)
        const a = r.bottleneckRatio ?? 0; const b = r.baseline?.bottleneckRatio ?? 0
        pm.push(a); pb.push(b); if (a >= b) wins++
        rm.push(replicatedShare(r)); rb.push(replicatedShare(r.baseline))
        if (aheadOnIssueOrder(r, r.baseline)) orderWins++; else behind.push(seed)
        moves += r.moves ?? 0; baseMoves += r.baseline?.moves ?? 0
      }
      console.log(`${scenario}: ${values.nodes} nodes, ${values.blocks} blocks, replication ${values.replication}, seeds ${values.seeds}: petalmesh >= baseline in ${wins} of ${pm.length}; median ${median(pm).toFixed(3)} vs ${median(pb).toFixed(3)}; mean ${mean(pm).toFixed(3)} vs ${mean(pb).toFixed(3)}; moves ${moves} vs ${baseMoves}`)
      console.log(`  time at the replication target: mean ${mean(rm).toFixed(3)} vs ${mean(rb).toFixed(3)}; petalmesh ahead or level on the issue's order (availability, then time at the replication target, then bottleneck; shares within ${ORDER_TOLERANCE} are level) in ${orderWins} of ${pm.length}${behind.length > 0 ? ` (behind: seeds ${behind.join(', ')})` : ''}`)
    }
    return
  }
  const results: SimResult[] = []
  for (const scenario of values.scenarios.split(',')) {
    const r = run(scenario, Number(values.seed))
    results.push(r)
    if (!values.json) {
      console.log(`\n${scenario}: ${r.nodes} nodes, ${r.blocks} blocks, seed ${r.seed}, heartbeat ${r.heartbeatMs} ms`)
      console.log(`  ${'field'.padEnd(20)} ${'petalmesh'.padStart(12)} ${'petals'.padStart(12)}`)
      for (const f of FIELDS) console.log(`  ${f.padEnd(20)} ${cell(r[f]).padStart(12)} ${cell(r.baseline?.[f]).padStart(12)}`)
    }
  }
  if (values.json) console.log(JSON.stringify(results))
}

try {
  main()
} catch (err) {
  console.error(`error: ${(err as Error).message}`)
  process.exit(2)
}
